/**
 * Limits: per-tenant rate limits answer 429 with Retry-After; ingest under
 * overload (more bytes waiting than `ingest.maxPendingBytes`, or more than
 * `ingest.maxQueueDelay` of estimated commit work) answers 429 with
 * Retry-After before memory or latency run away; every acknowledged event
 * is stored, no refused one is, and the server recovers.
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
    // What was acknowledged is visible within a second; a refresh makes sure.
    await post(`${srv.url}/_refresh`, '', { authorization: `Bearer ${keyOf['shop-b']}` });
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

describe('overload: back-pressure by bytes and by estimated commit delay', () => {
  /** One request body: `lines` events tagged with the request's own tag. */
  const body = (tag: string, lines: number) =>
    Array.from({ length: lines }, (_, j) =>
      JSON.stringify({
        '@timestamp': new Date().toISOString(),
        event: { type: 'payment_transaction', outcome: 'success' },
        transaction: { id: `${tag}-${j}`, amount: 10 },
        tag,
        padding: 'p'.repeat(400),
      }),
    ).join('\n');

  /** Sends `n` requests at once; answers each request's tag and answer. */
  async function burst(url: string, prefix: string, n: number, lines: number) {
    return Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const tag = `${prefix}-${i}`;
        return { tag, lines, answer: await post(`${url}/api/v1/events?refresh=wait_for`, body(tag, lines)) };
      }),
    );
  }

  /** Stored events per tag. */
  async function storedByTag(url: string, prefix: string): Promise<Map<string, number>> {
    const r = await query(url, `tag:${prefix}-* | stats count() as n by tag | limit 10000`, {
      from: 'now-1h',
      to: 'now+1h',
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const tagAt = r.json.columns.findIndex((c: { name: string }) => c.name === 'tag');
    const nAt = r.json.columns.findIndex((c: { name: string }) => c.name === 'n');
    return new Map(r.json.rows.map((row: unknown[]) => [row[tagAt] as string, Number(row[nAt])]));
  }

  /** Every 2xx answer's events are stored, and nothing of a 429'd request; answers the refusals. */
  async function checkAnswers(url: string, prefix: string, sent: Awaited<ReturnType<typeof burst>>) {
    const stored = await storedByTag(url, prefix);
    const refused = [];
    for (const { tag, lines, answer } of sent) {
      if (answer.status === 200) {
        assert.equal(answer.json.accepted, lines);
        assert.equal(stored.get(tag), lines, `${tag} was acknowledged but ${stored.get(tag) ?? 0} are stored`);
      } else {
        assert.equal(answer.status, 429, JSON.stringify(answer.json));
        assert.equal(answer.json.error.code, 'ingest.overloaded');
        assert.match(answer.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
        assert.equal(stored.get(tag), undefined, `${tag} was refused but ${stored.get(tag)} events are stored`);
        refused.push(answer);
      }
    }
    return refused;
  }

  it('refuses bodies past ingest.maxPendingBytes with 429 and Retry-After, and recovers', async () => {
    const srv = await startTestServer({ ingest: { maxPendingBytes: '256kb', maxQueueDelay: '1h' } });
    try {
      // 24 bodies of ~100 KB at once: far more than 256 KB can be waiting at any time.
      const sent = await burst(srv.url, 'bytes', 24, 200);
      const refused = await checkAnswers(srv.url, 'bytes', sent);
      assert.ok(refused.length > 0, 'some requests were refused');
      assert.ok(refused.length < sent.length, 'and some were taken');
      assert.match(
        refused[0]!.json.error.message,
        /receiving more than it can commit: .* would pass the limit of 256 KiB \(ingest\.maxPendingBytes\); nothing of this request was stored, retry it after \d+ s/,
      );
      // Recovered: with nothing waiting, the next request is taken.
      const later = await post(`${srv.url}/api/v1/events?refresh=wait_for`, body('bytes-later', 200));
      assert.equal(later.status, 200, JSON.stringify(later.json));
      assert.equal((await storedByTag(srv.url, 'bytes')).get('bytes-later'), 200);
      const metrics = await (await fetch(`${srv.url}/metrics`)).text();
      const counted = /shoplens_rate_limited_requests_total\{kind="overload"\} (\d+)/.exec(metrics);
      assert.equal(Number(counted?.[1]), refused.length, 'every refusal is counted');
    } finally {
      await srv.close();
    }
  });

  it('refuses work that would take longer than ingest.maxQueueDelay to commit, and recovers', async () => {
    // A delay bound far below what any machine commits concurrent 100 KB bodies in.
    const srv = await startTestServer({ ingest: { maxPendingBytes: '1gb', maxQueueDelay: '1ms' } });
    try {
      // The first requests measure the commit rate (nothing is refused before it is known).
      await checkAnswers(srv.url, 'warm', await burst(srv.url, 'warm', 4, 200));
      const sent = await burst(srv.url, 'delay', 24, 200);
      const refused = await checkAnswers(srv.url, 'delay', sent);
      assert.ok(refused.length > 0, 'some requests were refused');
      assert.ok(refused.length < sent.length, 'and some were taken');
      assert.match(
        refused[0]!.json.error.message,
        /would take about .* to commit, longer than the limit of 1 ms \(ingest\.maxQueueDelay\)/,
      );
      const later = await post(`${srv.url}/api/v1/events?refresh=wait_for`, body('delay-later', 200));
      assert.equal(later.status, 200, JSON.stringify(later.json));
    } finally {
      await srv.close();
    }
  });

  it('answers an Elasticsearch _bulk client 429 in its own error shape', async () => {
    const srv = await startTestServer({ ingest: { maxPendingBytes: '64kb', maxQueueDelay: '1h' } });
    try {
      const bulkBody = (tag: string) =>
        body(tag, 100)
          .split('\n')
          .flatMap((line) => ['{"index":{"_index":"logs-bp"}}', line])
          .join('\n') + '\n';
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => post(`${srv.url}/_bulk?refresh=wait_for`, bulkBody(`bulk-${i}`))),
      );
      const refused = answers.filter((a) => a.status === 429);
      assert.ok(refused.length > 0, answers.map((a) => a.status).join(','));
      assert.equal(refused[0]!.json.error.type, 'ingest.overloaded');
      assert.match(refused[0]!.json.error.reason, /ingest\.maxPendingBytes/);
      assert.match(refused[0]!.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
      const stored = await storedByTag(srv.url, 'bulk');
      answers.forEach((a, i) => assert.equal(stored.get(`bulk-${i}`), a.status === 200 ? 100 : undefined));
    } finally {
      await srv.close();
    }
  });
});
