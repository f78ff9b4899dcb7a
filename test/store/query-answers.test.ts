/**
 * Answers the compiler must get right at the edges: countif over events
 * that lack the field counts 0 on the raw and on the rollup path (it was
 * NULL on the raw path); numbers from 1e21 on compile to valid SQL; an OR
 * of exact values of one field is one IN; an IR operator the compiler does
 * not know is an internal error, never a silent "=".
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../src/errors.ts';
import { parseQuery } from '../../src/query/index.ts';
import type { Query } from '../../src/query/ir.ts';
import type { EventRecord } from '../../src/schema/record.ts';
import { duckdbDialect } from '../../src/store/duckdb/duckdb-dialect.ts';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.ts';
import { QueryCompiler } from '../../src/store/sql/query-compiler.ts';
import { testDataDir } from '../helpers/server.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Math.floor(Date.now() / HOUR) * HOUR;
/** Two whole hours, rolled up below: long enough for the minute-rollup path. */
const LONG = { fromMs: NOW - 3 * HOUR, toMs: NOW - HOUR };
/** Fifteen minutes: read from raw events. */
const SHORT = { fromMs: NOW - 2 * HOUR, toMs: NOW - 2 * HOUR + 15 * MIN };

const compiler = new QueryCompiler(duckdbDialect, { defaultLimit: 100, maxRows: 1_000, nowMs: NOW });
const sqlOf = (query: Query) => compiler.compile({ query, range: SHORT, tenant: 't' });

describe('countif over events without the field', () => {
  let store: DuckDBStore;
  let dir: string;
  let sent = 0;

  before(async () => {
    dir = testDataDir();
    store = new DuckDBStore({ dataDir: dir, defaultLimit: 100, maxRows: 1_000, queryTimeoutMs: 30_000 });
    await store.open();
    // One API request a minute for three hours; none has a gateway.
    const events: EventRecord[] = [];
    for (let t = NOW - 3 * HOUR; t < NOW; t += MIN, sent++) {
      events.push({
        ts: t * 1000,
        tenant: 't',
        dataClass: 'app',
        columns: { event_type: 'api_request' },
        attributes: null,
      });
    }
    await store.appendEvents(events);
    for (let caughtUp = false; !caughtUp;) ({ caughtUp } = await store.rollUp(NOW + 10 * MIN));
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const q = parseQuery('event.type:api_request | stats count() as n, countif(transaction.gateway:stripe) as stripe');

  it('counts 0 on the raw path (short range)', async () => {
    const request = { query: q, range: SHORT, tenant: 't' };
    assert.doesNotMatch(store.explain(request).sql, /events_1m/);
    assert.deepEqual((await store.query(request)).rows, [[15, 0]]);
  });

  it('counts 0 on the minute-rollup path (long range)', async () => {
    const request = { query: q, range: LONG, tenant: 't' };
    assert.match(store.explain(request).sql, /events_1m/);
    assert.deepEqual((await store.query(request)).rows, [[120, 0]]);
  });

  it('counts 0 over a range without events, on both paths', async () => {
    const empty = { query: q, tenant: 'nobody' };
    assert.deepEqual((await store.query({ ...empty, range: SHORT })).rows, [[0, 0]]);
    assert.deepEqual((await store.query({ ...empty, range: LONG })).rows, [[0, 0]]);
  });

  it('runs numbers from 1e21 on as valid SQL', async () => {
    const run = (text: string) => store.query({ query: parseQuery(text), range: SHORT, tenant: 't' });
    assert.deepEqual((await run('* | where 5 < 1000000000000000000000 | stats count() as n')).rows, [[15]]);
    assert.deepEqual((await run('* | eval big = 123456789012345678901234 * 10 | stats max(big) as m')).rows, [
      [1.2345678901234568e24],
    ]);
  });

  it('binds filter numbers past int64 as doubles (they answered 500: "bigint out of int64 range")', async () => {
    const run = (text: string) => store.query({ query: parseQuery(text), range: SHORT, tenant: 't' });
    for (const filter of [
      'transaction.amount:1e19',
      'foo:9223372036854775807',
      'foo:1e300',
      'payment.risk_score:>=1e19',
      'http.response.status_code:>1e19',
      'transaction.amount:(1e19 or 2e19)',
      'transaction.amount:-1e19',
    ]) {
      assert.deepEqual((await run(`${filter} | stats count() as n`)).rows, [[0]], filter);
    }
    assert.deepEqual((await run('transaction.amount:<1e19 | stats count() as n')).rows.length, 1);
  });
});

describe('compiled SQL at the edges', () => {
  it('writes numbers as valid literals', () => {
    const sql = sqlOf(parseQuery('* | where a > 1000000000000000000000 and b < 0.5 and c = 7')).sql;
    assert.match(sql, /> 1e\+21\)/);
    assert.match(sql, /< 0\.5\)/);
    assert.match(sql, /= 7\.0\)/);
    assert.doesNotMatch(sql, /e\+21\.0/);
  });

  it('compiles exact values of one field in an OR to one IN', () => {
    const { sql, params } = sqlOf(parseQuery('cart.id:(a or b or c) or transaction.gateway:(stripe or adyen)'));
    assert.match(sql, /json_extract_string\("attributes", \$4\) IN \(\$5, \$6, \$7\) OR "gateway" IN \(\$8, \$9\)/);
    assert.deepEqual(
      params.slice(3).map((p) => p.value),
      ['$."cart.id"', 'a', 'b', 'c', 'stripe', 'adyen'],
    );
  });

  it('refuses an operator it does not know instead of compiling "="', () => {
    const query = parseQuery('* | where a = 1');
    const stage = query.stages[0] as { kind: 'where'; expr: { op: string } };
    const broken = { ...query, stages: [{ ...stage, expr: { ...stage.expr, op: '=~' } }] } as unknown as Query;
    assert.throws(
      () => sqlOf(broken),
      (err: unknown) => err instanceof AppError && err.status === 500 && /unknown operator "=~"/.test(err.message),
    );
  });

  it('refuses an eval chain whose SQL doubles at each step', () => {
    const evals = Array.from({ length: 30 }, (_, i) => `a${i + 1} = a${i} + a${i}`).join(', ');
    assert.throws(
      () => sqlOf(parseQuery(`* | eval a0 = 1, ${evals} | stats max(a30) as m`)),
      (err: unknown) => err instanceof AppError && err.code === 'query.too_complex' && err.status === 400,
    );
  });

  it('refuses more than 32 attribute reads', () => {
    const terms = Array.from({ length: 33 }, (_, i) => `f${i}:x*`).join(' or ');
    assert.throws(() => sqlOf(parseQuery(terms)), /more than 32 times/);
    assert.doesNotThrow(() => sqlOf(parseQuery(`f:(${Array.from({ length: 500 }, (_, i) => `v${i}`).join(' or ')})`)));
  });
});
