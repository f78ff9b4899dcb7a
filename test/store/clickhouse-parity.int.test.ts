/**
 * The same events in DuckDB and in a real ClickHouse server answer the same
 * queries the same: filters (typed fields, attributes, wildcards, free text,
 * arrays, negation), stats by keys, percentiles, time buckets, counts,
 * later stages, event searches with their `_source`, funnels and the
 * unknown-field check. A few answers are also checked against counts made
 * here from the fixtures, so that two equally wrong engines would fail too.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parseQuery } from '../../src/query/index.ts';
import type { EventRecord } from '../../src/schema/record.ts';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.ts';
import type { QueryResult, Store } from '../../src/store/store.ts';
import { clickhouseAvailable, startClickHouse, type TestClickHouse } from '../helpers/clickhouse-server.ts';
import { mulberry32 } from '../helpers/rng.ts';
import { testDataDir } from '../helpers/server.ts';

const available = clickhouseAvailable('ClickHouse store parity tests');

const BASE_MS = Date.parse('2025-03-04T00:00:00Z');
const HOUR = 3_600_000;
const RANGE = { fromMs: BASE_MS, toMs: BASE_MS + 6 * HOUR };
const SERVICES = ['checkout', 'catalog', 'payments', 'search'] as const;
const TYPES = ['api_request', 'page_view', 'order_completed', 'payment_failed'] as const;
const ROUTES = ['/api/cart', '/api/checkout', '/api/search', '/api/pay'] as const;

/** 3,000 events over six hours, two tenants; every timestamp distinct (event searches have no ties). */
function fixtures(): EventRecord[] {
  const random = mulberry32(16);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const events: EventRecord[] = [];
  let t = BASE_MS + 1_000;
  for (let i = 0; i < 3_000; i++) {
    t += 1 + Math.floor(random() * 14_000);
    const type = pick(TYPES);
    const service = type === 'order_completed' ? 'checkout' : type === 'payment_failed' ? 'payments' : pick(SERVICES);
    const failed = type === 'payment_failed' || random() < 0.1;
    const columns: Record<string, string | number | string[] | null> = {
      event_id: `e-${i}`,
      service,
      event_type: type,
      event_outcome: failed ? 'failure' : random() < 0.9 ? 'success' : 'unknown',
      session_id: `s-${Math.floor(random() * 200)}`,
      customer_id: `c-${Math.floor(random() * 150)}`,
    };
    if (type === 'api_request') {
      columns['duration_ms'] = Math.round(random() * 50_000) / 100;
      columns['http_route'] = pick(ROUTES);
      columns['http_status'] = failed ? pick([500, 502, 503]) : pick([200, 200, 201, 404]);
    }
    if (type === 'order_completed' || type === 'payment_failed') {
      columns['amount'] = Math.round(random() * 30_000) / 100;
      columns['currency'] = pick(['USD', 'EUR', 'JPY']);
      columns['gateway'] = pick(['stripe', 'adyen', 'paypal']);
    }
    if (failed) {
      const kind = pick(['GatewayTimeout', 'CardDeclined', 'StockReserveTimeout']);
      columns['error_type'] = kind;
      columns['error_fingerprint'] = `fp-${kind}`;
      columns['level'] = 'ERROR';
      columns['user_id'] = `u-${Math.floor(random() * 50)}`;
    }
    if (random() < 0.1) columns['fraud_indicators'] = random() < 0.5 ? ['velocity'] : ['velocity', 'geo_mismatch'];
    if (failed)
      columns['message'] = pick(['Gateway Timeout from upstream', 'card declined', 'timeout while reserving']);
    else if (random() < 0.3) columns['message'] = pick(['served from cache', 'cart updated', 'Search OK']);
    const attributes: Record<string, unknown> = {};
    if (random() < 0.6) attributes['cart.id'] = `c${Math.floor(random() * 40)}`;
    if (random() < 0.5) attributes['cart.items'] = Math.floor(random() * 25);
    if (random() < 0.3) attributes['experiment'] = pick(['a', 'b', 'control']);
    if (random() < 0.05) attributes['note'] = 'it\'s a "quoted" \\ value';
    events.push({
      ts: t * 1000,
      tenant: random() < 0.85 ? 'shop' : 'other',
      dataClass: 'app',
      columns,
      attributes: Object.keys(attributes).length > 0 ? attributes : null,
    });
  }
  return events;
}

const QUERIES = [
  '* | stats count() as n',
  'event.type:api_request | stats count() as n, avg(event.duration) as avg, percentile(event.duration, 95) as p95, percentile(event.duration, 50) as p50, max(event.duration) as slowest by service.name',
  '* | stats count() as n by bin(@timestamp, 5m), service.name',
  '* | stats count() as n by bin(@timestamp, 1h)',
  'event.type:order_completed | stats sum(transaction.amount) as revenue, avg(transaction.amount) as aov, dc(customer.id) as customers by transaction.currency',
  '* | stats countif(event.outcome:failure) as failed, count() as n by service.name | eval rate = failed / n | sort rate desc',
  'http.response.status_code:>=500 | stats count() as n by http.route',
  'cart.id:c1* | stats count() as n',
  'cart.items:>3 | stats count() as n, sum(cart.items) as items',
  'cart.items:5 | stats count() as n',
  'experiment:(a or b) | stats count() as n by experiment',
  'security.fraud_indicators:* | stats count() as n',
  'security.fraud_indicators:velocity | stats count() as n',
  'security.fraud_indicators:geo* | stats count() as n',
  'not event.outcome:success | stats count() as n by event.outcome',
  'timeout | stats count() as n',
  'message:*Timeout* | stats count() as n',
  'note:* | stats count() as n',
  'note:"it\'s a \\"quoted\\" \\\\ value" | stats count() as n',
  'cart.id:"x\' OR 1=1 --" | stats count() as n',
  '* | stats min(@timestamp) as first, max(@timestamp) as last, dc(user.session_id) as sessions',
  '* | stats count() as n by service.name, event.type | where n > 10 | sort n desc | limit 5',
  '* | eval slow = if(event.duration > 100, 1, 0) | stats sum(slow) as slow, countif(transaction.gateway:stripe) as stripe by service.name',
  'nosuchfield:x | stats count() as n, dc(cart.id) as carts',
  'service.name:checkout | sort @timestamp desc | limit 20',
  'event.type:payment_failed | fields @timestamp, service.name, transaction.amount, cart.id, cart.items | limit 30',
  '*',
] as const;

/** Equal, doubles within a relative 1e-9 (the engines sum in different orders). */
function assertSameAnswer(actual: unknown, expected: unknown, path: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const tolerance = Math.max(1e-9, Math.abs(expected) * 1e-9);
    assert.ok(Math.abs(actual - expected) <= tolerance, `${path}: ${actual} != ${expected}`);
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${path}: ${JSON.stringify(actual)} is not an object`);
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    assert.deepEqual(Object.keys(a).sort(), Object.keys(e).sort(), `${path}: keys`);
    for (const k of Object.keys(e)) assertSameAnswer(a[k], e[k], `${path}.${k}`);
    return;
  }
  assert.equal(actual, expected, path);
}

describe('ClickHouse and DuckDB answer alike', { skip: !available }, () => {
  let server: TestClickHouse;
  let clickhouse: ClickHouseStore;
  let duckdb: DuckDBStore;
  let dir: string;
  const events = fixtures();
  const shop = events.filter((e) => e.tenant === 'shop');

  before(async () => {
    server = await startClickHouse();
    dir = testDataDir();
    duckdb = new DuckDBStore({ dataDir: dir, defaultLimit: 100, maxRows: 1_000, queryTimeoutMs: 30_000 });
    clickhouse = new ClickHouseStore({
      url: server.url,
      database: 'shoplens_test',
      defaultLimit: 100,
      maxRows: 1_000,
      queryTimeoutMs: 30_000,
    });
    await Promise.all([duckdb.open(), clickhouse.open()]);
    // Several appends at once, as concurrent requests make them: the store gathers them into few inserts.
    const chunks = Array.from({ length: 6 }, (_, k) => events.slice(k * 500, (k + 1) * 500));
    await Promise.all([duckdb.appendEvents(events), ...chunks.map((c) => clickhouse.appendEvents(c))]);
  });

  after(async () => {
    await clickhouse?.close();
    await duckdb?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await server?.stop();
  });

  const run = (store: Store, text: string): Promise<QueryResult> =>
    store.query({ query: parseQuery(text), range: RANGE, tenant: 'shop' });

  for (const text of QUERIES) {
    it(`answers ${text}`, async () => {
      const [d, c] = await Promise.all([run(duckdb, text), run(clickhouse, text)]);
      assert.deepEqual(c.columns, d.columns);
      assert.equal(c.rows.length, d.rows.length, `rows of ${JSON.stringify(c.rows)} vs ${JSON.stringify(d.rows)}`);
      assertSameAnswer(c.rows, d.rows, 'rows');
      assert.equal(c.stats.rowsScanned, d.stats.rowsScanned);
      assert.equal(c.stats.rowsScanned, shop.length);
    });
  }

  it('counts what the fixtures hold', async () => {
    const total = await run(clickhouse, '* | stats count() as n');
    assert.deepEqual(total.rows, [[shop.length]]);
    const failures = shop.filter((e) => e.columns['event_outcome'] !== 'success').length;
    const byOutcome = await run(clickhouse, 'not event.outcome:success | stats count() as n');
    assert.deepEqual(byOutcome.rows, [[failures]]);
    const velocity = shop.filter((e) => (e.columns['fraud_indicators'] as string[] | undefined)?.includes('velocity'));
    assert.deepEqual((await run(clickhouse, 'security.fraud_indicators:velocity | stats count() as n')).rows, [
      [velocity.length],
    ]);
    const big = shop.filter((e) => Number(e.attributes?.['cart.items'] ?? -1) > 3).length;
    assert.ok(big > 0);
    assert.deepEqual((await run(clickhouse, 'cart.items:>3 | stats count() as n')).rows, [[big]]);
    const quoted = shop.filter((e) => e.attributes?.['note'] !== undefined).length;
    assert.ok(quoted > 0);
    assert.deepEqual((await run(clickhouse, 'note:"it\'s a \\"quoted\\" \\\\ value" | stats count() as n')).rows, [
      [quoted],
    ]);
  });

  it('sorts a numeric attribute as a number (2 before 10), on both engines', async () => {
    const text = 'cart.items:<15 | sort cart.items desc, @timestamp asc | fields @timestamp, cart.items | limit 1000';
    const expected = shop
      .filter((e) => e.attributes?.['cart.items'] !== undefined && Number(e.attributes['cart.items']) < 15)
      .sort((a, b) => Number(b.attributes!['cart.items']) - Number(a.attributes!['cart.items']) || a.ts - b.ts)
      .slice(0, 1000)
      .map((e) => [new Date(e.ts / 1000).toISOString(), Number(e.attributes!['cart.items'])]);
    assert.ok(expected.some(([, n]) => (n as number) >= 10) && expected.some(([, n]) => (n as number) < 10));
    for (const store of [duckdb, clickhouse]) {
      const r = await run(store, text);
      assert.deepEqual(
        r.rows.map(([ts, n]) => [ts, Number(n)]),
        expected,
      );
    }
    const ascending = await run(
      duckdb,
      'cart.items:* | sort cart.items asc, @timestamp asc | fields cart.items | limit 1000',
    );
    const values = ascending.rows.map(([n]) => Number(n));
    assert.deepEqual(
      values,
      [...values].sort((a, b) => a - b),
    );
  });

  it('puts events in 5-minute buckets aligned to the epoch', async () => {
    const r = await run(clickhouse, '* | stats count() as n by bin(@timestamp, 5m)');
    const expected = new Map<string, number>();
    for (const e of shop) {
      const bucket = new Date(Math.floor(e.ts / 1000 / 300_000) * 300_000).toISOString();
      expected.set(bucket, (expected.get(bucket) ?? 0) + 1);
    }
    assert.deepEqual(
      r.rows,
      [...expected.entries()].sort(([a], [b]) => a.localeCompare(b)),
    );
  });

  it('keeps tenants apart', async () => {
    const other = events.filter((e) => e.tenant === 'other').length;
    const r = await clickhouse.query({ query: parseQuery('* | stats count() as n'), range: RANGE, tenant: 'other' });
    assert.deepEqual(r.rows, [[other]]);
  });

  it('answers the same funnel', async () => {
    const request = {
      tenant: 'shop',
      range: RANGE,
      steps: [
        { name: 'viewed', filter: 'event.type:page_view' },
        { name: 'ordered', filter: 'event.type:order_completed' },
      ],
    };
    const [d, c] = await Promise.all([duckdb.funnel(request), clickhouse.funnel(request)]);
    assert.ok((d.total.steps[0]?.count ?? 0) > 0);
    assert.deepEqual(c, d);
  });

  it('finds the same attribute fields', async () => {
    const request = { tenant: 'shop', range: RANGE, names: ['cart.id', 'experiment', 'no.such.field'] };
    const [d, c] = await Promise.all([duckdb.attributeFields(request), clickhouse.attributeFields(request)]);
    assert.deepEqual([...c.present].sort(), ['cart.id', 'experiment']);
    assert.deepEqual([...c.present].sort(), [...d.present].sort());
    assert.deepEqual([...c.seen].sort(), [...d.seen].sort());
  });

  it('answers the same error groups', async () => {
    const request = { tenant: 'shop', range: RANGE };
    const [d, c] = await Promise.all([duckdb.errorGroups(request), clickhouse.errorGroups(request)]);
    assert.equal(d.groups.length, 3);
    assertSameAnswer(c.groups, d.groups, 'groups');
    const merged = {
      ...request,
      merges: new Map([['fp-StockReserveTimeout', 'fp-GatewayTimeout']]),
      since: new Map([['fp-GatewayTimeout', { afterMs: RANGE.fromMs + 3 * HOUR }]]),
    };
    const [dm, cm] = await Promise.all([duckdb.errorGroups(merged), clickhouse.errorGroups(merged)]);
    assert.equal(dm.groups.length, 2);
    assertSameAnswer(cm.groups, dm.groups, 'merged groups');
  });

  it('knows which event ids it holds', async () => {
    const ids = ['e-0', 'e-1', 'e-2', 'nope'];
    const [d, c] = await Promise.all([duckdb.existingEventIds('shop', ids), clickhouse.existingEventIds('shop', ids)]);
    assert.deepEqual([...c].sort(), [...d].sort());
    assert.ok(!c.has('nope'));
  });
});
