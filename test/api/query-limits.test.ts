/**
 * A hostile client cannot freeze the server with one query: pathological
 * queries (1 MB of text, 5,000 alternatives, 10,000 "(", 5,000 NOT, a
 * 5,000-deep expression, 3,000 wildcards) answer 400s naming the limit or
 * a normal answer, while /health keeps answering; a query that runs past
 * `query.timeout` answers 504 `query.timeout` and the server goes on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { post, query, startTestServer, type TestServer } from '../helpers/server.ts';

const RANGE = { from: 'now-1d', to: 'now+1h' };

async function ingest(srv: TestServer, n: number): Promise<void> {
  const now = Date.now();
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(
      JSON.stringify({
        '@timestamp': new Date(now - i * 1_000).toISOString(),
        event: { type: 'api_request' },
        message: `request ${i} for cart ${i % 97}`,
        cart: { id: `c${i % 50}`, note: `note ${i}` },
      }),
    );
  }
  const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, lines.join('\n'));
  assert.equal(r.json.accepted, n);
}

describe('query bounds on a running server', () => {
  let srv: TestServer;

  before(async () => {
    srv = await startTestServer();
    await ingest(srv, 2_000);
  });
  after(async () => {
    await srv.close();
  });

  it('keeps /health answering while pathological queries run, and answers each with a 400 naming the limit', async () => {
    const alternatives = Array.from({ length: 5_000 }, (_, i) => `b${i}`).join(' or ');
    const bad: { text: string; code: string; message: RegExp }[] = [
      {
        text: 'x'.repeat(1_000_000),
        code: 'query.too_long',
        message: /the limit is 65536 characters \(query.maxLength\)/,
      },
      { text: `cart.id:(${alternatives})`, code: 'query.too_complex', message: /the limit is 1024 terms/ },
      {
        text: `${'('.repeat(10_000)}a${')'.repeat(10_000)}`,
        code: 'query.too_deep',
        message: /the limit is 64 levels/,
      },
      { text: `${'NOT '.repeat(5_000)}a`, code: 'query.too_deep', message: /the limit is 64 levels/ },
      {
        text: `* | where ${'('.repeat(5_000)}1${')'.repeat(5_000)} > 0`,
        code: 'query.too_deep',
        message: /the limit is 64 levels/,
      },
      { text: '* | where cart.id =~ "c1"', code: 'query.syntax', message: /Unknown operator "=~"/ },
    ];
    let stop = false;
    const healthMs: number[] = [];
    const poll = (async () => {
      while (!stop) {
        const started = performance.now();
        const r = await fetch(`${srv.url}/health`);
        assert.equal(r.status, 200);
        healthMs.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const wildcards = query(srv.url, `message:${'r*'.repeat(3_000)}`, RANGE);
    const answers = await Promise.all(bad.map((b) => query(srv.url, b.text, RANGE)));
    const wildcard = await wildcards;
    stop = true;
    await poll;
    for (const [i, r] of answers.entries()) {
      const b = bad[i] as (typeof bad)[number];
      assert.equal(r.status, 400, `${b.code}: ${JSON.stringify(r.json).slice(0, 200)}`);
      assert.equal(r.json.error.code, b.code);
      assert.match(r.json.error.message, b.message);
    }
    // 3,000 wildcards is a valid pattern: an answer (no message has 3,000 r's), not a freeze.
    assert.equal(wildcard.status, 200);
    assert.equal(wildcard.json.rows.length, 0);
    assert.ok(healthMs.length >= 2, `health polled ${healthMs.length} times`);
    assert.ok(Math.max(...healthMs) < 1_000, `slowest /health ${Math.round(Math.max(...healthMs))} ms`);
    // The server still answers queries afterwards.
    const after = await query(srv.url, 'cart.id:(c1 or c2 or c3) | stats count() as n', RANGE);
    assert.equal(after.status, 200);
    assert.deepEqual(after.json.rows, [[120]]);
  });

  it('compiles numbers from 1e21 on to valid SQL', async () => {
    const r = await query(srv.url, '* | where 1 < 1000000000000000000000 | stats count() as n', RANGE);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json.rows, [[2_000]]);
    const none = await query(srv.url, '* | where 1 > 1000000000000000000000 | stats count() as n', RANGE);
    assert.deepEqual(none.json.rows, [[0]]);
  });
});

describe('query timeout on a running server', () => {
  let srv: TestServer;

  before(async () => {
    srv = await startTestServer({ query: { timeout: 1 } });
    await ingest(srv, 20_000);
  });
  after(async () => {
    await srv.close();
  });

  it('answers 504 query.timeout for a query past query.timeout, and goes on serving', async () => {
    // Reads two attributes per row and groups by one: far longer than 1 ms.
    const slow = '* | where cart.note != "x" | stats count() as n by cart.note | sort n desc';
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => query(srv.url, slow, RANGE)));
    for (const r of answers) {
      assert.equal(r.status, 504, JSON.stringify(r.json).slice(0, 200));
      assert.equal(r.json.error.code, 'query.timeout');
      assert.match(r.json.error.message, /cancelled after 1 ms \(query.timeout\)/);
    }
    assert.equal((await fetch(`${srv.url}/health`)).status, 200);
  });
});
