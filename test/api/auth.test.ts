/**
 * API keys, roles and tenants over real HTTP: every route but /health and
 * /ready refuses a missing or wrong key; keys see only their tenant's data
 * on every route; roles limit what a key may do; revocation is immediate.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';

type Answer = { status: number; headers: Headers; json: any; text: string };

async function call(
  srv: TestServer,
  method: string,
  path: string,
  key?: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers['authorization'] = `Bearer ${key}`;
  let payload: string | undefined;
  if (body !== undefined) {
    headers['content-type'] = contentType;
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(`${srv.url}${path}`, { method, headers, ...(payload ? { body: payload } : {}) });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

/** A concrete path for a route pattern (`:id` → `x`, `*` → `x`). */
function pathOf(url: string): string {
  return url.replace(/:[A-Za-z_]+/g, 'x').replace(/\*/g, 'x');
}

describe('API keys, roles and tenants', () => {
  let srv: TestServer;
  const keys: Record<string, string> = {};

  before(async () => {
    srv = await startTestServer({ auth: 'keys' });
    const k = srv.server.context.keys;
    const make = async (tenant: string, role: 'ingest' | 'read' | 'admin') =>
      (await k.create({ tenant, role, createdBy: 'test setup' })).key;
    keys['aAdmin'] = await make('shop-a', 'admin');
    keys['aRead'] = await make('shop-a', 'read');
    keys['aIngest'] = await make('shop-a', 'ingest');
    keys['bAdmin'] = await make('shop-b', 'admin');
    keys['bRead'] = await make('shop-b', 'read');
  });
  after(async () => {
    await srv.close();
  });

  it('refuses a missing or wrong key on every route but /health and /ready', async () => {
    const routes = srv.server.routes;
    assert.ok(routes.length > 30, `only ${routes.length} routes registered`);
    // The one exception: the CORS preflight of the Sentry ingest routes, which browsers send without
    // credentials (as Sentry's relay answers it); it carries no data, only the CORS headers.
    const preflight = (r: { method: string; url: string }) =>
      r.method === 'OPTIONS' && /^\/api\/:[A-Za-z]+\/(envelope|store)\/?$/.test(r.url);
    const open = routes.filter(
      (r) => r.role === 'public' && (r.url.startsWith('/api/') || r.url.startsWith('/_')) && !preflight(r),
    );
    assert.deepEqual(open, [], 'no API or Elasticsearch route is public');
    const forged = 'slk_AAAAAAAAAA_' + 'B'.repeat(32);
    const revokedKey = (await srv.server.context.keys.create({ tenant: 'shop-a', role: 'admin', createdBy: 't' })).key;
    await srv.server.context.keys.revoke(revokedKey.split('_')[1] as string, undefined);
    for (const route of routes) {
      const path = pathOf(route.url);
      const body = ['POST', 'PUT', 'PATCH'].includes(route.method) ? {} : undefined;
      if (route.role === 'public') {
        const open = await call(srv, route.method, path);
        // Public: health checks and the UI's static files (the UI then asks for a key).
        assert.ok(
          open.status !== 401 && open.status < 500,
          `${route.method} ${route.url} is public but answered ${open.status}`,
        );
        continue;
      }
      for (const key of [undefined, 'not-a-key', forged, revokedKey]) {
        const r = await call(srv, route.method, path, key, body);
        assert.equal(r.status, 401, `${route.method} ${route.url} with key ${String(key)} answered ${r.status}`);
        if (route.method !== 'HEAD') {
          // Shoplens's own shape, or Elasticsearch's on the Elasticsearch routes.
          assert.match(r.text, /auth\.required|security_exception/, `${route.method} ${route.url}: ${r.text}`);
          assert.match(r.text, /API key/, `${route.method} ${route.url}: ${r.text}`);
        }
        assert.match(r.headers.get('www-authenticate') ?? '', /Bearer/);
      }
    }
    const health = await call(srv, 'GET', '/health');
    assert.equal(health.status, 200);
  });

  it('answers 404 for a path no route has, to a valid key of any role; 401 without one', async () => {
    const paths = [
      ['GET', '/api/v1/no-such-thing'],
      ['POST', '/api/v1/evnets'],
      ['GET', '/api/v1/events'], // the route exists for POST only
      ['DELETE', '/api/v1/dashboards'],
      ['GET', '/_no_such_api/x/y'],
    ] as const;
    for (const [method, path] of paths) {
      for (const role of ['aIngest', 'aRead', 'aAdmin']) {
        const r = await call(srv, method, path, keys[role], method === 'POST' ? {} : undefined);
        assert.equal(r.status, 404, `${method} ${path} with the ${role} key answered ${r.status}: ${r.text}`);
        assert.equal(r.json.error.code, 'not_found');
        assert.match(r.json.error.message, new RegExp(`No route for ${method} ${path}`));
      }
      for (const key of [undefined, 'slk_AAAAAAAAAA_' + 'B'.repeat(32)]) {
        const r = await call(srv, method, path, key);
        assert.equal(r.status, 401, `${method} ${path} with key ${String(key)} answered ${r.status}`);
        assert.equal(r.json.error.code, 'auth.required');
      }
    }
    // A real route still checks the role.
    assert.equal((await call(srv, 'GET', '/api/v1/keys', keys['aRead'])).status, 403);
  });

  it('accepts the key forms Elasticsearch and OTLP clients send', async () => {
    const key = keys['aRead'] as string;
    const forms: Record<string, string>[] = [
      { authorization: `Bearer ${key}` },
      { authorization: `ApiKey ${key}` },
      { authorization: `ApiKey ${Buffer.from(`id:${key}`).toString('base64')}` },
      { authorization: `Basic ${Buffer.from(`shoplens:${key}`).toString('base64')}` },
      { 'x-api-key': key },
    ];
    for (const headers of forms) {
      const r = await fetch(`${srv.url}/api/v1/fields`, { headers });
      assert.equal(r.status, 200, JSON.stringify(headers));
    }
  });

  it('lets each role do only its own job', async () => {
    const event = { '@timestamp': new Date().toISOString(), message: 'roles-check' };
    // ingest: may send, may not read or administer.
    assert.equal((await call(srv, 'POST', '/api/v1/events?refresh=wait_for', keys['aIngest'], event)).status, 200);
    const ingestQuery = await call(srv, 'POST', '/api/v1/query', keys['aIngest'], { query: '*' });
    assert.equal(ingestQuery.status, 403);
    assert.match(ingestQuery.json.error.message, /role "ingest"; this route needs "read"/);
    // read: may query, may not send or administer.
    assert.equal(
      (await call(srv, 'POST', '/api/v1/query', keys['aRead'], { query: 'message:roles-check' })).status,
      200,
    );
    assert.equal((await call(srv, 'POST', '/api/v1/events?refresh=wait_for', keys['aRead'], event)).status, 403);
    assert.equal((await call(srv, 'POST', '/api/v1/keys', keys['aRead'], { role: 'admin' })).status, 403);
    assert.equal((await call(srv, 'POST', '/api/v1/privacy/erasure', keys['aRead'], { customer_id: 'c' })).status, 403);
    // admin: everything.
    assert.equal((await call(srv, 'POST', '/api/v1/events?refresh=wait_for', keys['aAdmin'], event)).status, 200);
    assert.equal((await call(srv, 'GET', '/api/v1/keys', keys['aAdmin'])).status, 200);
  });

  it("stamps ingested events with the key's tenant; a tenant field in the payload cannot override it", async () => {
    const ts = new Date().toISOString();
    const sneaky = { '@timestamp': ts, message: 'tenant-override-attempt', tenant: 'shop-b', data_class: 'app' };
    assert.equal(
      (await call(srv, 'POST', '/api/v1/events?refresh=wait_for', keys['aIngest'], sneaky)).json.accepted,
      1,
    );
    const inB = await call(srv, 'POST', '/api/v1/query', keys['bRead'], {
      query: 'message:tenant-override-attempt | stats count() as n',
    });
    assert.deepEqual(inB.json.rows, [[0]]);
    const inA = await call(srv, 'POST', '/api/v1/query', keys['aRead'], {
      query: 'message:tenant-override-attempt | stats count() as n',
    });
    assert.deepEqual(inA.json.rows, [[1]]);
  });

  it("never shows one tenant's data to another, on any GET route", async () => {
    const marker = 'tenant-a-private-marker';
    const ts = new Date().toISOString();
    // Shop A writes its marker everywhere it can: events, bulk, documents.
    await call(srv, 'POST', '/api/v1/events?refresh=wait_for', keys['aAdmin'], {
      '@timestamp': ts,
      message: marker,
      customer: { id: marker },
    });
    const bulk = `${JSON.stringify({ index: { _index: `logs-${marker}` } })}\n${JSON.stringify({ '@timestamp': ts, message: marker })}\n`;
    assert.equal(
      (await call(srv, 'POST', '/_bulk?refresh=wait_for', keys['aAdmin'], bulk, 'application/x-ndjson')).status,
      200,
    );
    await call(srv, 'POST', '/api/v1/keys', keys['aAdmin'], { role: 'read', name: marker });
    // An alert rule, a silence and a dashboard of shop A, each carrying the marker.
    const rule = await call(srv, 'PUT', `/api/v1/alerts/rules/${marker}`, keys['aAdmin'], {
      query: `message:${marker} | stats count() as n`,
      condition: 'n > 0',
      severity: 'P3',
      every: '5s',
    });
    assert.equal(rule.status, 200, rule.text);
    const silence = await call(srv, 'POST', '/api/v1/alerts/silences', keys['aAdmin'], {
      matchers: [{ name: 'alertname', value: marker }],
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      comment: marker,
    });
    assert.ok(silence.status < 300, silence.text);
    const own = await call(srv, 'GET', '/api/v1/dashboards/payments', keys['aAdmin']);
    assert.equal(own.status, 200, own.text);
    const board = await call(srv, 'PUT', `/api/v1/dashboards/${marker}`, keys['aAdmin'], {
      ...own.json.dashboard,
      id: marker,
      title: marker,
    });
    assert.equal(board.status, 200, board.text);
    assert.ok((await call(srv, 'GET', '/api/v1/alerts/rules', keys['aAdmin'])).text.includes(marker));
    assert.ok((await call(srv, 'GET', '/api/v1/alerts/silences', keys['aAdmin'])).text.includes(marker));
    assert.ok((await call(srv, 'GET', '/api/v1/dashboards', keys['aAdmin'])).text.includes(marker));
    // Shop B reads every GET route: lists never show the marker, and A's documents are not found.
    let checked = 0;
    for (const route of srv.server.routes) {
      if (route.method !== 'GET' || route.role === 'public') continue;
      const path = pathOf(route.url);
      const r = await call(srv, 'GET', path, keys['bAdmin']);
      assert.ok(r.status < 500, `GET ${path} answered ${r.status}`);
      assert.ok(!r.text.includes(marker), `GET ${path} showed shop A's data to shop B: ${r.text.slice(0, 300)}`);
      if (route.url.startsWith('/api/v1/') && path.endsWith('/x')) {
        const byId = path.replace(/x$/, marker);
        const mine = await call(srv, 'GET', byId, keys['aAdmin']);
        const theirs = await call(srv, 'GET', byId, keys['bAdmin']);
        if (mine.status === 200) assert.equal(theirs.status, 404, `GET ${byId} as shop B answered ${theirs.status}`);
      }
      checked++;
    }
    assert.ok(checked > 10);
    // And the query language, over every field.
    const q = await call(srv, 'POST', '/api/v1/query', keys['bAdmin'], { query: marker, from: 'now-1d' });
    assert.equal(q.json.rows.length, 0);
    const export_ = await call(srv, 'GET', `/api/v1/privacy/export?customer_id=${marker}`, keys['bAdmin']);
    assert.equal(export_.json.count, 0);
    // Shop B cannot erase shop A's customer either.
    const erase = await call(srv, 'POST', '/api/v1/privacy/erasure', keys['bAdmin'], { customer_id: marker });
    assert.equal(erase.json.deleted, 0);
    const still = await call(srv, 'POST', '/api/v1/query', keys['aRead'], { query: `customer.id:${marker}` });
    assert.equal(still.json.rows.length, 1);
  });

  it("keeps each admin to its tenant's keys", async () => {
    const list = await call(srv, 'GET', '/api/v1/keys', keys['bAdmin']);
    assert.ok(list.json.keys.length >= 2);
    assert.ok(list.json.keys.every((k: { tenant: string }) => k.tenant === 'shop-b'));
    assert.ok(list.json.keys.every((k: Record<string, unknown>) => !('hash' in k) && !('key' in k)));
    const other = await call(srv, 'POST', '/api/v1/keys', keys['bAdmin'], { role: 'admin', tenant: 'shop-a' });
    assert.equal(other.status, 403);
    const aKeyId = (await call(srv, 'GET', '/api/v1/keys', keys['aAdmin'])).json.keys[0].id;
    assert.equal((await call(srv, 'DELETE', `/api/v1/keys/${aKeyId}`, keys['bAdmin'])).status, 404);
  });

  it('creates a key over the API that works at once, and revokes it at once', async () => {
    const created = await call(srv, 'POST', '/api/v1/keys', keys['aAdmin'], { role: 'read', name: 'dashboard tv' });
    assert.equal(created.status, 201);
    assert.match(created.json.key, /^slk_[A-Za-z0-9]{10}_[A-Za-z0-9_-]{32}$/);
    assert.equal(created.json.tenant, 'shop-a');
    assert.equal((await call(srv, 'GET', '/api/v1/fields', created.json.key)).status, 200);
    const revoked = await call(srv, 'DELETE', `/api/v1/keys/${created.json.id}`, keys['aAdmin']);
    assert.equal(revoked.status, 200);
    assert.ok(revoked.json.revokedAt);
    assert.equal((await call(srv, 'GET', '/api/v1/fields', created.json.key)).status, 401);
    const bad = await call(srv, 'POST', '/api/v1/keys', keys['aAdmin'], { role: 'superuser' });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /role/);
  });

  it('keeps an audit trail of admin actions and queries that only admins can read', async () => {
    await call(srv, 'POST', '/api/v1/query', keys['aRead'], { query: 'message:audited-query-text | stats count()' });
    // The trail is stored like any event: visible within a second, or at once after a refresh.
    assert.equal((await call(srv, 'POST', '/_refresh', keys['aAdmin'])).status, 200);
    const audit = await call(srv, 'POST', '/api/v1/query', keys['aAdmin'], {
      query:
        'data_class:audit AND event.action:query.run AND audit.query:*audited-query-text* | fields user.id, audit.query',
      from: 'now-1h',
    });
    assert.equal(audit.status, 200);
    assert.equal(audit.json.rows.length, 1, JSON.stringify(audit.json.rows));
    assert.match(String(audit.json.rows[0][0]), /^key:[A-Za-z0-9]{10} \(read key\)$/);
    assert.equal(audit.json.rows[0][1], 'message:audited-query-text | stats count()');
    const keyActions = await call(srv, 'POST', '/api/v1/query', keys['aAdmin'], {
      query: 'data_class:audit AND event.action:(key.create OR key.revoke) | stats count() as n by event.action',
      from: 'now-1h',
    });
    assert.ok(keyActions.json.rows.length === 2, JSON.stringify(keyActions.json.rows));
    // A read key never sees the trail, even when it asks for it.
    const hidden = await call(srv, 'POST', '/api/v1/query', keys['aRead'], {
      query: 'data_class:audit | stats count() as n',
      from: 'now-1h',
    });
    assert.deepEqual(hidden.json.rows, [[0]]);
    // Nor does shop B see shop A's trail.
    const otherTenant = await call(srv, 'POST', '/api/v1/query', keys['bAdmin'], {
      query: 'data_class:audit AND audit.query:*audited-query-text* | stats count() as n',
      from: 'now-1h',
    });
    assert.deepEqual(otherTenant.json.rows, [[0]]);
  });

  it('audits every admin change, whichever route makes it, with its outcome', async () => {
    const bad = await call(srv, 'PUT', '/api/v1/dashboards/audited-board', keys['aAdmin'], { nonsense: true });
    assert.equal(bad.status, 400);
    assert.equal((await call(srv, 'POST', '/_refresh', keys['aAdmin'])).status, 200);
    const entries = await call(srv, 'POST', '/api/v1/query', keys['aAdmin'], {
      query:
        'data_class:audit AND event.action:"admin.put /api/v1/dashboards/:id" AND audit.params.id:audited-board | fields event.outcome, audit.status, audit.params.id, user.id',
      from: 'now-1h',
    });
    assert.equal(entries.json.rows.length, 1, JSON.stringify(entries.json));
    const [outcome, status, params, actor] = entries.json.rows[0];
    assert.equal(outcome, 'failure');
    assert.equal(String(status), '400');
    assert.equal(params, 'audited-board');
    assert.match(String(actor), /^key:/);
  });
});
