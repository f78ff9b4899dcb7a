/**
 * The web UI in a real browser (Debian's Chromium through playwright-core)
 * over a real server with a day of demo shop data: every prebuilt dashboard
 * draws every panel, the time range drives the queries and the URL, Explore
 * shows a syntax error at its position, and export → import round-trips;
 * Explore and Alerts fit a phone, an unknown field is flagged with a fix,
 * and a stats result is charted and saved as a panel.
 * Screenshots of each dashboard (1280 px and 390 px) go to /tmp/shoplens-shots/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { prebuiltDashboards } from '../../src/analytics/prebuilt-dashboards.ts';
import { query, startTestServer, testDataDir, type TestServer } from '../helpers/server.ts';
import { loadDemoDay } from './demo-data.ts';
import { ensureUiBuilt, hasChromium, launchChromium } from '../helpers/browser.ts';

/** True in the page when every panel shows its outcome: a drawn chart, a number, a table, "no data" or an error. */
const DRAWN = `[...document.querySelectorAll('.panel-body')].every((p) => !p.textContent?.includes('Loading') &&
  p.querySelector('canvas, [data-testid=stat], [data-testid=result-table], [data-testid=panel-empty], [data-testid=panel-error]'))`;

const BROWSER = hasChromium('the browser tests');
const SHOTS = '/tmp/shoplens-shots';

/** How far the page is wider than its window (a horizontal scrollbar); 0 when it fits. */
const PAGE_OVERFLOW = 'document.documentElement.scrollWidth - window.innerWidth';
/** How far the widest table runs past its box (a scrollbar under the table: columns out of sight). */
const TABLE_OVERFLOW = `Math.max(0, ...[...document.querySelectorAll('.table-wrap')].map((w) => w.scrollWidth - w.clientWidth))`;

/** Waits until no panel is loading, then returns what each panel shows. */
async function panelStates(page: Page) {
  await page.waitForSelector('[data-testid=panel]');
  await page.waitForFunction(DRAWN, null, { timeout: 20_000 });
  return page.$$eval('[data-testid=panel]', (panels) =>
    panels.map((p) => ({
      id: p.getAttribute('data-panel-id'),
      canvas: p.querySelector('canvas') !== null,
      stat: p.querySelector('[data-testid=stat]')?.textContent ?? '',
      tableRows: p.querySelectorAll('[data-testid=result-table] tbody tr').length,
      empty: p.querySelector('[data-testid=panel-empty]') !== null,
      error: p.querySelector('[data-testid=panel-error]')?.textContent ?? '',
    })),
  );
}

describe('web UI in Chromium', { skip: !BROWSER }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    ensureUiBuilt();
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer({}, testDataDir());
    await loadDemoDay(server);
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists the prebuilt dashboards at /', async () => {
    await page.goto(server.url);
    await page.waitForSelector('.card');
    const titles = await page.$$eval('.card h2', (h) => h.map((x) => x.textContent));
    assert.deepEqual(
      titles,
      prebuiltDashboards().map((d) => d.title),
    );
  });

  for (const dashboard of prebuiltDashboards()) {
    it(`draws every panel of "${dashboard.title}" with data`, async () => {
      const started = Date.now();
      await page.goto(`${server.url}/dashboards/${dashboard.id}`);
      const states = await panelStates(page);
      const drawnMs = Date.now() - started;
      assert.equal(states.length, dashboard.panels.length);
      const titles = await page.$$eval('[data-testid=panel] h3', (h) => h.map((x) => x.textContent));
      assert.equal(new Set(titles).size, titles.length, `two panels share a title: ${titles.join(' | ')}`);
      for (const s of states) {
        assert.equal(s.error, '', `${dashboard.id}/${s.id} shows an error`);
        assert.equal(s.empty, false, `${dashboard.id}/${s.id} says it has no data`);
        assert.ok(s.canvas || /\d/.test(s.stat) || s.tableRows > 0, `${dashboard.id}/${s.id} draws nothing`);
      }
      await page.waitForTimeout(150);
      await page.screenshot({ path: join(SHOTS, `${dashboard.id}-1280.png`), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(250);
      await page.screenshot({ path: join(SHOTS, `${dashboard.id}-390.png`), fullPage: true });
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
      await page.setViewportSize({ width: 1280, height: 900 });
      assert.ok(overflow <= 0, `${dashboard.id} is ${overflow} px wider than a 390 px phone`);
      console.log(`# ${dashboard.id}: ${states.length} panels drawn in ${drawnMs} ms`);
    });
  }

  it('puts a new time range in the URL and in every query', async () => {
    await page.goto(`${server.url}/dashboards/checkout`);
    await panelStates(page);
    const ranges: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/v1/query')) ranges.push(JSON.parse(r.postData() ?? '{}').from);
    });
    await page.selectOption('[data-testid=range-select]', 'now-24h');
    await panelStates(page);
    assert.match(page.url(), /[?&]from=now-24h/);
    assert.ok(ranges.length >= 5, `${ranges.length} queries after the change`);
    assert.deepEqual([...new Set(ranges)], ['now-24h']);
    // The link reproduces the view.
    await page.goto(page.url());
    assert.equal(await page.inputValue('[data-testid=range-select]'), 'now-24h');
  });

  it('serves a second user opening the same dashboard from the server cache', async () => {
    const sources = async (p: Page): Promise<string[]> => {
      const answers: Promise<string>[] = [];
      p.on('response', (r) => {
        if (r.url().endsWith('/api/v1/query'))
          answers.push(r.json().then((a: { stats: { cached?: string } }) => a.stats.cached ?? 'fresh'));
      });
      await p.goto(`${server.url}/dashboards/sales?from=now-2h&to=now`);
      await panelStates(p);
      return Promise.all(answers);
    };
    const first = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const second = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      const a = await sources(first);
      const b = await sources(second);
      assert.ok(a.length >= 5 && b.length === a.length, `${a.length} then ${b.length} panel queries`);
      // The second user's identical panel queries, a moment later, are not run again.
      assert.deepEqual(new Set(b), new Set(['hit']), b.join(', '));
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('drills down from a panel to Explore with its query and range', async () => {
    await page.goto(`${server.url}/dashboards/payments?from=now-1h&to=now`);
    await panelStates(page);
    await page.locator('[data-panel-id=fail-gateway] button', { hasText: 'Explore' }).click();
    await page.waitForSelector('[data-testid=result-table]');
    const url = new URL(page.url());
    assert.equal(url.pathname, '/explore');
    assert.equal(url.searchParams.get('from'), 'now-1h');
    assert.match(url.searchParams.get('q') ?? '', /transaction.gateway/);
    const gateways = await page.$$eval('[data-testid=result-table] tbody tr td:first-child', (c) =>
      c.map((x) => x.textContent),
    );
    // The gateways the panel's query finds in the last hour, asked of the API (which of the three had
    // payments in the hour depends on the time of day the test runs: the demo shop is quiet at night).
    const expected = await query(server.url, url.searchParams.get('q') ?? '', { from: 'now-1h', to: 'now' });
    assert.equal(expected.status, 200);
    assert.ok(expected.json.rows.length > 0, 'the hour holds payments');
    assert.deepEqual([...gateways].sort(), expected.json.rows.map((r: unknown[]) => String(r[0])).sort());
  });

  it('links each page to the reference text that explains it, and the text is served', async () => {
    const expected: Record<string, string> = {
      '/dashboards': '/docs/web-ui.md',
      '/explore': '/docs/query-language.md',
      '/alerts': '/docs/alerting.md',
      '/admin': '/docs/security.md',
    };
    for (const [path, href] of Object.entries(expected)) {
      await page.goto(`${server.url}${path}`);
      const link = page.locator('a.docs-link');
      await link.waitFor();
      assert.equal(await link.getAttribute('href'), href, path);
      const doc = await fetch(`${server.url}${href}`);
      assert.equal(doc.status, 200, href);
      assert.match(await doc.text(), /<h1 id="/);
    }
  });

  it('shows a syntax error in Explore at its position', async () => {
    await page.goto(`${server.url}/explore?from=now-1h`);
    const query = 'event.type:payment_transaction AND | stats count()';
    await page.fill('[data-testid=query-input]', query);
    await page.press('[data-testid=query-input]', 'Enter');
    const error = page.locator('[data-testid=query-error]');
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /query\.syntax/);
    const caret = page.locator('[data-testid=query-error-caret]');
    const position = Number(await caret.getAttribute('data-position'));
    assert.equal(position, query.indexOf('|'));
    const lines = ((await caret.textContent()) ?? '').split('\n');
    assert.equal(lines[1]?.indexOf('^'), query.indexOf('|'));
  });

  it('searches events in Explore: histogram, expandable JSON, and field filters', async () => {
    await page.goto(`${server.url}/explore?from=now-1h&q=${encodeURIComponent('event.type:payment_transaction')}`);
    await page.waitForSelector('[data-testid=histogram] canvas');
    await page.locator('[data-testid=result-table] tbody tr.expandable').first().click();
    const json = JSON.parse((await page.locator('[data-testid=event-json]').textContent()) ?? '{}');
    assert.equal(json.event.type, 'payment_transaction');
    await page.locator('[data-testid=field-sidebar] summary', { hasText: /^transaction\.gateway$/ }).click();
    await page.locator('[data-testid=field-sidebar] button', { hasText: 'stripe' }).click();
    await page.waitForFunction(
      `new URL(location.href).searchParams.get('q')?.includes('transaction.gateway:"stripe"')`,
    );
    await page.waitForSelector('[data-testid=result-table]');
    const sources = await page.$$eval('[data-testid=result-table] tbody tr.expandable', (r) => r.length);
    assert.ok(sources > 0);
    await page.screenshot({ path: join(SHOTS, 'explore-1280.png'), fullPage: true });
  });

  it('exports a dashboard to JSON and imports it back unchanged', async () => {
    await page.goto(`${server.url}/dashboards/sales`);
    await panelStates(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Export JSON')]);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    const original = ((await (await fetch(`${server.url}/api/v1/dashboards/sales`)).json()) as any).dashboard;
    assert.deepEqual(exported, original);

    const copy = { ...exported, id: 'sales-imported', title: 'Sales (imported)' };
    const file = join(testDataDir(), 'sales-imported.json');
    writeFileSync(file, JSON.stringify(copy));
    await page.goto(`${server.url}/dashboards`);
    await page.setInputFiles('[data-testid=import-file]', file);
    await page.waitForURL(/\/dashboards\/sales-imported$/);
    const states = await panelStates(page);
    assert.equal(states.length, exported.panels.length);
    assert.ok(states.every((s) => s.error === '' && !s.empty));
    const stored = ((await (await fetch(`${server.url}/api/v1/dashboards/sales-imported`)).json()) as any).dashboard;
    assert.deepEqual(stored, copy);
  });

  it('edits a dashboard: retitles, resizes and removes a panel, then saves', async () => {
    await page.goto(`${server.url}/dashboards/sales-imported`);
    await panelStates(page);
    await page.click('text=Edit');
    const first = page.locator('[data-testid=panel]').first();
    await first.locator('input[aria-label="Panel title"]').fill('Revenue by region');
    await first.locator('button[aria-label=Wider]').click();
    await page.locator('[data-testid=panel]').last().locator('button', { hasText: 'Remove' }).click();
    await page.click('button:has-text("Save")');
    await page.waitForSelector('button:has-text("Edit")');
    const stored = ((await (await fetch(`${server.url}/api/v1/dashboards/sales-imported`)).json()) as any).dashboard;
    assert.equal(stored.panels[0].title, 'Revenue by region');
    assert.equal(stored.panels[0].w, 7);
    assert.equal(stored.panels.length, 5);
    assert.deepEqual(pageErrors, []);
  });

  it('shows DAU / MAU as the share of 30-day actives, with both counts under it', async () => {
    await page.goto(`${server.url}/dashboards/executive`);
    await panelStates(page);
    const tile = page.locator('[data-panel-id=dau-mau]');
    assert.match((await tile.locator('.stat-value').textContent()) ?? '', /^\d+(\.\d+)?%$/);
    assert.match((await tile.locator('[data-testid=stat-counts]').textContent()) ?? '', /^[\d,]+ of [\d,]+$/);
  });

  for (const width of [390, 1280]) {
    it(`fits Explore and Alerts in ${width} px without horizontal scrolling`, async () => {
      const narrow = await browser.newPage({ viewport: { width, height: 844 } });
      try {
        const events = `${server.url}/explore?from=now-1h&q=${encodeURIComponent('event.type:payment_transaction')}`;
        const stats = `${server.url}/explore?from=now-1h&q=${encodeURIComponent('* | stats count() by service.name')}`;
        // An events table may scroll sideways inside its box (it has a column per field);
        // the alert and rule tables must show every column.
        for (const [url, ready, tablesFit] of [
          [events, '[data-testid=result-table] tbody tr', false],
          [stats, '[data-testid=result-table] tbody tr', true],
          [`${server.url}/alerts`, '[data-testid=rules-table] tbody tr', true],
        ] as const) {
          await narrow.goto(url);
          await narrow.waitForSelector(ready);
          await narrow.waitForTimeout(200);
          const name = new URL(url).pathname.slice(1);
          await narrow.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
          const overflow = Number(await narrow.evaluate(PAGE_OVERFLOW));
          assert.ok(overflow <= 0, `${url} is ${overflow} px wider than a ${width} px window`);
          const hidden = tablesFit ? Number(await narrow.evaluate(TABLE_OVERFLOW)) : 0;
          assert.ok(hidden <= 0, `a table on ${url} runs ${hidden} px past its box at ${width} px`);
        }
      } finally {
        await narrow.close();
      }
    });
  }

  it('flags a misspelt field in Explore and fixes the query with the suggestion', async () => {
    // Needs the server's `warnings` in the query answer (query.unknown_field).
    const query = 'event.type:payment_transaction AND transaction.gatway:stripe';
    await page.goto(`${server.url}/explore?from=now-1h&q=${encodeURIComponent(query)}`);
    const warning = page.locator('[data-testid=query-warning]');
    await warning.waitFor();
    const text = (await warning.textContent()) ?? '';
    assert.match(text, /^Unknown field transaction\.gatway — did you mean transaction\.gateway\b.*\?$/);
    await warning.locator('[data-testid=query-suggestion]', { hasText: /^transaction\.gateway$/ }).click();
    await page.waitForFunction(
      `new URL(location.href).searchParams.get('q') === 'event.type:payment_transaction AND transaction.gateway:stripe'`,
    );
    await page.waitForSelector('[data-testid=result-table] tbody tr');
    assert.equal(await page.locator('[data-testid=query-warning]').count(), 0);
  });

  it('flags a misspelt field in the panel editor and fixes the panel query with the suggestion', async () => {
    // Needs the server's `warnings` in the query answer (query.unknown_field).
    const dashboard = {
      id: 'typo',
      title: 'Typo',
      panels: [
        {
          id: 'p1',
          title: 'Stripe outcomes',
          type: 'bar',
          query: 'transaction.gatway:stripe | stats count() by event.outcome',
          w: 6,
          h: 3,
        },
      ],
    };
    const put = await fetch(`${server.url}/api/v1/dashboards/typo`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(dashboard),
    });
    assert.equal(put.status, 200);
    await page.goto(`${server.url}/dashboards/typo?edit=1`);
    const editor = page.locator('[data-testid=panel-editor]');
    await editor.locator('[data-testid=query-warning]').waitFor();
    await editor.locator('[data-testid=query-suggestion]', { hasText: /^transaction\.gateway$/ }).click();
    assert.equal(
      await editor.locator('textarea[aria-label="Panel query"]').inputValue(),
      'transaction.gateway:stripe | stats count() by event.outcome',
    );
    await page.waitForSelector('[data-testid=panel] canvas');
    assert.equal(await editor.locator('[data-testid=query-warning]').count(), 0);
    await page.click('button:has-text("Save")');
    await page.waitForSelector('button:has-text("Edit")');
    const stored = ((await (await fetch(`${server.url}/api/v1/dashboards/typo`)).json()) as any).dashboard;
    assert.equal(stored.panels[0].query, 'transaction.gateway:stripe | stats count() by event.outcome');
  });

  it('charts a stats result as bars in Explore and saves it as a panel on a dashboard', async () => {
    const query = 'event.type:payment_transaction | stats count() as payments by transaction.gateway';
    await page.goto(`${server.url}/explore?from=now-1h&q=${encodeURIComponent(query)}`);
    await page.waitForSelector('[data-testid=result-table] tbody tr');
    assert.equal(await page.isDisabled('[data-testid=view-line]'), true, 'a line needs a time column');
    await page.click('[data-testid=view-bar]');
    await page.waitForSelector('[data-testid=explore-chart] canvas');
    assert.equal(new URL(page.url()).searchParams.get('view'), 'bar');
    assert.equal(await page.locator('[data-testid=result-table]').count(), 0);

    await page.click('[data-testid=save-panel]');
    const form = page.locator('[data-testid=save-panel-form]');
    await form.locator('input[aria-label="Panel title"]').fill('Payments per gateway');
    await form.locator('select[aria-label=Dashboard]').selectOption('sales-imported');
    await form.locator('button[type=submit]').click();
    await page.waitForURL(/\/dashboards\/sales-imported$/);
    const states = await panelStates(page);
    const saved = states.at(-1);
    assert.equal(states.length, 6);
    assert.ok(saved?.canvas && saved.error === '' && !saved.empty, JSON.stringify(saved));
    const last = page.locator('[data-testid=panel]').last();
    assert.equal(await last.locator('h3').textContent(), 'Payments per gateway');
    const stored = ((await (await fetch(`${server.url}/api/v1/dashboards/sales-imported`)).json()) as any).dashboard;
    assert.deepEqual(
      { title: stored.panels[5].title, type: stored.panels[5].type, query: stored.panels[5].query },
      { title: 'Payments per gateway', type: 'bar', query },
    );
    assert.deepEqual(pageErrors, []);
  });
});
