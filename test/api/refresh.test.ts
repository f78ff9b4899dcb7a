/**
 * Visibility over HTTP: an ingest answer means durable, not yet visible;
 * `?refresh=wait_for` answers once the events are visible, `?refresh=true`
 * makes them visible at once, `POST /_refresh` makes everything acknowledged
 * visible; a bad value is refused; /metrics shows the log and the time to
 * visibility.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { post, query, startTestServer, type TestServer } from '../helpers/server.ts';

function event(tag: string): string {
  return JSON.stringify({ '@timestamp': new Date().toISOString(), message: `refresh ${tag}`, tag });
}

async function count(srv: TestServer, tag: string): Promise<number> {
  const r = await query(srv.url, `tag:${tag} | stats count() as n`, { from: 'now-1h', to: 'now+1h' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return Number(r.json.rows[0]?.[0] ?? 0);
}

describe('refresh: when ingested events become visible', () => {
  let srv: TestServer;
  before(async () => {
    // A long interval, so that "not visible yet" holds for as long as the test looks.
    srv = await startTestServer({ store: { refreshInterval: '20s' } });
  });
  after(async () => srv.close());

  it('answers once the events are durable; they are not visible until a refresh', async () => {
    const r = await post(`${srv.url}/api/v1/events`, [event('later'), event('later')].join('\n'));
    assert.equal(r.status, 200);
    assert.equal(r.json.accepted, 2);
    assert.equal(await count(srv, 'later'), 0, 'acknowledged, not visible yet');
    const refreshed = await post(`${srv.url}/_refresh`, '');
    assert.equal(refreshed.status, 200);
    assert.deepEqual(refreshed.json, { _shards: { total: 1, successful: 1, failed: 0 } });
    assert.equal(await count(srv, 'later'), 2);
  });

  it('?refresh=true answers with the events visible', async () => {
    const r = await post(`${srv.url}/api/v1/events?refresh=true`, event('now'));
    assert.equal(r.status, 200);
    assert.equal(await count(srv, 'now'), 1);
  });

  it('?refresh=wait_for answers once the events are visible (here: at the next refresh)', async () => {
    const waiting = post(`${srv.url}/api/v1/events?refresh=wait_for`, event('waited'));
    // Another request's refresh is the next refresh: the waiting request answers after it.
    await new Promise((r) => setTimeout(r, 200));
    await post(`${srv.url}/_refresh`, '');
    const r = await waiting;
    assert.equal(r.status, 200);
    assert.equal(await count(srv, 'waited'), 1);
  });

  it('refuses a refresh value it does not know, in the shape of each API', async () => {
    const events = await post(`${srv.url}/api/v1/events?refresh=soon`, event('bad'));
    assert.equal(events.status, 400);
    assert.equal(events.json.error.code, 'ingest.invalid_refresh');
    assert.match(events.json.error.message, /true, false or wait_for/);
    const bulk = await post(`${srv.url}/_bulk?refresh=soon`, `{"index":{"_index":"logs-x"}}\n${event('bad')}\n`);
    assert.equal(bulk.status, 400);
    assert.equal(bulk.json.error.type, 'illegal_argument_exception');
    await post(`${srv.url}/_refresh`, '');
    assert.equal(await count(srv, 'bad'), 0, 'nothing of a refused request is stored');
  });

  it('shows the log and the time to visibility in /metrics', async () => {
    await post(`${srv.url}/api/v1/events`, event('metrics'));
    const before = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(before, /^shoplens_log_bytes [1-9]\d*$/m, 'the acknowledged event is in the log');
    await post(`${srv.url}/_refresh`, '');
    const after = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(after, /^shoplens_log_bytes 0$/m, 'loaded and deleted');
    const visible = Number(/^shoplens_ingest_visibility_seconds_count (\d+)$/m.exec(after)?.[1]);
    assert.equal(visible, 4, 'each of the 4 acknowledged requests was timed to visibility');
    assert.match(after, /^shoplens_log_loaded_events_total [1-9]/m);
    assert.match(after, /^shoplens_ingest_stage_seconds_total\{stage="load"\} /m);
  });
});
