/**
 * The in-app inbox and the live alerts endpoint over real HTTP, with API
 * keys of two tenants: rules fire on stored events (an engine on the
 * server's store with an injected clock), the default routing puts every
 * notification into the tenant's inbox, and the API lists it newest first,
 * paginates, counts unread, acknowledges, refuses bad input with a 4xx
 * naming it, and never shows one tenant's inbox to another.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AlertEngine } from '../../src/alerts/alert-engine.ts';
import { alertsConfigSchema } from '../../src/alerts/alerts-config.ts';
import { KIND, type Notification } from '../../src/alerts/alert-model.ts';
import { inboxIdOf, pruneInbox, storeInInbox } from '../../src/alerts/inbox.ts';
import { routeAlert } from '../../src/alerts/routing.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const tenantC = 'shop-c';
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;

type Answer = { status: number; json: any; text: string };

async function call(srv: TestServer, method: string, path: string, key: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${srv.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

describe('in-app inbox and live alerts API', () => {
  let srv: TestServer;
  let engine: AlertEngine;
  let rulesDir: string;
  let clock = T0;
  const keys: Record<string, string> = {};
  const tick = async (atMs: number) => {
    clock = atMs;
    await engine.tickTenant('shop-a');
    await engine.tickTenant('shop-b');
  };
  const events = async (marker: string, atMs: number, n: number) => {
    const lines = Array.from({ length: n }, (_, i) =>
      JSON.stringify({ '@timestamp': new Date(atMs + i * 100).toISOString(), message: marker }),
    );
    const r = await call(srv, 'POST', '/api/v1/events?refresh=wait_for', keys['aIngest']!, lines.join('\n'));
    assert.equal(r.status, 200, r.text);
  };

  before(async () => {
    rulesDir = mkdtempSync(join(tmpdir(), 'shoplens-test-rules-'));
    srv = await startTestServer({ auth: 'keys', alerts: { enabled: false } });
    const make = async (tenant: string, role: 'ingest' | 'read' | 'admin') =>
      (await srv.server.context.keys.create({ tenant, role, createdBy: 'test setup' })).key;
    keys['aAdmin'] = await make('shop-a', 'admin');
    keys['aRead'] = await make('shop-a', 'read');
    keys['aIngest'] = await make('shop-a', 'ingest');
    keys['bAdmin'] = await make('shop-b', 'admin');
    // Default receivers and routes: only the built-in in-app inbox is configured.
    engine = new AlertEngine({
      store: srv.server.context.store,
      now: () => clock,
      config: alertsConfigSchema.parse({ rulesDir, pack: false, tenants: ['shop-a', 'shop-b'] }),
    });
    const rules = [
      ['InboxPaymentsDown', 'P0', 'inbox-marker-a', '/dashboards/payments'],
      ['InboxFraud', 'P1', 'inbox-marker-b', '/dashboards/payments'],
      ['InboxStock', 'P2', 'inbox-marker-c', '/dashboards/sales'],
    ];
    for (const [name, severity, marker, dashboard] of rules) {
      const r = await call(srv, 'PUT', `/api/v1/alerts/rules/${name}`, keys['aAdmin']!, {
        query: `message:${marker} | stats count() as n`,
        condition: 'n > 0',
        window: '5m',
        every: '5s',
        severity,
        dashboard,
        annotations: { summary: `${name}: {{ value.n }} events` },
      });
      assert.equal(r.status, 200, r.text);
    }
    // A fires at T0, B at T0+2m, C at T0+4m; at T0+5m10s A's events are out of its window: A resolves.
    await events('inbox-marker-a', T0 - 30_000, 3);
    await tick(T0);
    await events('inbox-marker-b', T0 + 90_000, 4);
    await tick(T0 + 120_000);
    await events('inbox-marker-c', T0 + 210_000, 5);
    await tick(T0 + 240_000);
    await tick(T0 + 310_000);
  });
  after(async () => {
    await srv?.close();
    rmSync(rulesDir, { recursive: true, force: true });
  });

  it('routes every severity to the in-app inbox by default', () => {
    const { routes } = alertsConfigSchema.parse({});
    for (const severity of ['critical', 'high', 'warning', 'info']) {
      const receivers = routeAlert(routes, { alertname: 'X', severity }).map((g) => g.receiver);
      assert.ok(receivers.includes('inapp'), `${severity} → ${receivers.join(', ')}`);
    }
    assert.equal(alertsConfigSchema.parse({}).receivers['inapp']?.type, 'inapp');
    // Configured receivers keep the inbox beside them.
    const withSlack = alertsConfigSchema.parse({ receivers: { s: { type: 'slack', url: 'http://127.0.0.1:1/x' } } });
    assert.deepEqual(Object.keys(withSlack.receivers).sort(), ['inapp', 's']);
  });

  it('lists firing and resolved notifications newest first, with the unread count', async () => {
    const r = await call(srv, 'GET', '/api/v1/alerts/inbox', keys['aRead']!);
    assert.equal(r.status, 200, r.text);
    const seen = r.json.items.map((i: any) => `${i.alerts[0].alertname} ${i.status}`);
    assert.deepEqual(seen, [
      'InboxPaymentsDown resolved',
      'InboxStock firing',
      'InboxFraud firing',
      'InboxPaymentsDown firing',
    ]);
    assert.equal(r.json.total, 4);
    assert.equal(r.json.unread, 4);
    const fraud = r.json.items[2];
    assert.equal(fraud.severity, 'high');
    assert.equal(fraud.priority, 'P1');
    assert.equal(fraud.alerts[0].summary, 'InboxFraud: 4 events');
    assert.match(fraud.alerts[0].link, /\/dashboards\/payments\?from=/);
    assert.equal(fraud.createdAt, new Date(T0 + 120_000).toISOString());
    assert.equal(fraud.acknowledged, false);
    // The resolved notice says when it ended.
    assert.equal(r.json.items[0].alerts[0].endsAt, new Date(T0 + 310_000).toISOString());
  });

  it('paginates with limit and offset', async () => {
    const first = await call(srv, 'GET', '/api/v1/alerts/inbox?limit=3', keys['aRead']!);
    assert.equal(first.json.items.length, 3);
    assert.equal(first.json.nextOffset, 3);
    const second = await call(srv, 'GET', '/api/v1/alerts/inbox?limit=3&offset=3', keys['aRead']!);
    assert.deepEqual(
      second.json.items.map((i: any) => i.alerts[0].alertname),
      ['InboxPaymentsDown'],
    );
    assert.equal(second.json.items[0].status, 'firing');
    assert.equal(second.json.nextOffset, null);
    const all = await call(srv, 'GET', '/api/v1/alerts/inbox?limit=100', keys['aRead']!);
    assert.deepEqual(
      [...first.json.items, ...second.json.items].map((i: any) => i.id),
      all.json.items.map((i: any) => i.id),
    );
  });

  it('refuses bad parameters and bodies with a 400 naming them', async () => {
    const bad: [string, string, unknown, RegExp][] = [
      ['GET', '/api/v1/alerts/inbox?limit=0', undefined, /"limit": expected an integer from 1 to 100, got "0"/],
      ['GET', '/api/v1/alerts/inbox?limit=ten', undefined, /"limit"/],
      ['GET', '/api/v1/alerts/inbox?offset=-1', undefined, /"offset"/],
      ['GET', '/api/v1/alerts/inbox?unread=maybe', undefined, /"unread": expected true or false/],
      ['POST', '/api/v1/alerts/inbox/ack', '{"ids": [', /not valid JSON/],
      ['POST', '/api/v1/alerts/inbox/ack', {}, /expected \{"ids"/],
      ['POST', '/api/v1/alerts/inbox/ack', { ids: 'x' }, /expected \{"ids"/],
      ['POST', '/api/v1/alerts/inbox/ack', { all: false }, /expected \{"ids"/],
      ['GET', '/api/v1/alerts/live?since=yesterday', undefined, /"since": expected the "cursor"/],
    ];
    for (const [method, path, body, message] of bad) {
      const r = await call(srv, method, path, keys['aRead']!, body);
      assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${r.text}`);
      assert.match(r.json.error.message, message, `${method} ${path}`);
    }
    const empty = await call(srv, 'POST', '/api/v1/alerts/inbox/ack', keys['aRead']!);
    assert.equal(empty.status, 400);
    assert.equal(empty.json.error.code, 'request.empty_body');
    const unknown = await call(srv, 'POST', '/api/v1/alerts/inbox/no-such-item/ack', keys['aRead']!);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'inbox.not_found');
    const through = await call(srv, 'POST', '/api/v1/alerts/inbox/ack', keys['aRead']!, {
      all: true,
      through: 'nope',
    });
    assert.equal(through.status, 404);
    assert.match(through.json.error.message, /"through": no inbox item "nope"/);
    // The ingest role reads nothing.
    assert.equal((await call(srv, 'GET', '/api/v1/alerts/inbox', keys['aIngest']!)).status, 403);
  });

  it("keeps each tenant's inbox to itself", async () => {
    const a = await call(srv, 'GET', '/api/v1/alerts/inbox', keys['aRead']!);
    const b = await call(srv, 'GET', '/api/v1/alerts/inbox', keys['bAdmin']!);
    assert.equal(b.status, 200);
    assert.deepEqual([b.json.items, b.json.total, b.json.unread], [[], 0, 0]);
    const id = a.json.items[0].id;
    assert.equal((await call(srv, 'POST', `/api/v1/alerts/inbox/${id}/ack`, keys['bAdmin']!)).status, 404);
    const all = await call(srv, 'POST', '/api/v1/alerts/inbox/ack', keys['bAdmin']!, { all: true });
    assert.deepEqual(all.json, { acknowledged: 0, missing: [] });
    const ids = await call(srv, 'POST', '/api/v1/alerts/inbox/ack', keys['bAdmin']!, { ids: [id] });
    assert.deepEqual(ids.json, { acknowledged: 0, missing: [id] });
    const live = await call(srv, 'GET', '/api/v1/alerts/live', keys['bAdmin']!);
    assert.equal(live.json.firing.total, 0);
    assert.deepEqual(live.json.alerts, []);
    // Shop A's inbox is untouched.
    assert.equal((await call(srv, 'GET', '/api/v1/alerts/inbox', keys['aRead']!)).json.unread, 4);
  });

  it('acknowledges one item (once), then the rest up to what was seen', async () => {
    const before = (await call(srv, 'GET', '/api/v1/alerts/inbox', keys['aRead']!)).json.items;
    const [resolvedA, stock, fraud, firingA] = before;
    const sentMs = Date.now();
    const one = await call(srv, 'POST', `/api/v1/alerts/inbox/${fraud.id}/ack`, keys['aRead']!);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.acknowledged, true);
    // The server's clock (its engine runs on the real one here).
    const ackedMs = Date.parse(one.json.acknowledgedAt);
    assert.ok(ackedMs >= sentMs - 1000 && ackedMs <= Date.now() + 1000, one.json.acknowledgedAt);
    assert.match(one.json.acknowledgedBy, /^key:.*\(/);
    const again = await call(srv, 'POST', `/api/v1/alerts/inbox/${fraud.id}/ack`, keys['aAdmin']!);
    assert.equal(again.json.acknowledgedAt, one.json.acknowledgedAt, 'the first acknowledgement stays');
    const unreadOnly = await call(srv, 'GET', '/api/v1/alerts/inbox?unread=true', keys['aRead']!);
    assert.deepEqual(
      unreadOnly.json.items.map((i: any) => i.id),
      [resolvedA.id, stock.id, firingA.id],
    );
    assert.equal(unreadOnly.json.unread, 3);
    // "Acknowledge all" through the stock notice: it and the older ones, not the newer resolve.
    const through = await call(srv, 'POST', '/api/v1/alerts/inbox/ack', keys['aRead']!, {
      all: true,
      through: stock.id,
    });
    assert.deepEqual(through.json, { acknowledged: 2, missing: [] });
    const after = await call(srv, 'GET', '/api/v1/alerts/inbox', keys['aRead']!);
    assert.equal(after.json.unread, 1);
    assert.deepEqual(
      after.json.items.filter((i: any) => !i.acknowledged).map((i: any) => i.id),
      [resolvedA.id],
    );
    const rest = await call(srv, 'POST', '/api/v1/alerts/inbox/ack', keys['aRead']!, { all: true });
    assert.deepEqual(rest.json, { acknowledged: 1, missing: [] });
    assert.equal((await call(srv, 'GET', '/api/v1/alerts/inbox', keys['aRead']!)).json.unread, 0);
  });

  it('keeps the newest notifications when it prunes, and stores each notification once', async () => {
    const docs = srv.server.context.store.documents;
    const notification = (i: number): Notification => ({
      id: `group-${String(i).padStart(6, '0')}`,
      tenant: 'shop-c',
      receiver: 'inapp',
      groupKey: 'group',
      groupLabels: {},
      status: 'firing',
      alerts: [],
      // Out of order, and across a change in the number of decimal digits of the epoch ms.
      createdAt: new Date([9_999_999_000, 10_000_001_000, 1_700_000_000_000, 1_800_000_000_000, 5][i]!).toISOString(),
    });
    for (const i of [2, 0, 4, 3, 1]) await storeInInbox(docs, notification(i));
    await storeInInbox(docs, notification(3)); // a retried delivery
    const ids = (await docs.list(tenantC, KIND.inbox)).map((d) => d.id);
    assert.deepEqual(
      ids,
      [3, 2, 1, 0, 4].map((i) => inboxIdOf(notification(i))),
      'newest first, once each',
    );
    assert.equal(await pruneInbox(docs, tenantC, 2), 3);
    assert.deepEqual(
      (await docs.list(tenantC, KIND.inbox)).map((d) => d.id),
      [3, 2].map((i) => inboxIdOf(notification(i))),
    );
  });

  it('answers the firing alerts by severity and the changes since a cursor', async () => {
    const live = await call(srv, 'GET', '/api/v1/alerts/live', keys['aRead']!);
    assert.equal(live.status, 200, live.text);
    // Checked against the alerts list, counted independently.
    const listed = (await call(srv, 'GET', '/api/v1/alerts', keys['aRead']!)).json.alerts;
    const firing = listed.filter((a: any) => a.state === 'firing');
    assert.equal(live.json.firing.total, firing.length);
    assert.equal(live.json.firing.total, 2);
    for (const severity of ['critical', 'high', 'warning', 'info'])
      assert.equal(
        live.json.firing.bySeverity[severity],
        firing.filter((a: any) => a.labels.severity === severity).length,
        severity,
      );
    assert.deepEqual(
      live.json.alerts.map((a: any) => [a.rule, a.priority, a.dashboard, a.summary]),
      [
        ['InboxFraud', 'P1', 'payments', 'InboxFraud: 4 events'],
        ['InboxStock', 'P2', 'sales', 'InboxStock: 5 events'],
      ],
    );
    assert.deepEqual(live.json.changes, [], 'no changes without a cursor');
    assert.equal(live.json.cursor, String(T0 + 310_000));
    // Nothing new since the cursor but the changes at its own millisecond (answered again, by id).
    const same = await call(srv, 'GET', `/api/v1/alerts/live?since=${live.json.cursor}`, keys['aRead']!);
    assert.deepEqual(
      same.json.changes.map((c: any) => `${c.rule} ${c.to}`),
      ['InboxPaymentsDown resolved'],
    );
    assert.equal(same.json.cursor, live.json.cursor);
    // B resolves too: the next answer says so and moves the cursor.
    await tick(T0 + 120_000 + 330_000);
    const next = await call(srv, 'GET', `/api/v1/alerts/live?since=${Number(live.json.cursor) + 1}`, keys['aRead']!);
    assert.deepEqual(
      next.json.changes.map((c: any) => `${c.rule} ${c.to} ${c.at}`),
      [`InboxFraud resolved ${new Date(T0 + 450_000).toISOString()}`],
    );
    assert.equal(next.json.cursor, String(T0 + 450_000));
    assert.deepEqual(next.json.firing.bySeverity, { critical: 0, high: 0, warning: 1, info: 0 });
    // And the inbox got the resolved notice, unread.
    const inbox = await call(srv, 'GET', '/api/v1/alerts/inbox?unread=true', keys['aRead']!);
    assert.deepEqual(
      inbox.json.items.map((i: any) => `${i.alerts[0].alertname} ${i.status}`),
      ['InboxFraud resolved'],
    );
  });
});
