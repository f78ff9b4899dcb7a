/**
 * The hourly error group rows (errors_1h) in the DuckDB store: once the
 * rollup job has run, the error list's figures over a range of whole hours
 * read them (plus raw events for the partial hours and the minutes after the
 * watermark) and still answer exactly what the events say: events, first and
 * last seen, distinct users, customers and sessions, services, the latest
 * message, the trend, filtered by service, release and a merge; a late event
 * and an erased customer are reflected. Every expectation is computed here
 * from the events the test wrote.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Filter } from '../../src/query/ir.ts';
import type { EventRecord } from '../../src/schema/record.ts';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.ts';
import type { ErrorGroupsRequest } from '../../src/store/sql/error-groups-compiler.ts';
import { testDataDir } from '../helpers/server.ts';
import { rng } from '../helpers/rng.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Math.floor(Date.now() / MIN) * MIN - 30_000;
/** Starts 7 s into an hour and ends after now: partial hours at both ends. */
const RANGE = { fromMs: Math.floor((NOW - 20 * HOUR) / HOUR) * HOUR + 7_000, toMs: NOW + MIN };
const GROUPS = ['fp-timeout', 'fp-stock', 'fp-null'];
const SERVICES = ['payment-service', 'inventory-service', 'cart-service'];

interface Sent {
  readonly tsMs: number;
  readonly fp: string;
  readonly service: string;
  readonly release: string;
  readonly user: string;
  readonly customer: string;
  readonly session: string;
  readonly message: string;
}

function matchOf(field: string, text: string): Filter {
  return { kind: 'match', field, value: { text, quoted: true } };
}

describe('hourly error group rollups (DuckDB)', () => {
  const dir = testDataDir();
  let store: DuckDBStore;
  const sent: Sent[] = [];
  const random = rng(11);

  const record = (e: Sent): EventRecord => ({
    ts: e.tsMs * 1000,
    tenant: 'shop',
    dataClass: 'app',
    columns: {
      service: e.service,
      environment: 'production',
      event_type: 'error',
      level: 'ERROR',
      error_type: 'ShopError',
      error_message: e.message,
      error_fingerprint: e.fp,
      user_id: e.user,
      customer_id: e.customer,
      session_id: e.session,
    },
    attributes: { 'service.version': e.release },
  });

  /** The figures of each group over `range`, from the events sent (and still there). */
  function expected(range = RANGE, keep: (e: Sent) => boolean = () => true, merges = new Map<string, string>()) {
    const out = new Map<
      string,
      {
        events: number;
        first: number;
        last: number;
        users: Set<string>;
        customers: Set<string>;
        sessions: Set<string>;
        services: Set<string>;
        latest: Sent;
        trend: Map<number, number>;
      }
    >();
    for (const e of sent) {
      if (e.tsMs < range.fromMs || e.tsMs >= range.toMs || !keep(e)) continue;
      const g = merges.get(e.fp) ?? e.fp;
      let x = out.get(g);
      if (!x) {
        x = {
          events: 0,
          first: Infinity,
          last: -Infinity,
          users: new Set(),
          customers: new Set(),
          sessions: new Set(),
          services: new Set(),
          latest: e,
          trend: new Map(),
        };
        out.set(g, x);
      }
      x.events++;
      x.first = Math.min(x.first, e.tsMs);
      if (e.tsMs >= x.last) x.latest = e;
      x.last = Math.max(x.last, e.tsMs);
      x.users.add(e.user);
      x.customers.add(e.customer);
      x.sessions.add(e.session);
      x.services.add(e.service);
      const hour = Math.floor(e.tsMs / HOUR) * HOUR;
      x.trend.set(hour, (x.trend.get(hour) ?? 0) + 1);
    }
    return out;
  }

  async function assertFigures(
    label: string,
    request: Partial<ErrorGroupsRequest>,
    keep?: (e: Sent) => boolean,
    merges?: Map<string, string>,
  ): Promise<void> {
    const range = request.range ?? RANGE;
    const answer = await store.errorGroups({
      tenant: 'shop',
      range,
      trendBucketMs: HOUR,
      ...(merges ? { merges } : {}),
      ...request,
    });
    const want = expected(range, keep, merges);
    assert.deepEqual(answer.groups.map((g) => g.group).sort(), [...want.keys()].sort(), `${label}: groups`);
    for (const g of answer.groups) {
      const w = want.get(g.group);
      assert.ok(w);
      assert.equal(g.events, w.events, `${label}: events of ${g.group}`);
      assert.equal(g.firstSeenMs, w.first, `${label}: first seen of ${g.group}`);
      assert.equal(g.lastSeenMs, w.last, `${label}: last seen of ${g.group}`);
      assert.equal(g.users, w.users.size, `${label}: users of ${g.group}`);
      assert.equal(g.customers, w.customers.size, `${label}: customers of ${g.group}`);
      assert.equal(g.sessions, w.sessions.size, `${label}: sessions of ${g.group}`);
      assert.deepEqual(g.services, [...w.services].sort(), `${label}: services of ${g.group}`);
      assert.equal(g.message, w.latest.message, `${label}: latest message of ${g.group}`);
      const trend = new Map(answer.trends?.get(g.group) ?? []);
      assert.deepEqual(trend, w.trend, `${label}: trend of ${g.group}`);
    }
  }

  before(async () => {
    store = new DuckDBStore({ dataDir: dir, defaultLimit: 100, maxRows: 100_000, queryTimeoutMs: 30_000 });
    await store.open();
    // 22 hours of errors: users repeat errors, a release changes at the 10th hour.
    for (let t = NOW - 22 * HOUR; t < NOW; t += Math.floor(20_000 + random() * 40_000)) {
      const k = Math.floor(random() * random() * 3);
      const person = Math.floor(random() * 60);
      sent.push({
        tsMs: t,
        fp: GROUPS[k] as string,
        service: random() < 0.9 ? (SERVICES[k] as string) : 'api-gateway',
        release: t < NOW - 10 * HOUR ? '1.0.0' : '1.1.0',
        user: `u-${person}`,
        customer: `c-${person % 40}`,
        session: `s-${person}-${Math.floor(t / (3 * HOUR))}`,
        message: `failure ${Math.floor(random() * 1000)}`,
      });
    }
    await store.appendEvents(sent.map(record));
    for (let caughtUp = false; !caughtUp;) ({ caughtUp } = await store.rollUp(NOW));
  });

  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the rollup for whole rolled-up hours only', async () => {
    const explain = store.explainErrorGroups({ tenant: 'shop', range: RANGE });
    assert.match(explain, /errors_1h/, 'the list over whole hours reads the rollup');
    assert.doesNotMatch(
      store.explainErrorGroups({ tenant: 'shop', range: { fromMs: NOW - 30 * MIN, toMs: NOW } }),
      /errors_1h/,
      'half an hour: raw events only',
    );
    assert.ok(sent.length > 1000, `${sent.length} events`);
  });

  it('answers the exact figures over a range with partial hours at both ends', async () => {
    await assertFigures('all', {});
  });

  it('filters by service and by release as the events would', async () => {
    await assertFigures(
      'service',
      { filter: matchOf('service.name', 'api-gateway') },
      (e) => e.service === 'api-gateway',
    );
    await assertFigures('release', { filter: matchOf('service.version', '1.0.0') }, (e) => e.release === '1.0.0');
    await assertFigures('one group', { groups: ['fp-stock'] }, (e) => e.fp === 'fp-stock');
  });

  it('applies a merge to rolled-up hours, with distinct counts over the merged group', async () => {
    await assertFigures('merged', {}, undefined, new Map([['fp-null', 'fp-timeout']]));
  });

  it('counts a late event in a rolled-up hour, and forgets an erased customer', async () => {
    const late: Sent = {
      ...(sent[5] as Sent),
      tsMs: NOW - 15 * HOUR + 123,
      user: 'u-late',
      customer: 'c-late',
      session: 's-late',
      message: 'late failure',
    };
    sent.push(late);
    await store.appendEvents([record(late)]);
    await assertFigures('late', {});
    await store.eraseCustomer('shop', { ids: ['c-3'], texts: [] });
    await assertFigures('erased', {}, (e) => e.customer !== 'c-3');
  });
});
