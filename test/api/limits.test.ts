/**
 * Limits: per-tenant rate limits answer 429 with Retry-After; an ingest queue
 * over its bound answers 503 with Retry-After; under sustained overload the
 * server keeps answering and its memory stays bounded; nothing acknowledged
 * is lost.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { post, query, startTestServer, type TestServer } from '../helpers/server.ts';

describe('per-tenant rate limits', () => {
  let srv: TestServer;
  const keyOf: Record<string, string> = {};

  before(async () => {
    srv = await startTestServer({
      auth: 'keys',
      limits: { queriesPerSecond: 1, queryBurst: 3, ingestBytesPerSecond: 2000, ingestBurstBytes: 4000 },
    });
    for (const tenant of ['shop-a', 'shop-b']) {
      keyOf[tenant] = (await srv.server.context.keys.create({ tenant, role: 'admin', createdBy: 'test' })).key;
    }
  });
  after(async () => {
    await srv.close();
  });

  const ask = (tenant: string) =>
    post(`${srv.url}/api/v1/query`, JSON.stringify({ query: '* | stats count()' }), {
      'content-type': 'application/json',
      authorization: `Bearer ${keyOf[tenant]}`,
    });

  it('answers 429 with Retry-After past the query burst, per tenant', async () => {
    // Six at once: the burst of three passes, the rest is refused (refill is 1/s, so at most one more).
    const answers = await Promise.all(Array.from({ length: 6 }, () => ask('shop-a')));
    const ok = answers.filter((a) => a.status === 200).length;
    assert.ok(ok === 3 || ok === 4, answers.map((a) => a.status).join(','));
    assert.ok(answers.every((a) => a.status === 200 || a.status === 429));
    const limited = answers.find((a) => a.status === 429)!;
    assert.equal(limited.json.error.code, 'limits.rate_limited');
    assert.match(limited.json.error.message, /shop-a.*1 queries\/s/);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    // Another tenant is not affected.
    assert.equal((await ask('shop-b')).status, 200);
    // Health checks are never limited.
    assert.equal((await fetch(`${srv.url}/health`)).status, 200);
  });

  it('limits ingest bytes per tenant and stores nothing of a refused request', async () => {
    const line = JSON.stringify({ '@timestamp': new Date().toISOString(), message: 'x'.repeat(900), tag: 'bytes' });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await post(`${srv.url}/api/v1/events`, line, {
        'content-type': 'application/x-ndjson',
        authorization: `Bearer ${keyOf['shop-b']}`,
      });
      statuses.push(r.status);
      if (r.status === 429) assert.match(r.json.error.message, /ingest limit of 2000 bytes\/s/);
    }
    const accepted = statuses.filter((s) => s === 200).length;
    assert.ok(accepted >= 4 && accepted < 8, statuses.join(','));
    assert.ok(statuses.includes(429));
    await new Promise((r) => setTimeout(r, 1100));
    const stored = await post(`${srv.url}/api/v1/query`, JSON.stringify({ query: 'tag:bytes | stats count() as n' }), {
      'content-type': 'application/json',
      authorization: `Bearer ${keyOf['shop-b']}`,
    });
    assert.deepEqual(stored.json.rows, [[accepted]]);
    const metrics = await (
      await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${keyOf['shop-b']}` } })
    ).text();
    assert.match(metrics, /shoplens_rate_limited_requests_total\{kind="ingest"\} [1-9]/);
  });
});

describe('overload: a bounded ingest queue', () => {
  let srv: TestServer;

  before(async () => {
    // A small queue so that a few concurrent requests overflow it.
    srv = await startTestServer({ ingest: { queueMaxEvents: 3000, batchMaxEvents: 1000 } });
  });
  after(async () => {
    await srv.close();
  });

  it('answers 503 with Retry-After above capacity, keeps memory bounded, and loses nothing it acknowledged', async () => {
    const batch = (i: number) =>
      Array.from({ length: 1000 }, (_, j) =>
        JSON.stringify({
          '@timestamp': new Date().toISOString(),
          event: { type: 'payment_transaction', outcome: 'success' },
          transaction: { id: `t-${i}-${j}`, amount: 10 },
          tag: 'overload',
          padding: 'p'.repeat(300),
        }),
      ).join('\n');
    const bodies = Array.from({ length: 8 }, (_, i) => batch(i));
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);
    let acknowledged = 0;
    let refused = 0;
    const deadline = Date.now() + 6000;
    try {
      // 24 requests in flight at once, for six seconds: far more than a 3,000-event queue holds.
      await Promise.all(
        Array.from({ length: 24 }, async (_, worker) => {
          for (let n = 0; Date.now() < deadline; n++) {
            const r = await post(`${srv.url}/api/v1/events`, bodies[(worker + n) % bodies.length] as string);
            if (r.status === 200) acknowledged += r.json.accepted as number;
            else {
              assert.equal(r.status, 503, JSON.stringify(r.json));
              assert.equal(r.json.error.code, 'ingest.overloaded');
              assert.ok(Number(r.headers.get('retry-after')) >= 1);
              refused++;
            }
          }
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    assert.ok(refused > 0, 'the queue overflowed at least once');
    assert.ok(acknowledged > 0, 'and still took work');
    // The bound: the queue holds at most 3,000 events (~1.3 MB of rows); the test client, server,
    // DuckDB and 24 request bodies in flight stay well under 400 MB of growth.
    const growthMb = (peakRss - rssBefore) / 2 ** 20;
    assert.ok(growthMb < 400, `RSS grew by ${growthMb.toFixed(0)} MB`);
    const stored = await query(srv.url, 'tag:overload | stats count() as n', { from: 'now-1h', to: 'now+1h' });
    assert.deepEqual(stored.json.rows, [[acknowledged]]);
  });
});
