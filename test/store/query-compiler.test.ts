/**
 * The query compiler: the SQL each engine gets for a query (stated per
 * engine, as Kysely's testSql does) and what it returns when executed on a
 * real DuckDB file holding known events.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parseQuery } from '../../src/query/index.ts';
import type { EventRecord } from '../../src/schema/record.ts';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.ts';
import { duckdbDialect } from '../../src/store/duckdb/duckdb-dialect.ts';
import { QueryCompiler } from '../../src/store/sql/query-compiler.ts';
import type { QueryResult } from '../../src/store/store.ts';
import { testDataDir } from '../helpers/server.ts';

const T0 = Date.parse('2025-06-28T14:00:00Z');
const RANGE = { fromMs: T0, toMs: T0 + 3_600_000 };

function compile(text: string, tenant = 'default') {
  return new QueryCompiler(duckdbDialect, { defaultLimit: 100, maxRows: 10_000, nowMs: T0 }).compile({
    query: parseQuery(text),
    range: RANGE,
    tenant,
  });
}

/** Expected SQL per engine; engines without an entry are not built yet. */
function testSql(text: string, expected: { duckdb: string; params?: unknown[] }): void {
  const compiled = compile(text);
  assert.equal(compiled.sql, expected.duckdb);
  if (expected.params)
    assert.deepEqual(
      compiled.params.map((p) => p.value),
      expected.params,
    );
}

const BASE = `"tenant" = $1 AND "ts" >= $2 AND "ts" < $3`;
const BASE_PARAMS = ['default', T0 * 1000, (T0 + 3_600_000) * 1000];

describe('query compiler SQL (DuckDB)', () => {
  it('compiles the payment-success query to parameterised equality on typed columns', () => {
    const compiled = compile('event.type:payment_transaction AND event.outcome:success | stats count() as n');
    assert.equal(
      compiled.sql,
      `SELECT * FROM (SELECT count(*) AS "n" FROM (SELECT * FROM "events" WHERE ${BASE} AND ("event_type" = $4 AND "event_outcome" = $5)) AS e) AS r LIMIT 10000`,
    );
    assert.deepEqual(
      compiled.params.map((p) => p.value),
      [...BASE_PARAMS, 'payment_transaction', 'success'],
    );
  });

  it('compiles the high-risk filter (risk_score > 75 OR any fraud indicator): numeric range OR non-empty array', () => {
    testSql('payment.risk_score:>75 OR security.fraud_indicators:* | stats count() as n', {
      duckdb: `SELECT * FROM (SELECT count(*) AS "n" FROM (SELECT * FROM "events" WHERE ${BASE} AND ("risk_score" > $4 OR (len("fraud_indicators") > 0))) AS e) AS r LIMIT 10000`,
      params: [...BASE_PARAMS, 75],
    });
  });

  it('reads untyped fields from the attributes JSON by their dotted name, as a parameter', () => {
    testSql('customer.lifetime_value:>1000 | stats count() as n', {
      duckdb: `SELECT * FROM (SELECT count(*) AS "n" FROM (SELECT * FROM "events" WHERE ${BASE} AND TRY_CAST(json_extract_string("attributes", $4) AS DOUBLE) > $5) AS e) AS r LIMIT 10000`,
      params: [...BASE_PARAMS, '$."customer.lifetime_value"', 1000],
    });
  });

  it('turns wildcards into an escaped LIKE pattern', () => {
    testSql('url.path:/api/cart_v2/* | stats count() as n', {
      duckdb: `SELECT * FROM (SELECT count(*) AS "n" FROM (SELECT * FROM "events" WHERE ${BASE} AND ("url_path" LIKE $4 ESCAPE '\\')) AS e) AS r LIMIT 10000`,
      params: [...BASE_PARAMS, '/api/cart\\_v2/%'],
    });
  });

  it('maps Segment and GA4 event names in queries to the canonical type', () => {
    assert.equal(compile('event.type:"Order Completed"').params[3]?.value, 'order_completed');
    assert.equal(compile('event.type:purchase').params[3]?.value, 'order_completed');
  });

  it('compiles error rate per endpoint with eval/where/sort over the stats output', () => {
    testSql(
      'event.type:api_request | stats count() as total, countif(event.outcome:failure) as errors by http.route | eval errorRate = errors * 100.0 / total | where errorRate > 1 | sort errorRate desc',
      {
        duckdb:
          `SELECT * FROM (SELECT * FROM (SELECT "http.route", "total", "errors", (("errors" * 100.0) / "total") AS "errorRate" FROM ` +
          `(SELECT "http_route" AS "http.route", count(*) AS "total", coalesce(count_if("event_outcome" = $5), 0) AS "errors" FROM ` +
          `(SELECT * FROM "events" WHERE ${BASE} AND "event_type" = $4) AS e GROUP BY "http_route") AS t) AS t WHERE ("errorRate" > 1.0)) AS r ` +
          `ORDER BY "errorRate" DESC LIMIT 10000`,
      },
    );
  });

  it('compiles time buckets and percentiles', () => {
    testSql('http.route:"/api/checkout" | stats p95(event.duration) as P95 by http.route, bin(@timestamp, 5m)', {
      duckdb:
        `SELECT * FROM (SELECT "http_route" AS "http.route", make_timestamp((epoch_us("ts") // 300000000) * 300000000) AS "@timestamp", ` +
        `quantile_cont("duration_ms", 0.95) AS "P95" FROM (SELECT * FROM "events" WHERE ${BASE} AND "http_route" = $4) AS e ` +
        `GROUP BY "http_route", (epoch_us("ts") // 300000000)) AS r ORDER BY "@timestamp", "http.route" LIMIT 10000`,
    });
  });

  it('never splices user text into SQL', () => {
    const evil = `x'; DROP TABLE events; --`;
    const compiled = compile(`message:"${evil}" OR customer.id:"${evil}" OR attr.name:"${evil}"`);
    assert.ok(!compiled.sql.includes('DROP TABLE'));
    assert.ok(compiled.params.some((p) => p.value === evil));
  });

  it('rejects a non-number for a numeric field with the position of the term', () => {
    assert.throws(
      () => compile('event.type:x AND payment.risk_score:high'),
      (err: any) => err.code === 'query.invalid' && err.position === 17 && /risk_score.*not a number/.test(err.message),
    );
  });
});

describe('query compiler on a real DuckDB file', () => {
  let store: DuckDBStore;
  let dir: string;

  const event = (
    minute: number,
    columns: EventRecord['columns'],
    attributes: Record<string, unknown> | null = null,
    tenant = 'default',
  ): EventRecord => ({
    ts: (T0 + minute * 60_000) * 1000,
    tenant,
    dataClass: 'app',
    columns,
    attributes,
  });

  before(async () => {
    dir = testDataDir();
    store = new DuckDBStore({ dataDir: dir, defaultLimit: 100, maxRows: 10_000, queryTimeoutMs: 10_000 });
    await store.open();
    const events: EventRecord[] = [];
    // /api/checkout: 20 requests, 4 failures, durations 100..2000 ms.
    for (let i = 0; i < 20; i++) {
      events.push(
        event(i, {
          event_type: 'api_request',
          http_route: '/api/checkout',
          event_outcome: i % 5 === 0 ? 'failure' : 'success',
          duration_ms: (i + 1) * 100,
          service: 'checkout-service',
        }),
      );
    }
    // /api/cart/add: 10 requests, no failure.
    for (let i = 0; i < 10; i++) {
      events.push(
        event(i, { event_type: 'api_request', http_route: '/api/cart/add', event_outcome: 'success', duration_ms: 50 }),
      );
    }
    // Payments with a risk score and attributes.
    events.push(
      event(
        30,
        { event_type: 'payment_transaction', risk_score: 90, amount: 100, gateway: 'stripe' },
        { 'customer.lifetime_value': 2500 },
      ),
    );
    events.push(
      event(31, {
        event_type: 'payment_transaction',
        risk_score: 10,
        amount: 50,
        gateway: 'paypal',
        fraud_indicators: ['velocity'],
      }),
    );
    events.push(
      event(32, {
        event_type: 'payment_transaction',
        risk_score: 5,
        amount: 20,
        gateway: 'stripe',
        fraud_indicators: [],
      }),
    );
    // Another tenant's event must never show.
    events.push(event(33, { event_type: 'payment_transaction', risk_score: 99, amount: 1e6 }, null, 'other-shop'));
    await store.appendEvents(events);
  });

  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (text: string): Promise<QueryResult> =>
    store.query({ query: parseQuery(text), range: RANGE, tenant: 'default' });
  const rowsAsObjects = (r: QueryResult) =>
    r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));

  it('computes error rate per endpoint and keeps only endpoints above 1 %', async () => {
    const r = await run(
      'event.type:api_request | stats count() as total, countif(event.outcome:failure) as errors by http.route | eval errorRate = errors * 100.0 / total | where errorRate > 1 | sort errorRate desc',
    );
    assert.deepEqual(rowsAsObjects(r), [{ 'http.route': '/api/checkout', total: 20, errors: 4, errorRate: 20 }]);
    assert.equal(r.stats.rowsScanned, 33);
  });

  it('computes p95 exactly (continuous quantile)', async () => {
    const r = await run('http.route:"/api/checkout" | stats p95(event.duration) as P95, p50(event.duration) as P50');
    // Durations 100..2000 step 100: p95 = 100 + 0.95 * 19 * 100 = 1905, p50 = 1050.
    assert.deepEqual(r.rows, [[1905, 1050]]);
  });

  it('buckets by 5 minutes', async () => {
    const r = await run('http.route:"/api/checkout" | stats count() as n by bin(@timestamp, 5m)');
    assert.deepEqual(r.rows, [
      ['2025-06-28T14:00:00.000Z', 5],
      ['2025-06-28T14:05:00.000Z', 5],
      ['2025-06-28T14:10:00.000Z', 5],
      ['2025-06-28T14:15:00.000Z', 5],
    ]);
  });

  it('answers the high-risk filter (risk_score > 75 OR any fraud indicator) and scopes to the tenant', async () => {
    const r = await run(
      'payment.risk_score:>75 OR security.fraud_indicators:* | stats count() as n, sum(transaction.amount) as total',
    );
    assert.deepEqual(r.rows, [[2, 150]]);
  });

  it('filters on attributes numerically and on wildcards', async () => {
    assert.deepEqual((await run('customer.lifetime_value:>1000 | stats count() as n')).rows, [[1]]);
    assert.deepEqual((await run('customer.lifetime_value:2500 | stats count() as n')).rows, [[1]]);
    assert.deepEqual((await run('http.route:/api/cart/* | stats count() as n')).rows, [[10]]);
    assert.deepEqual((await run('NOT http.route:/api/cart/* AND event.type:api_request | stats count() as n')).rows, [
      [20],
    ]);
  });

  it('returns events newest first with a _source document and respects limit', async () => {
    const r = await run('event.type:payment_transaction | limit 2');
    assert.deepEqual(
      r.columns.map((c) => c.name),
      ['@timestamp', 'service.name', 'event.type', 'event.outcome', 'message', '_source'],
    );
    assert.equal(r.rows.length, 2);
    assert.equal(r.rows[0]?.[0], '2025-06-28T14:32:00.000Z');
    const source = r.rows[1]?.[5] as any;
    assert.equal(source.transaction.gateway, 'paypal');
    assert.deepEqual(source.security.fraud_indicators, ['velocity']);
  });

  it('projects fields, including attributes, with | fields', async () => {
    const r = await run(
      'event.type:payment_transaction AND transaction.gateway:stripe | sort transaction.amount desc | fields transaction.amount, customer.lifetime_value',
    );
    assert.deepEqual(r.rows, [
      [100, '2500'],
      [20, null],
    ]);
  });

  it('supports top-N: stats, sort, limit', async () => {
    const r = await run('event.type:api_request | stats count() as n by http.route | sort n asc | limit 1');
    assert.deepEqual(r.rows, [['/api/cart/add', 10]]);
  });
});
