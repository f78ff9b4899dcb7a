/**
 * Dashboards API, the funnel endpoint and UI serving, over a real server
 * with a day of demo shop data: every prebuilt panel's query answers rows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expandPanel } from '../../web/src/dashboard-variables.ts';
import { prebuiltDashboards } from '../../src/analytics/prebuilt-dashboards.ts';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { loadDemoDay } from '../web/demo-data.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };

async function call(
  server: TestServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : JSON_HEADERS), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: any = text;
  try {
    json = JSON.parse(text);
  } catch {
    // HTML answers stay text.
  }
  return { status: response.status, headers: response.headers, json };
}

/** What the UI does with `$interval`: the 1 h / 24 h / 7 d ranges map to 1m / 15m / 1h buckets. */
function expand(query: string, from: string): string {
  const interval = from === 'now-1h' ? '1m' : from === 'now-24h' ? '15m' : '1h';
  const minutes = { '1m': 1, '15m': 15, '1h': 60 }[interval];
  return query.replaceAll('$intervalMinutes', String(minutes)).replaceAll('$interval', interval);
}

describe('dashboards API', () => {
  let server: TestServer;
  let stored = 0;

  before(async () => {
    server = await startTestServer();
    stored = await loadDemoDay(server);
  });
  after(async () => {
    await server.close();
  });

  it('lists the seven prebuilt dashboards', async () => {
    const r = await call(server, 'GET', '/api/v1/dashboards');
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.json.dashboards.map((d: any) => d.id),
      ['payments', 'checkout', 'journey', 'segments', 'sla', 'executive', 'sales'],
    );
    assert.ok(r.json.dashboards.every((d: any) => d.prebuilt && !d.modified && d.panels >= 5));
  });

  it('answers rows for every panel of every prebuilt dashboard over demo data', async () => {
    assert.ok(stored > 10_000, `${stored} demo events`);
    const empty: string[] = [];
    for (const d of prebuiltDashboards()) {
      // Each panel as the UI runs it by default: variables ($source) at their first option.
      for (const p of d.panels.map((panel) => expandPanel(panel, d, {}))) {
        const range = p.range ?? d.range ?? { from: 'now-1h', to: 'now' };
        if (p.funnel) {
          const r = await post(`${server.url}/api/v1/funnel`, JSON.stringify({ ...p.funnel, ...range }), JSON_HEADERS);
          assert.equal(r.status, 200, `${d.id}/${p.id}: ${JSON.stringify(r.json)}`);
          if (r.json.total.steps[0].count === 0) empty.push(`${d.id}/${p.id}`);
          continue;
        }
        const r = await post(
          `${server.url}/api/v1/query`,
          JSON.stringify({ query: expand(p.query!, range.from), ...range }),
          JSON_HEADERS,
        );
        assert.equal(r.status, 200, `${d.id}/${p.id}: ${JSON.stringify(r.json)}`);
        if (r.json.rows.length === 0) empty.push(`${d.id}/${p.id}`);
      }
    }
    assert.deepEqual(empty, [], 'panels without data');
  });

  it('computes an ordered session funnel with per-step conversion, split by device', async () => {
    const journey = prebuiltDashboards().find((d) => d.id === 'journey')!;
    const steps = expandPanel(
      journey.panels.find((p) => p.id === 'funnel')!,
      journey,
      {},
    ).funnel!.steps;
    const r = await post(
      `${server.url}/api/v1/funnel`,
      JSON.stringify({ steps, from: 'now-24h', to: 'now', by: 'session.device_type' }),
      JSON_HEADERS,
    );
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const counts = r.json.total.steps.map((s: any) => s.count);
    assert.ok(counts[4] > 0, `funnel ${counts}`);
    for (let i = 1; i < counts.length; i++) assert.ok(counts[i] <= counts[i - 1], `funnel ${counts}`);
    const second = r.json.total.steps[1];
    assert.equal(second.dropOff, counts[0] - counts[1]);
    assert.equal(second.stepConversion, Math.round((counts[1] * 10000) / counts[0]) / 100);
    assert.deepEqual(r.json.groups.map((g: any) => g.group).sort(), ['desktop', 'mobile', 'tablet']);
    const byGroup = r.json.groups.reduce((sum: number, g: any) => sum + g.steps[0].count, 0);
    assert.equal(byGroup, counts[0]);
  });

  it('rejects a funnel step that does not parse, naming the step', async () => {
    const r = await post(
      `${server.url}/api/v1/funnel`,
      JSON.stringify({
        steps: [
          { name: 'Landing', filter: 'event.type:page_view' },
          { name: 'Cart', filter: 'event.type:(' },
        ],
      }),
      JSON_HEADERS,
    );
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'query.syntax');
    assert.match(r.json.error.message, /Step 2 \("Cart"\)/);
  });

  it('stores an edited copy of a prebuilt dashboard, and DELETE restores the default', async () => {
    const original = (await call(server, 'GET', '/api/v1/dashboards/payments')).json;
    assert.equal(original.meta.prebuilt, true);
    assert.equal(original.meta.modified, false);
    const edited = { ...original.dashboard, title: 'Payments (ours)' };
    const put = await call(server, 'PUT', '/api/v1/dashboards/payments', edited);
    assert.equal(put.status, 200, JSON.stringify(put.json));
    assert.equal(put.json.meta.modified, true);
    assert.equal((await call(server, 'GET', '/api/v1/dashboards/payments')).json.dashboard.title, 'Payments (ours)');
    const stale = await call(server, 'PUT', '/api/v1/dashboards/payments', edited, { 'if-match': '0' });
    assert.equal(stale.status, 409);
    const del = await call(server, 'DELETE', '/api/v1/dashboards/payments');
    assert.deepEqual(del.json, { deleted: true, restoredDefault: true });
    assert.equal((await call(server, 'GET', '/api/v1/dashboards/payments')).json.dashboard.title, 'Payment monitoring');
    const again = await call(server, 'DELETE', '/api/v1/dashboards/payments');
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'dashboard.prebuilt');
  });

  it('creates, lists and deletes a dashboard of its own', async () => {
    const mine = {
      id: 'ops-night',
      title: 'Night shift',
      panels: [{ id: 'errors', title: 'Errors', type: 'stat', query: 'event.type:error | stats count() as errors' }],
    };
    const put = await call(server, 'PUT', '/api/v1/dashboards/ops-night', mine);
    assert.equal(put.status, 200, JSON.stringify(put.json));
    // Defaults are filled in: a panel is 6 columns by 3 rows unless it says otherwise.
    assert.deepEqual([put.json.dashboard.panels[0].w, put.json.dashboard.panels[0].h], [6, 3]);
    const list = (await call(server, 'GET', '/api/v1/dashboards')).json.dashboards;
    assert.equal(list.at(-1).id, 'ops-night');
    assert.equal((await call(server, 'DELETE', '/api/v1/dashboards/ops-night')).status, 200);
    const gone = await call(server, 'GET', '/api/v1/dashboards/ops-night');
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.code, 'dashboard.not_found');
  });

  it('answers 400 naming the bad path of an invalid dashboard', async () => {
    const bad = {
      id: 'bad',
      title: 'Bad',
      panels: [
        { id: 'a', title: 'A', type: 'line', query: '*' },
        { id: 'b', title: 'B', type: 'sparkle', query: '*' },
      ],
    };
    const r = await call(server, 'PUT', '/api/v1/dashboards/bad', bad);
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /"panels\.1\.type"/);
    const noQuery = await call(server, 'PUT', '/api/v1/dashboards/bad', {
      ...bad,
      panels: [{ id: 'a', title: 'A', type: 'line' }],
    });
    assert.equal(noQuery.status, 400);
    assert.match(noQuery.json.error.message, /"panels\.0".*non-empty "query"/);
    const mismatch = await call(server, 'PUT', '/api/v1/dashboards/other', { ...bad, panels: [] });
    assert.equal(mismatch.json.error.code, 'dashboard.id_mismatch');
    const badId = await call(server, 'GET', '/api/v1/dashboards/Bad%20Id');
    assert.equal(badId.status, 400);
  });

  it('serves the UI to browsers at / and client routes, and cluster info to Elasticsearch clients', async () => {
    const html = await call(server, 'GET', '/', undefined, { accept: 'text/html,application/xhtml+xml' });
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    assert.match(html.json, /Shoplens/);
    const es = await call(server, 'GET', '/', undefined, { accept: 'application/json' });
    assert.equal(es.json.version.number.split('.')[0], '8');
    const route = await call(server, 'GET', '/dashboards/payments?from=now-7d', undefined, { accept: 'text/html' });
    assert.equal(route.status, 200);
    assert.match(route.json, /<html/);
    const notBrowser = await call(server, 'GET', '/explore');
    assert.equal(notBrowser.status, 404);
    const missing = await call(server, 'GET', '/assets/nope.js');
    assert.equal(missing.status, 404);
  });
});
