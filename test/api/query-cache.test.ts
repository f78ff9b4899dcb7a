import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';

describe('server-side answer cache (maxAge)', () => {
  let srv: TestServer;
  const q = 'event.type:purchase | stats count() as n, sum(transaction.amount) as revenue';

  function ingest(n: number, customer = 'cust_1') {
    const lines = Array.from({ length: n }, (_, i) =>
      JSON.stringify({ 'event.type': 'purchase', 'transaction.amount': 10 + i, 'customer.id': customer }),
    );
    return post(`${srv.url}/api/v1/events?refresh=wait_for`, lines.join('\n'));
  }
  function ask(body: Record<string, unknown>) {
    return post(`${srv.url}/api/v1/query`, JSON.stringify({ query: q, from: 'now-1h', to: 'now+5m', ...body }), {
      'content-type': 'application/json',
    });
  }

  before(async () => {
    srv = await startTestServer();
  });
  after(async () => {
    await srv.close();
  });

  it('serves a recent identical answer to callers that accept one, and a fresh one to the others', async () => {
    assert.equal((await ingest(3)).status, 200);
    const first = await ask({ maxAge: '5s' });
    assert.equal(first.status, 200);
    assert.equal(first.json.rows[0][0], 3);
    assert.equal(first.json.stats.cached, undefined);

    assert.equal((await ingest(2)).status, 200);
    const cached = await ask({ maxAge: '5s' });
    assert.equal(cached.json.stats.cached, 'hit');
    assert.equal(cached.json.rows[0][0], 3, 'a dashboard accepting 5 s old answers gets the cached one');
    assert.ok(cached.json.stats.cacheAgeMs >= 0 && cached.json.stats.cacheAgeMs <= 5000);

    const fresh = await ask({});
    assert.equal(fresh.json.rows[0][0], 5, 'without maxAge the answer includes what was just ingested');
    assert.equal(fresh.json.stats.cached, undefined);
    // Milliseconds work too; the fresh run above refreshed the cached answer.
    const again = await ask({ maxAge: 5000 });
    assert.equal(again.json.rows[0][0], 5);

    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(metrics, /shoplens_query_cache_requests_total\{endpoint="query",result="hit"\} 2/);
  });

  it('rejects a bad maxAge with a message naming it', async () => {
    const bad = await ask({ maxAge: 'soon' });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /"maxAge"/);
    const tooLong = await ask({ maxAge: '2h' });
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.json.error.message, /"maxAge": expected at most 1 minute/);
  });

  it('caches funnels the same way', async () => {
    const stepCounts = (answer: { total: { steps: { name: string; count: number }[] } }) =>
      answer.total.steps.map((s) => `${s.name}=${s.count}`);
    const body = {
      steps: [
        { name: 'any', filter: '*' },
        { name: 'bought', filter: 'event.type:purchase' },
      ],
      key: 'customer.id',
      from: 'now-1h',
      to: 'now+5m',
      maxAge: '5s',
    };
    const url = `${srv.url}/api/v1/funnel`;
    const h = { 'content-type': 'application/json' };
    const a = await post(url, JSON.stringify(body), h);
    assert.equal(a.status, 200, JSON.stringify(a.json));
    assert.deepEqual(stepCounts(a.json), ['any=1', 'bought=1'], 'only cust_1 has bought so far');
    await ingest(1, 'cust_2');
    const b = await post(url, JSON.stringify(body), h);
    assert.deepEqual(b.json, a.json, 'the cached funnel');
    const c = await post(url, JSON.stringify({ ...body, maxAge: 0 }), h);
    // The answer also carries the resolved time range, so "differs" alone would always pass: compare the counts.
    assert.deepEqual(stepCounts(c.json), ['any=2', 'bought=2'], 'a fresh funnel sees the new customer cust_2');
  });

  it('forgets cached answers of a tenant after an erasure', async () => {
    const before = await ask({ maxAge: '30s' });
    assert.ok(before.json.rows[0][0] > 0);
    const erased = await post(`${srv.url}/api/v1/privacy/erasure`, JSON.stringify({ customer_id: 'cust_1' }), {
      'content-type': 'application/json',
    });
    assert.equal(erased.status, 200, JSON.stringify(erased.json));
    const after = await ask({ maxAge: '30s' });
    assert.equal(after.json.stats.cached, undefined, 'not served from the cache');
    assert.equal(after.json.rows[0][0], 1, "only cust_2's purchase is left");
  });
});
