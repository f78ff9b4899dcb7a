import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';

const MIN = 60_000;

describe('minute rollups in a running server', () => {
  let srv: TestServer;
  const now = Date.now();
  let sent = 0;
  let failures = 0;

  const ask = (body: Record<string, unknown>) =>
    post(`${srv.url}/api/v1/query`, JSON.stringify(body), { 'content-type': 'application/json' });

  before(async () => {
    srv = await startTestServer({ store: { rollupInterval: '100ms' } });
    const lines: string[] = [];
    // Three hours of checkout requests, one every 20 s, every seventh one failing.
    for (let t = now - 3 * 60 * MIN; t < now - 5_000; t += 20_000, sent++) {
      const failed = sent % 7 === 0;
      if (failed) failures++;
      lines.push(
        JSON.stringify({
          '@timestamp': new Date(t).toISOString(),
          event: { type: 'api_request', outcome: failed ? 'failure' : 'success', duration: 50 + (sent % 13) },
          http: { route: '/api/checkout' },
        }),
      );
    }
    const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, lines.join('\n'));
    assert.equal(r.json.accepted, sent);
  });
  after(async () => {
    await srv.close();
  });

  it('rolls up closed minutes in the background; queries over hours use them and answer the same', async () => {
    const q = {
      query:
        'event.type:api_request | stats count() as requests, countif(event.outcome:failure) as errors by bin(@timestamp, 1m)',
      from: 'now-4h',
      to: 'now',
    };
    let sql = '';
    for (let i = 0; i < 100 && !sql.includes('events_1m'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      sql = (await ask({ ...q, explain: true })).json.explain.sql;
    }
    assert.match(sql, /events_1m/, 'the query reads the minute rollups');
    const answer = (await ask(q)).json;
    const sum = (k: number) => answer.rows.reduce((acc: number, r: unknown[]) => acc + Number(r[k]), 0);
    assert.equal(sum(1), sent);
    assert.equal(sum(2), failures);
    assert.equal(answer.stats.rowsScanned, sent);

    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    const lag = Number(/^shoplens_minute_rollup_lag_seconds (\S+)$/m.exec(metrics)?.[1]);
    assert.ok(lag >= 60 && lag < 240, `lag ${lag} s`);
  });
});
