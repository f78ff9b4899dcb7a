/**
 * Minute rollups in the DuckDB store: once minutes are rolled up, `stats`
 * queries read them from `events_1m` (plus raw events for the rest of the
 * range) and answer exactly what the raw events say — also after late
 * events, `_bulk` replacements, a GDPR erasure, retention and a restart.
 * Expected answers are computed here from the events the test wrote.
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
const RANGE = { fromMs: NOW - 7 * HOUR + 12_345, toMs: NOW + MIN };
const ROUTES = ['/api/cart', '/api/checkout', '/api/payment/process', '/api/products'];
const GATEWAYS = ['stripe', 'paypal', 'adyen'];

interface Sent {
  readonly tsMs: number;
  readonly type: 'api_request' | 'payment_transaction';
  readonly failed: boolean;
  readonly route?: string;
  readonly gateway?: string;
  readonly amount?: number;
  readonly customer: string;
  readonly id: string;
}

function record(e: Sent, replaceExisting = false): EventRecord {
  return {
    ts: e.tsMs * 1000,
    tenant: 'shop',
    dataClass: e.type === 'api_request' ? 'app' : 'business',
    columns: {
      event_id: e.id,
      service: e.type === 'api_request' ? 'web' : 'payments',
      event_type: e.type,
      event_outcome: e.failed ? 'failure' : 'success',
      customer_id: e.customer,
      ...(e.route ? { http_route: e.route, duration_ms: 20 + (e.tsMs % 997) } : {}),
      ...(e.gateway ? { gateway: e.gateway, amount: e.amount ?? 0 } : {}),
    },
    attributes: null,
    ...(replaceExisting ? { replaceExisting } : {}),
  };
}

const Q_MINUTE =
  'event.type:api_request | stats count() as requests, countif(event.outcome:failure) as errors by bin(@timestamp, 1m)';
const Q_GATEWAY =
  'event.type:payment_transaction | stats count() as n, sum(transaction.amount) as revenue, min(transaction.amount) as lo, max(transaction.amount) as hi by transaction.gateway';
const Q_P95 = 'event.type:api_request | stats p95(event.duration) as p95 by http.route';

describe('minute rollups (DuckDB)', () => {
  const dir = testDataDir();
  let store: DuckDBStore;
  let events: Sent[] = [];
  const random = rng(11);

  const open = async () => {
    const s = new DuckDBStore({
      dataDir: dir,
      defaultLimit: 100,
      maxRows: 100_000,
      queryTimeoutMs: 30_000,
      rollupSliceMs: HOUR,
    });
    await s.open();
    return s;
  };
  const request = (text: string, range = RANGE) => ({ query: parseQuery(text), range, tenant: 'shop' });
  const run = (text: string, range = RANGE) => store.query(request(text, range));
  const usesRollups = (text: string, range = RANGE) => store.explain(request(text, range)).sql.includes('events_1m');

  function make(tsMs: number, k: number): Sent {
    const api = random() < 0.7;
    return {
      tsMs,
      type: api ? 'api_request' : 'payment_transaction',
      failed: random() < 0.1,
      ...(api
        ? { route: ROUTES[Math.floor(random() * ROUTES.length)] }
        : {
            gateway: GATEWAYS[Math.floor(random() * GATEWAYS.length)],
            amount: Math.round(random() * 50_000) / 100,
          }),
      customer: `cust_${k % 40}`,
      id: `ev_${tsMs}_${k}`,
    };
  }

  /** What the minute query must answer, from the events sent (range: RANGE). */
  function expectedMinutes(range = RANGE): Map<number, [number, number]> {
    const out = new Map<number, [number, number]>();
    for (const e of events) {
      if (e.type !== 'api_request' || e.tsMs < range.fromMs || e.tsMs >= range.toMs) continue;
      const m = Math.floor(e.tsMs / MIN) * MIN;
      const v = out.get(m) ?? [0, 0];
      v[0]++;
      if (e.failed) v[1]++;
      out.set(m, v);
    }
    return out;
  }

  function expectedGateways(range = RANGE): Map<string, [number, number, number, number]> {
    const out = new Map<string, [number, number, number, number]>();
    for (const e of events) {
      if (e.type !== 'payment_transaction' || e.tsMs < range.fromMs || e.tsMs >= range.toMs) continue;
      const a = e.amount ?? 0;
      const v = out.get(e.gateway ?? '') ?? [0, 0, Infinity, -Infinity];
      out.set(e.gateway ?? '', [v[0] + 1, v[1] + a, Math.min(v[2], a), Math.max(v[3], a)]);
    }
    return out;
  }

  async function assertAnswers(label: string, range = RANGE): Promise<void> {
    const minutes = await run(Q_MINUTE, range);
    const got = new Map(minutes.rows.map((r) => [Date.parse(String(r[0])), [Number(r[1]), Number(r[2])]]));
    assert.deepEqual(got, expectedMinutes(range), `${label}: requests and errors per minute`);
    const gateways = await run(Q_GATEWAY, range);
    const want = expectedGateways(range);
    assert.equal(gateways.rows.length, want.size, `${label}: gateways`);
    for (const [g, n, revenue, lo, hi] of gateways.rows) {
      const w = want.get(String(g));
      assert.ok(w, `${label}: unexpected gateway ${String(g)}`);
      assert.equal(Number(n), w[0], `${label}: ${String(g)} count`);
      assert.ok(Math.abs(Number(revenue) - w[1]) < 1e-6, `${label}: ${String(g)} revenue ${String(revenue)} ≠ ${w[1]}`);
      assert.equal(Number(lo), w[2], `${label}: ${String(g)} min`);
      assert.equal(Number(hi), w[3], `${label}: ${String(g)} max`);
    }
    const inRange = events.filter((e) => e.tsMs >= range.fromMs && e.tsMs < range.toMs).length;
    assert.equal(minutes.stats.rowsScanned, inRange, `${label}: rowsScanned`);
  }

  before(async () => {
    store = await open();
    // Six hours of traffic, a few events a minute, in time order.
    for (let t = NOW - 6 * HOUR, k = 0; t < NOW; t += 3_000 + Math.floor(random() * 9_000), k++) {
      events.push(make(t, k));
    }
    await store.appendEvents(events.map((e) => record(e)));
  });

  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers from raw events before anything is rolled up', async () => {
    assert.equal(usesRollups(Q_MINUTE), false);
    await assertAnswers('raw only');
  });

  it('rolls up slice by slice, then reads whole minutes from the rollups with the same answers', async () => {
    let calls = 0;
    for (let caughtUp = false; !caughtUp; calls++) ({ caughtUp } = await store.rollUp(NOW));
    assert.equal(calls, 6, 'six hours fold in six one-hour slices');
    assert.equal(usesRollups(Q_MINUTE), true);
    assert.equal(usesRollups(Q_GATEWAY), true);
    // Percentiles and distinct counts need every value: raw events.
    assert.equal(usesRollups(Q_P95), false);
    assert.equal(usesRollups('* | stats dc(customer.id) as customers'), false);
    // Less than an hour of rolled-up minutes in the range: raw events.
    assert.equal(usesRollups(Q_MINUTE, { fromMs: NOW - 50 * MIN, toMs: NOW }), false);
    await assertAnswers('rolled up');
    // A range that starts and ends mid-minute, and 5-minute bins.
    await assertAnswers('ragged range', { fromMs: NOW - 4 * HOUR - 29_000, toMs: NOW - HOUR + 1_234 });
    const fives = await run('* | stats count() as n by bin(@timestamp, 5m)');
    assert.equal(
      fives.rows.reduce((sum, r) => sum + Number(r[1]), 0),
      events.length,
    );
  });

  it('rebuilds the minutes that late events, replacements and an erasure change', async () => {
    // Late events for minutes already rolled up.
    const late = Array.from({ length: 40 }, (_, k) => make(NOW - 3 * HOUR - k * 61_000, 10_000 + k));
    events.push(...late);
    await store.appendEvents(late.map((e) => record(e)));
    await assertAnswers('after late events');

    // `_bulk` index with an existing id replaces the event, also inside a rolled-up minute.
    const target = events.find((e) => e.type === 'payment_transaction' && e.tsMs < NOW - 2 * HOUR) as Sent;
    const replacement: Sent = { ...target, amount: 99_999.5, failed: true, tsMs: target.tsMs - 2 * HOUR };
    events = events.filter((e) => e !== target).concat(replacement);
    await store.appendEvents([record(replacement, true)]);
    await assertAnswers('after a replacement');

    // GDPR erasure of one customer.
    const erased = await store.eraseCustomer('shop', { ids: ['cust_7'], texts: [] });
    const before = events.length;
    events = events.filter((e) => e.customer !== 'cust_7');
    assert.equal(erased.deleted, before - events.length);
    await assertAnswers('after an erasure');
  });

  it('keeps its watermark across a restart, and drops expired minutes with their raw events', async () => {
    await store.close();
    store = await open();
    assert.equal(usesRollups(Q_MINUTE), true);
    await assertAnswers('after a restart');

    // Retention: the oldest two hours of both classes expire (they live on as hourly rollups).
    const cutoff = NOW - 4 * HOUR;
    await store.deleteExpired({ app: cutoff, business: cutoff }, 0);
    events = events.filter((e) => e.tsMs >= Math.floor(cutoff / HOUR) * HOUR);
    const recent = { fromMs: Math.ceil(cutoff / HOUR) * HOUR, toMs: NOW + MIN };
    assert.equal(usesRollups(Q_MINUTE, recent), true);
    await assertAnswers('after retention', recent);
  });
});
