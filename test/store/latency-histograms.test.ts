/**
 * Hourly latency histograms in the DuckDB store: a percentile query over
 * more than a day of rolled-up hours reads them (plus raw events for the
 * rest of the range) and answers within 2 % of the exact percentile, with
 * exact counts; shorter ranges and other filters stay exact on raw events.
 * Exact values are computed here from the events the test wrote.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parseQuery } from '../../src/query/index.ts';
import type { EventRecord } from '../../src/schema/record.ts';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.ts';
import { testDataDir } from '../helpers/server.ts';
import { rng } from '../helpers/rng.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Math.floor(Date.now() / MIN) * MIN - 30_000;
const RANGE = { fromMs: NOW - 30 * HOUR - 7_000, toMs: NOW + MIN };
const ROUTES = [
  ['/api/checkout', 300],
  ['/api/cart', 60],
  ['/api/payment/process', 900],
] as const;

interface Sent {
  readonly tsMs: number;
  readonly route: string;
  /** Undefined: a request logged without a duration. */
  readonly durationMs?: number;
}

/** `quantile_cont`: linear interpolation at position p × (n − 1) of the sorted values. */
function exactQuantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

describe('latency histograms (DuckDB)', () => {
  const dir = testDataDir();
  let store: DuckDBStore;
  const events: Sent[] = [];
  const random = rng(5);

  const record = (e: Sent): EventRecord => ({
    ts: e.tsMs * 1000,
    tenant: 'shop',
    dataClass: 'app',
    columns: {
      service: 'web',
      event_type: 'api_request',
      event_outcome: 'success',
      http_route: e.route,
      customer_segment: e.tsMs % 2 === 0 ? 'vip' : 'standard',
      ...(e.durationMs === undefined ? {} : { duration_ms: e.durationMs }),
    },
    attributes: null,
  });
  const request = (text: string, range = RANGE) => ({ query: parseQuery(text), range, tenant: 'shop' });
  const sqlOf = (text: string, range = RANGE) => store.explain(request(text, range)).sql;

  function durationsOf(route: string, range = RANGE): number[] {
    return events
      .filter((e) => e.route === route && e.tsMs >= range.fromMs && e.tsMs < range.toMs && e.durationMs !== undefined)
      .map((e) => e.durationMs as number);
  }

  async function assertPercentiles(label: string, range = RANGE, tolerance = 0.02): Promise<void> {
    const answer = await store.query(
      request(
        'event.type:api_request | stats p50(event.duration) as p50, p95(event.duration) as p95, p99(event.duration) as p99, count() as n by http.route',
        range,
      ),
    );
    assert.equal(answer.rows.length, ROUTES.length, label);
    for (const [route, p50, p95, p99, n] of answer.rows) {
      const values = durationsOf(String(route), range);
      const all = events.filter((e) => e.route === route && e.tsMs >= range.fromMs && e.tsMs < range.toMs);
      assert.equal(Number(n), all.length, `${label}: ${String(route)} count (with the requests without a duration)`);
      for (const [p, got] of [
        [0.5, p50],
        [0.95, p95],
        [0.99, p99],
      ] as const) {
        const want = exactQuantile(values, p);
        const error = Math.abs(Number(got) - want) / want;
        assert.ok(error <= tolerance, `${label}: ${String(route)} p${p * 100} ${String(got)} vs exact ${want}`);
      }
    }
  }

  before(async () => {
    store = new DuckDBStore({ dataDir: dir, defaultLimit: 100, maxRows: 100_000, queryTimeoutMs: 30_000 });
    await store.open();
    // 30 hours of requests, log-normal durations around each route's median; 1 in 20 without a duration.
    for (let t = NOW - 30 * HOUR; t < NOW; t += 2_000 + Math.floor(random() * 4_000)) {
      const [route, median] = ROUTES[Math.floor(random() * ROUTES.length)] as (typeof ROUTES)[number];
      const normal = Math.sqrt(-2 * Math.log(random() || 1e-9)) * Math.cos(2 * Math.PI * random());
      const durationMs = Math.round(median * Math.exp(0.6 * normal) * 10) / 10;
      events.push({ tsMs: t, route, ...(random() < 0.05 ? {} : { durationMs }) });
    }
    await store.appendEvents(events.map(record));
    for (let caughtUp = false; !caughtUp;) ({ caughtUp } = await store.rollUp(NOW));
  });

  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers percentiles over more than a day from the histograms, within 2 %, with exact counts', async () => {
    assert.match(sqlOf('event.type:api_request | stats p95(event.duration) as p95 by http.route'), /latency_1h/);
    await assertPercentiles('30 hours');
    // Hourly series too.
    const hourly = await store.query(
      request('http.route:"/api/checkout" | stats p95(event.duration) as p95, count() as n by bin(@timestamp, 1h)'),
    );
    assert.ok(hourly.rows.length >= 30);
    for (const [hour, p95, n] of hourly.rows) {
      const from = Date.parse(String(hour));
      const range = { fromMs: Math.max(from, RANGE.fromMs), toMs: from + HOUR };
      const values = durationsOf('/api/checkout', range);
      assert.equal(
        Number(n),
        events.filter((e) => e.route === '/api/checkout' && e.tsMs >= range.fromMs && e.tsMs < range.toMs).length,
      );
      const want = exactQuantile(values, 0.95);
      assert.ok(Math.abs(Number(p95) - want) / want <= 0.02, `${String(hour)}: ${String(p95)} vs ${want}`);
    }
  });

  it('stays exact on raw events over shorter ranges and for filters the histograms do not keep', async () => {
    const short = { fromMs: NOW - 6 * HOUR, toMs: NOW };
    assert.doesNotMatch(
      sqlOf('event.type:api_request | stats p95(event.duration) as p95 by http.route', short),
      /latency_1h/,
    );
    await assertPercentiles('6 hours', short, 1e-9);
    assert.doesNotMatch(
      sqlOf('customer.segment:vip | stats p95(event.duration) as p95 by http.route'),
      /latency_1h/,
      'customer.segment is not a histogram dimension',
    );
    assert.doesNotMatch(sqlOf('* | stats p95(event.duration) as p95, avg(event.duration) as avg'), /latency_1h/);
  });

  it('rebuilds the hour a late event lands in', async () => {
    // Very slow late requests in a complete hour move that route's p99.
    const late = Array.from({ length: 60 }, (_, k) => ({
      tsMs: NOW - 20 * HOUR + k * 1_000,
      route: '/api/cart',
      durationMs: 30_000 + k,
    }));
    events.push(...late);
    await store.appendEvents(late.map(record));
    await assertPercentiles('after late events');
  });
});
