/**
 * `npm run bench:ui`: how long each prebuilt dashboard takes to be fully
 * drawn in Chromium over 7 days of demo data (as `npm start` writes them:
 * history at 10 % density, the last hour at full density). Per dashboard:
 * a cold load (new page, empty answer cache), a warm revisit inside the
 * app within the cache window, and the same dashboard over the last 7 days.
 * Prints a table against the 1.5 s target; asserts nothing.
 */
import Table from 'cli-table3';
import type { Page } from 'playwright-core';
import { prebuiltDashboards } from '../src/analytics/prebuilt-dashboards.ts';
import { pipelineSink } from '../src/cli/demo.ts';
import { backfill } from '../src/demo/demo-runner.ts';
import { ShopSimulator } from '../src/demo/shop-simulator.ts';
import { ensureUiBuilt, launchChromium } from '../test/helpers/browser.ts';
import { startTestServer } from '../test/helpers/server.ts';

/** True in the page when every panel shows its outcome: a drawn chart, a number, a table, "no data" or an error. */
const DRAWN = `[...document.querySelectorAll('.panel-body')].every((p) => !p.textContent?.includes('Loading') &&
  p.querySelector('canvas, [data-testid=stat], [data-testid=result-table], [data-testid=panel-empty], [data-testid=panel-error]'))`;

const TARGET_MS = 1500;
const HOUR_MS = 3_600_000;

async function drawn(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid=panel]');
  await page.waitForFunction(DRAWN, null, { timeout: 60_000 });
}

async function main(): Promise<void> {
  ensureUiBuilt();
  const server = await startTestServer();
  const now = Date.now();
  const sink = pipelineSink(server.server.context.pipeline);
  const started = performance.now();
  const a = await backfill(new ShopSimulator({ seed: 42, trafficScale: 0.1, infraIntervalMs: 300_000 }), sink, {
    fromMs: now - 7 * 24 * HOUR_MS,
    toMs: now - HOUR_MS,
  });
  const b = await backfill(new ShopSimulator({ seed: 43, trafficScale: 1, infraIntervalMs: 60_000 }), sink, {
    fromMs: now - HOUR_MS,
    toMs: now - 1000,
  });
  // Steady state, as a few seconds after `npm start`: the rollup job has folded the backfilled days.
  for (let caughtUp = false; !caughtUp;) ({ caughtUp } = await server.server.context.store.rollUp());
  console.log(
    `${(a.accepted + b.accepted).toLocaleString()} demo events over 7 days loaded and rolled up in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const browser = await launchChromium();
  const table = new Table({
    head: ['dashboard', 'panels', 'cold load', 'warm revisit', 'last 7 days', `≤ ${TARGET_MS} ms`],
  });
  try {
    for (const d of prebuiltDashboards()) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      let queries = 0;
      page.on('request', (r) => r.url().includes('/api/v1/') && r.method() === 'POST' && queries++);
      let t = performance.now();
      await page.goto(`${server.url}/dashboards/${d.id}`);
      await drawn(page);
      const cold = performance.now() - t;
      const coldQueries = queries;
      // Leave and come back inside the app: identical panel queries come from the answer cache.
      await page.click('nav >> text=Dashboards');
      await page.waitForSelector('.card');
      t = performance.now();
      await page.click(`.card >> text=${d.title}`);
      await drawn(page);
      const warm = performance.now() - t;
      const warmQueries = queries - coldQueries;
      t = performance.now();
      await page.goto(`${server.url}/dashboards/${d.id}?from=now-7d&to=now`);
      await drawn(page);
      const week = performance.now() - t;
      await page.close();
      const ms = (x: number) => `${Math.round(x)} ms`;
      table.push([
        d.id,
        d.panels.length,
        `${ms(cold)} (${coldQueries} requests)`,
        `${ms(warm)} (${warmQueries} requests)`,
        ms(week),
        Math.max(cold, week) <= TARGET_MS ? 'yes' : 'NO',
      ]);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(table.toString());
}

await main();
