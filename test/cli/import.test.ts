/**
 * `shoplens demo --export-csv` then `shoplens import` end to end: the sales
 * questions (sales by region, customers per tier, purchases per device)
 * answered through the query language from the imported files, and checked
 * against answers computed straight from the CSV files' columns.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { expandPanel } from '../../web/src/dashboard-variables.ts';
import { prebuiltDashboards } from '../../src/analytics/prebuilt-dashboards.ts';
import { pipelineSink } from '../../src/cli/demo-sinks.ts';
import { openStore } from '../../src/cli/serve.ts';
import { loadConfig } from '../../src/config.ts';
import { exportShopCsv } from '../../src/demo/csv-export.ts';
import { backfill } from '../../src/demo/demo-runner.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import { runQuery } from '../../src/store/query-service.ts';
import type { Store } from '../../src/store/store.ts';
import { query as httpQuery, startTestServer, testDataDir } from '../helpers/server.ts';
import { shoplens } from '../helpers/cli.ts';

const ALL_TIME = { from: '2000-01-01T00:00:00Z', to: 'now+1d' };

/** Data rows of an exported file split on commas, like `awk -F','` (no exported field holds a comma). */
function csvRows(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','));
}

function tally(rows: string[][], key: number, value?: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    const k = r[key] as string;
    out.set(k, (out.get(k) ?? 0) + (value === undefined ? 1 : Number(r[value])));
  }
  return out;
}

function assertSameTotals(actual: Map<string, number>, expected: Map<string, number>, tolerance = 0): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [k, v] of expected) {
    const got = actual.get(k) as number;
    assert.ok(Math.abs(got - v) <= tolerance, `${k}: expected ${v}, got ${got}`);
  }
}

function answerMap(rows: readonly (readonly unknown[])[]): Map<string, number> {
  return new Map(rows.map((r) => [String(r[0]), Number(r[1])]));
}

describe('shoplens import (orders, customers and clickstream CSV files)', () => {
  let root: string;
  let csvDir: string;
  let dataDir: string;
  const file = (name: string) => join(csvDir, `${name}.csv`);

  before(async () => {
    root = testDataDir();
    csvDir = join(root, 'csv');
    dataDir = join(root, 'data');
    await exportShopCsv(csvDir, { seed: 42, endMs: Math.floor(Date.now() / 86_400_000) * 86_400_000 });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('imports all three files with the CLI; importing orders again does not double-count', async () => {
    const countOrders = async () => {
      const r = await shoplens([
        'query',
        '_index:import-orders | stats count() as n, sum(transaction.amount) as sales',
        '--data-dir',
        dataDir,
        '--from',
        ALL_TIME.from,
        '--to',
        ALL_TIME.to,
        '--format',
        'json',
      ]);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as [{ n: number; sales: number }];
    };
    const first = await shoplens(['import', 'orders', file('orders'), '--data-dir', dataDir]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(
      first.stdout,
      /^Imported 50000 orders rows from .*orders\.csv in [\d.]+ s \(\d+ rows\/s\); 0 rejected\n$/,
    );
    // Not a terminal: progress comes as lines about every 10 %, with rows/s.
    assert.match(first.stderr, /orders\.csv: 100% \| 50000 rows \| \d+ rows\/s \| 0 rejected/);
    const once = await countOrders();
    assert.equal(once[0].n, 50_000);

    const second = await shoplens(['import', 'orders', file('orders'), '--data-dir', dataDir]);
    assert.equal(second.status, 0, second.stderr);
    const twice = await countOrders();
    assert.equal(twice[0].n, 50_000);
    assert.ok(Math.abs(twice[0].sales - once[0].sales) < 0.01);

    for (const kind of ['customers', 'clickstream'] as const) {
      const r = await shoplens(['import', kind, file(kind), '--data-dir', dataDir]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(`Imported ${kind === 'customers' ? 5000 : 200000} ${kind} rows .*; 0 rejected`),
      );
    }
  });

  describe('the sales questions, from the imported data', () => {
    let store: Store;
    const ask = async (q: string) =>
      (await runQuery(store, { query: q, ...ALL_TIME, tenant: 'default', timeoutMs: 60_000 })).rows;

    before(async () => {
      store = await openStore(loadConfig({ env: {}, flags: { dataDir } }));
    });
    after(async () => {
      await store.close();
    });

    it('sales by region: the sum of total_amount per region, as summed straight from orders.csv', async () => {
      const orders = csvRows(file('orders'));
      const rows = await ask('_index:import-orders | stats sum(transaction.amount) as sales by customer.region');
      assertSameTotals(answerMap(rows), tally(orders, 9, 6), 0.005);
      // Only COMPLETED orders are order_completed events.
      const completed = await ask(
        '_index:import-orders and event.type:order_completed | stats sum(transaction.amount) as sales by customer.region',
      );
      assertSameTotals(
        answerMap(completed),
        tally(
          orders.filter((r) => r[8] === 'COMPLETED'),
          9,
          6,
        ),
        0.005,
      );
      const statuses = await ask('_index:import-orders | stats count() as n by order.status');
      assertSameTotals(answerMap(statuses), tally(orders, 8));
    });

    it('customers per tier, as counted straight from customers.csv', async () => {
      const rows = await ask('event.type:customer_profile | stats count() as customers by customer.tier');
      assertSameTotals(answerMap(rows), tally(csvRows(file('customers')), 8));
      const platinum = await ask('event.type:customer_profile and customer.tier:PLATINUM | stats count() as n');
      assert.equal(Number(platinum[0]?.[0]), tally(csvRows(file('customers')), 8).get('PLATINUM'));
    });

    it('purchases per device, as counted straight from clickstream.csv', async () => {
      const clicks = csvRows(file('clickstream'));
      const rows = await ask(
        '_index:import-clickstream and event.type:order_completed | stats count() as purchases by session.device_type',
      );
      const expected = tally(
        clicks.filter((r) => r[3] === 'PURCHASE'),
        6,
      );
      assertSameTotals(answerMap(rows), expected);
      assert.ok([...expected.values()].every((n) => n > 0));
      const all = await ask('_index:import-clickstream | stats count() as n');
      assert.equal(Number(all[0]?.[0]), 200_000);
    });
  });

  it('lists rejected rows by line number and reason, keeps the good rows, and exits with 2', async () => {
    const dir = join(root, 'bad');
    mkdirSync(dir);
    const bad = join(dir, 'customers.csv');
    writeFileSync(
      bad,
      [
        'customer_id,first_name,last_name,email,city,region,signup_date,lifetime_value,tier',
        'CUST00001,John,Smith,john.smith1@example.com,New York,US-EAST,2023-05-12,3456.78,GOLD',
        'CUST00002,Emily,Johnson,emily.johnson2@example.com,London,EU-WEST,2022-11-23,lots,PLATINUM',
        'CUST00003,Emily,Johnson,not-an-email,London,EU-WEST,2022-11-23,10,BRONZE',
        'CUST00004,Emily,Johnson,emily.johnson4@example.com,London,EU-WEST,2022-11-23,10,BRONZE',
        '',
      ].join('\n'),
    );
    const r = await shoplens(['import', 'customers', bad, '--data-dir', join(dir, 'data')]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^line 3: lifetime_value is not a number$/m);
    assert.match(r.stderr, /^line 4: email is not an email address$/m);
    assert.match(r.stdout, /Imported 2 customers rows .*; 2 rejected/);

    const header = await shoplens(['import', 'orders', bad, '--data-dir', join(dir, 'data')]);
    assert.equal(header.status, 1);
    assert.match(header.stderr, /error: orders CSV header does not match: missing order_id, product_id/);
  });

  it('keeps imported orders apart on the Sales dashboard by default; its Source picks them', async () => {
    const server = await startTestServer();
    try {
      // A running demo: the last 6 hours of shop traffic.
      const nowMs = Date.now();
      const simulator = new ShopSimulator({ seed: 5, trafficScale: 0.5, infraIntervalMs: 300_000 });
      const demo = await backfill(simulator, pipelineSink(server.server.context.pipeline), {
        fromMs: nowMs - 6 * 3_600_000,
        toMs: nowMs - 1000,
      });
      assert.ok(demo.accepted > 1000 && demo.rejected === 0, `${demo.accepted} demo events`);
      const sales = prebuiltDashboards().find((d) => d.id === 'sales')!;
      const ranges = [ALL_TIME, sales.range!];
      const answers = async (source?: string) => {
        const out: Record<string, unknown> = {};
        for (const range of ranges)
          for (const panel of sales.panels) {
            const q = expandPanel(panel, sales, { source }).query!;
            const r = await httpQuery(server.url, q, range);
            assert.equal(r.status, 200, `${panel.id}: ${JSON.stringify(r.json)}`);
            out[`${panel.id} ${range.from}`] = r.json.rows;
          }
        return out;
      };
      const before = await answers();
      const sold = (before[`sales-region ${ALL_TIME.from}`] as unknown[][]).reduce((n, r) => n + Number(r[1]), 0);
      assert.ok(sold > 0, 'the demo sold something');

      const imported = await shoplens(['import', 'orders', file('orders'), '--url', server.url]);
      assert.equal(imported.status, 0, imported.stderr);
      assert.match(imported.stdout, /Imported 50000 orders rows/);

      // By default (and with "live" picked) every Sales panel answers what it answered before the import.
      assert.deepEqual(await answers(), before);
      assert.deepEqual(await answers('live'), before);
      // "All events" mixes them: the import did land where the dashboard looks.
      const all = await answers('all');
      assert.notDeepEqual(all[`sales-region ${ALL_TIME.from}`], before[`sales-region ${ALL_TIME.from}`]);

      // "Imported CSV files" gives the CSV's own sums, as summing orders.csv's total_amount per region does.
      const orders = csvRows(file('orders'));
      const pick = (id: string) =>
        expandPanel(
          sales.panels.find((p) => p.id === id)!,
          sales,
          { source: 'import' },
        ).query!;
      const byRegion = await httpQuery(server.url, pick('sales-region'), ALL_TIME);
      assertSameTotals(
        answerMap(byRegion.json.rows),
        tally(
          orders.filter((r) => r[8] === 'COMPLETED'),
          9,
          6,
        ),
        0.005,
      );
      const byStatus = await httpQuery(server.url, pick('order-status'), ALL_TIME);
      assertSameTotals(answerMap(byStatus.json.rows), tally(orders, 8));
    } finally {
      await server.close();
    }
  });

  it('imports over HTTP with --url (Elasticsearch _bulk), idempotently', async () => {
    const server = await startTestServer();
    try {
      for (let i = 0; i < 2; i++) {
        const r = await shoplens(['import', 'customers', file('customers'), '--url', server.url]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /Imported 5000 customers rows/);
      }
      const answer = await httpQuery(
        server.url,
        'event.type:customer_profile | stats count() as customers by customer.tier',
        ALL_TIME,
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      const rows = (answer.json as { rows: unknown[][] }).rows;
      assertSameTotals(answerMap(rows), tally(csvRows(file('customers')), 8));
    } finally {
      await server.close();
    }
  });
});
