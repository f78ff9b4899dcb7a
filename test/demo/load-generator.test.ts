/**
 * The load generator (`shoplens demo --rate N --url URL`): its pool of
 * demo-shop events is valid Shoplens input, re-stamping puts the events at
 * now, a paced run delivers the target rate and the server stores exactly
 * what it acknowledged, and `--rate` without `--url` is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Command, InvalidArgumentError } from 'commander';
import { registerDemoCommand, runDemo, type DemoOptions } from '../../src/cli/demo.ts';
import { runLoadGenerator } from '../../src/cli/load-generator.ts';
import { batchBody, buildLoadPool, type LoadPool } from '../../src/demo/load-pool.ts';
import { post, query, startTestServer, type TestServer } from '../helpers/server.ts';

const RECENT = { from: 'now-10m', to: 'now+1m' };

async function countOf(server: TestServer, q: string, range = RECENT): Promise<number> {
  const answer = await query(server.url, `${q} | stats count() as n`, range);
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  return Number(answer.json.rows[0]?.[0] ?? 0);
}

describe('load generator', () => {
  let server: TestServer;
  let pool: LoadPool;

  before(async () => {
    server = await startTestServer();
    pool = buildLoadPool({ seed: 42 });
  });
  after(async () => {
    await server.close();
  });

  it('builds the same pool for the same seed, with many event types', () => {
    assert.ok(pool.tails.length > 1000, `${pool.tails.length} events in the pool`);
    assert.deepEqual(buildLoadPool({ seed: 42 }).tails.slice(0, 50), pool.tails.slice(0, 50));
    for (const type of ['page_view', 'api_request', 'add_to_cart', 'payment_transaction', 'infrastructure']) {
      assert.ok((pool.types[type] ?? 0) > 0, `pool has ${type} events: ${JSON.stringify(pool.types)}`);
    }
  });

  it('pool events are accepted by Shoplens as they are, and keep their types', async () => {
    const stamp = new Date().toISOString();
    const sample = 1500;
    const body = batchBody(pool.tails, 0, sample, stamp);
    const answer = await post(`${server.url}/api/v1/events?refresh=wait_for`, body);
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json.accepted, sample);
    assert.deepEqual(answer.json.rejected ?? [], []);
    const range = { from: stamp, to: new Date(Date.parse(stamp) + 1000).toISOString() };
    assert.equal(await countOf(server, '*', range), sample);
    const types = await query(server.url, '* | stats count() as n by event.type', range);
    assert.equal(types.status, 200, JSON.stringify(types.json));
    const stored = new Set(types.json.rows.map((row: unknown[]) => row[0]));
    for (const type of ['page_view', 'api_request', 'add_to_cart', 'payment_transaction', 'order_completed']) {
      assert.ok(stored.has(type), `${type} stored: ${[...stored].join(', ')}`);
    }
  });

  it('re-stamps every event of a batch to the given time, wrapping around the pool', () => {
    const before = Date.now();
    const stamp = new Date().toISOString();
    const count = 700;
    const lines = batchBody(pool.tails, pool.tails.length - 200, count, stamp).split('\n');
    assert.equal(lines.pop(), '', 'NDJSON ends with a newline');
    assert.equal(lines.length, count);
    for (const line of lines) {
      const event = JSON.parse(line) as Record<string, unknown>;
      const ts = Date.parse(String(event['@timestamp']));
      assert.ok(ts >= before - 1 && ts <= Date.now() && Date.now() - ts < 5_000, `stamped ${event['@timestamp']}`);
      assert.equal(Object.keys(event)[0], '@timestamp');
      assert.ok(typeof (event['event'] as { type?: unknown }).type === 'string');
    }
  });

  it('delivers the target rate, and the server stores exactly what it acknowledged', async () => {
    const before = await countOf(server, '*', { from: 'now-1h', to: 'now+1h' });
    const lines: string[] = [];
    const summary = await runLoadGenerator(
      { url: server.url, rate: 2000, durationMs: 3000, seed: 7 },
      new AbortController().signal,
      (line) => lines.push(line),
    );
    const expected = 2000 * 3;
    assert.ok(
      summary.ackedEvents >= expected * 0.75 && summary.ackedEvents <= expected * 1.25,
      `acknowledged ${summary.ackedEvents} of ~${expected}\n${lines.join('\n')}`,
    );
    assert.equal(summary.ackedEvents, summary.sentEvents);
    assert.equal(summary.rejectedEvents, 0);
    assert.equal(summary.statuses['200'] * 500, summary.sentEvents);
    assert.equal((await countOf(server, '*', { from: 'now-1h', to: 'now+1h' })) - before, summary.ackedEvents);
    assert.ok(
      lines.some((l) => /^load +\d+ s \| target 2,000 events\/s \| sent [\d,]+ ev\/s \| acked .*p50 .*p99/.test(l)),
      lines.join('\n'),
    );
    assert.match(lines.at(-1) ?? '', /^Load run .* acknowledged [\d,]+ .*answers 200:\d+ 429:0 503:0/);
  });

  it('measures its own capacity with --dry-run, without a server', async () => {
    const summary = await runLoadGenerator(
      { rate: 0, durationMs: 1000, dryRun: true, seed: 42 },
      new AbortController().signal,
      () => {},
    );
    assert.ok(summary.sentEvents > 10_000, `${summary.sentEvents} events generated in 1 s`);
    assert.equal(summary.ackedEvents, 0);
  });

  it('refuses --rate without --url, and load flags without --rate', async () => {
    const base: DemoOptions = { history: 0, speed: 1, seed: 42, scale: 1, historyScale: 0.1, rate: 1000 };
    await assert.rejects(
      runDemo(base, new AbortController().signal, () => {}),
      (err: unknown) => err instanceof InvalidArgumentError && /--rate .*give its --url/.test(err.message),
    );
    const program = new Command().exitOverride();
    program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerDemoCommand(program).exitOverride();
    await assert.rejects(program.parseAsync(['node', 'shoplens', 'demo', '--rate', 'max']), /give its --url/);
    await assert.rejects(
      runDemo({ ...base, rate: undefined, dryRun: true }, new AbortController().signal, () => {}),
      /apply to the load generator: add --rate/,
    );
  });
});
