/**
 * `/api/v1/errors` on a real server: error events sent as NDJSON beside the
 * shop's commerce events, read back as groups with their users and revenue
 * at risk (checked against a computation of the documented definition over
 * the events the test sent), sorted and filtered; states (resolve and
 * regress, resolve in next release, ignore until a count), merge and
 * unmerge, MTTR, and seed 003's top-10 recurring errors query.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mulberry32 } from '../helpers/rng.ts';
import { post, query, startTestServer, type TestServer } from '../helpers/server.ts';

type Event = Record<string, any>;

const NOW = Date.now();
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();

const frame = (fn: string, file: string, line: number) => ({ function: fn, filename: file, lineno: line });
/** Three kinds of error: two call sites of one type, and a message-only one. */
const KINDS = {
  checkoutTimeout: {
    service: 'payment-service',
    type: 'GatewayTimeoutException',
    frames: [
      frame('CheckoutController.submit', '/app/src/http/checkout-controller.ts', 27),
      frame('PaymentProcessor.charge', '/app/src/payment/payment-processor.ts', 88),
    ],
  },
  webhookTimeout: {
    service: 'payment-service',
    type: 'GatewayTimeoutException',
    frames: [
      frame('WebhookHandler.handle', '/app/src/webhooks/webhook-handler.ts', 33),
      frame('PaymentProcessor.charge', '/app/src/payment/payment-processor.ts', 88),
    ],
  },
  declined: { service: 'order-service', type: 'PaymentDeclinedException', frames: [] as unknown[] },
};
type KindName = keyof typeof KINDS;

/** A seeded shop: sessions that add to cart, check out, pay, and sometimes hit an error or complete. */
function shop(seed: number): { events: Event[]; errorsByKind: Record<KindName, Event[]> } {
  const random = mulberry32(seed);
  const events: Event[] = [];
  const errorsByKind: Record<KindName, Event[]> = { checkoutTimeout: [], webhookTimeout: [], declined: [] };
  for (let s = 0; s < 120; s++) {
    const session = `S-${s}`;
    const user = `U-${s % 70}`;
    const order = `ORD-${1000 + s}`;
    const trace = `t${s.toString(16).padStart(31, '0')}`;
    const currency = s % 3 === 0 ? 'EUR' : 'USD';
    const cart = Math.round(random() * 30_000) / 100 + 5;
    const t0 = 200 - (s % 180);
    events.push({
      '@timestamp': at(t0),
      event: { type: 'add_to_cart' },
      user: { id: user, session_id: session },
      cart: { value: cart },
    });
    const checksOut = random() < 0.7;
    if (checksOut) {
      events.push({
        '@timestamp': at(t0 - 1),
        event: { type: 'checkout_started' },
        user: { id: user, session_id: session },
        order: { id: order },
        cart: { value: cart },
        transaction: { currency },
      });
    }
    const kindRoll = random();
    const kind: KindName | undefined =
      kindRoll < 0.25
        ? 'checkoutTimeout'
        : kindRoll < 0.35
          ? 'webhookTimeout'
          : kindRoll < 0.5
            ? 'declined'
            : undefined;
    const paid = checksOut && random() < 0.8;
    const total = Math.round(cart * 108) / 100;
    if (paid) {
      events.push({
        '@timestamp': at(t0 - 2),
        event: { type: 'payment_transaction', outcome: kind ? 'failure' : 'success' },
        user: { id: user, session_id: session },
        order: { id: order },
        transaction: { amount: total, currency },
        trace_id: trace,
      });
    }
    if (kind) {
      const k = KINDS[kind];
      // Errors carry the session, only the order, or only the trace: every link counts.
      const link =
        s % 3 === 0
          ? { user: { id: user, session_id: session } }
          : s % 3 === 1
            ? { order: { id: order }, user: { id: user } }
            : { trace_id: trace, user: { id: user } };
      const error = {
        '@timestamp': at(t0 - 2.5),
        service: { name: k.service, version: s % 2 === 0 ? '1.4.0' : '1.5.0' },
        deployment: { environment: s % 4 === 0 ? 'staging' : 'production' },
        event: { type: 'error' },
        log: { level: 'ERROR' },
        exception: {
          type: k.type,
          message:
            kind === 'declined'
              ? `Payment declined for order ${order} (amount ${total.toFixed(2)})`
              : `Gateway stripe timed out after ${30000 + s} ms`,
          ...(k.frames.length > 0 ? { frames: k.frames } : {}),
        },
        customer: { id: `C-${s % 70}` },
        ...link,
      };
      events.push(error);
      errorsByKind[kind].push(error);
    }
    // Some sessions complete their order after all (their money is not at risk).
    if (paid && (!kind || random() < 0.3)) {
      events.push({
        '@timestamp': at(t0 - 3),
        event: { type: 'order_completed' },
        user: { id: user, session_id: session },
        order: { id: order },
        transaction: { amount: total, currency },
      });
    }
  }
  return { events, errorsByKind };
}

const COMMERCE = new Set([
  'add_to_cart',
  'cart_viewed',
  'checkout_started',
  'checkout_step_completed',
  'shipping_info_entered',
  'payment_info_entered',
  'payment_transaction',
  'payment_failed',
  'payment_completed',
  'cart_abandoned',
  'order_completed',
]);
const CHECKOUT = new Set([
  'checkout_started',
  'checkout_step_completed',
  'shipping_info_entered',
  'payment_info_entered',
  'payment_transaction',
  'payment_failed',
]);

/** docs/errors.md "Revenue at risk", computed here over the events sent. */
function expectedImpact(events: Event[], errors: Event[]): { failed: number; byCurrency: Record<string, number> } {
  const sessions = new Set(errors.map((e) => e.user?.session_id).filter(Boolean));
  const orders = new Set(errors.map((e) => e.order?.id).filter(Boolean));
  const traces = new Set(errors.map((e) => e.trace_id).filter(Boolean));
  const attempts = new Map<string, Event[]>();
  for (const e of events) {
    if (!COMMERCE.has(e.event?.type)) continue;
    const key = e.user?.session_id ?? e.order?.id ?? e.trace_id;
    if (key) attempts.set(key, [...(attempts.get(key) ?? []), e]);
  }
  let failed = 0;
  const byCurrency: Record<string, number> = {};
  for (const list of attempts.values()) {
    const linked = list.some(
      (e) => sessions.has(e.user?.session_id) || orders.has(e.order?.id) || traces.has(e.trace_id),
    );
    const completed = list.some(
      (e) =>
        e.event.type === 'order_completed' ||
        e.event.type === 'payment_completed' ||
        (e.event.type === 'payment_transaction' && e.event.outcome === 'success'),
    );
    if (!linked || completed) continue;
    if (list.some((e) => CHECKOUT.has(e.event.type))) failed++;
    const values = list.map((e) => e.transaction?.amount ?? e.cart?.value).filter((v) => typeof v === 'number');
    if (values.length === 0) continue;
    const currency =
      list
        .map((e) => e.transaction?.currency)
        .filter(Boolean)
        .sort()
        .pop() ?? '';
    byCurrency[currency] = (byCurrency[currency] ?? 0) + Math.max(...values);
  }
  for (const c of Object.keys(byCurrency)) byCurrency[c] = Math.round((byCurrency[c] as number) * 100) / 100;
  return { failed, byCurrency };
}

async function get(srv: TestServer, path: string): Promise<{ status: number; json: any }> {
  const r = await fetch(`${srv.url}${path}`);
  return { status: r.status, json: await r.json() };
}

async function send(srv: TestServer, events: Event[]): Promise<void> {
  const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, events.map((e) => JSON.stringify(e)).join('\n'));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.accepted, events.length, JSON.stringify(r.json.rejected));
}

async function setState(srv: TestServer, id: string, body: object): Promise<{ status: number; json: any }> {
  return post(`${srv.url}/api/v1/errors/${encodeURIComponent(id)}/state`, JSON.stringify(body), {
    'content-type': 'application/json',
  });
}

describe('/api/v1/errors', () => {
  let srv: TestServer;
  const data = shop(15);
  const groupOf = new Map<KindName, string>();

  before(async () => {
    srv = await startTestServer();
    await send(srv, data.events);
    const list = await get(srv, '/api/v1/errors?sort=events&limit=50');
    assert.equal(list.status, 200, JSON.stringify(list.json));
    for (const g of list.json.groups) {
      const kind = (Object.keys(KINDS) as KindName[]).find(
        (k) => KINDS[k].type === g.type && data.errorsByKind[k].length === g.events,
      );
      if (kind) groupOf.set(kind, g.id);
    }
  });
  after(async () => {
    await srv.close();
  });

  it('lists one group per call site and per message shape, with its users, sessions and customers', async () => {
    const r = await get(srv, '/api/v1/errors?sort=events&limit=50');
    assert.equal(r.json.total, 3, JSON.stringify(r.json.groups.map((g: any) => g.title)));
    for (const kind of Object.keys(KINDS) as KindName[]) {
      const errors = data.errorsByKind[kind];
      const g = r.json.groups.find((x: any) => x.id === groupOf.get(kind));
      assert.ok(g, `${kind} is a group`);
      assert.equal(g.events, errors.length);
      assert.equal(g.users, new Set(errors.map((e) => e.user.id)).size);
      assert.equal(g.customers, new Set(errors.map((e) => e.customer.id)).size);
      assert.equal(g.sessions, new Set(errors.map((e) => e.user.session_id).filter(Boolean)).size);
      assert.deepEqual(g.services, [KINDS[kind].service]);
      assert.deepEqual(g.environments, [...new Set(errors.map((e) => e.deployment.environment))].sort());
      assert.equal(g.status, 'unresolved');
      assert.equal(g.isNew, true);
      assert.equal(g.url, `/errors/${g.id}`);
      const times = errors.map((e) => Date.parse(e['@timestamp']));
      assert.equal(Date.parse(g.lastSeen), Math.max(...times));
      assert.equal(Date.parse(g.firstSeen), Math.min(...times));
      // The hourly trend adds up to the events.
      assert.equal(g.trend.bucketMs, 3_600_000);
      assert.equal(
        g.trend.counts.reduce((a: number, b: number) => a + b, 0),
        errors.length,
      );
    }
    const events = r.json.groups.map((g: any) => g.events);
    assert.deepEqual(
      events,
      [...events].sort((a, b) => b - a),
    );
  });

  it('gives each group the revenue at risk and failed checkouts of its linked attempts, as defined', async () => {
    const r = await get(srv, '/api/v1/errors?sort=revenue&limit=50');
    const totals: number[] = [];
    for (const kind of Object.keys(KINDS) as KindName[]) {
      const expected = expectedImpact(data.events, data.errorsByKind[kind]);
      const g = r.json.groups.find((x: any) => x.id === groupOf.get(kind));
      const got = Object.fromEntries(g.revenueAtRisk.byCurrency.map((c: any) => [c.currency, c.amount]));
      assert.deepEqual(got, expected.byCurrency, kind);
      assert.equal(g.failedCheckouts, expected.failed, kind);
      assert.ok(g.revenueAtRisk.total > 0, kind);
      totals.push(g.revenueAtRisk.total);
    }
    const listed = r.json.groups.map((g: any) => g.revenueAtRisk.total);
    assert.deepEqual(
      listed,
      [...listed].sort((a, b) => b - a),
    );
  });

  it('filters by service, environment, release and the query language, and sorts by users', async () => {
    const byService = await get(srv, '/api/v1/errors?service=order-service');
    assert.deepEqual(
      byService.json.groups.map((g: any) => g.id),
      [groupOf.get('declined')],
    );
    const staging = await get(srv, '/api/v1/errors?environment=staging&sort=events');
    for (const g of staging.json.groups) {
      const kind = [...groupOf].find(([, id]) => id === g.id)![0];
      assert.equal(g.events, data.errorsByKind[kind].filter((e) => e.deployment.environment === 'staging').length);
    }
    const release = await get(srv, '/api/v1/errors?release=1.5.0&sort=events');
    const sum = release.json.groups.reduce((n: number, g: any) => n + g.events, 0);
    const expected = Object.values(data.errorsByKind)
      .flat()
      .filter((e) => e.service.version === '1.5.0').length;
    assert.equal(sum, expected);
    const q = await get(srv, `/api/v1/errors?query=${encodeURIComponent('exception.message:declined')}`);
    assert.deepEqual(
      q.json.groups.map((g: any) => g.id),
      [groupOf.get('declined')],
    );
    const users = await get(srv, '/api/v1/errors?sort=users&order=asc');
    const u = users.json.groups.map((g: any) => g.users);
    assert.deepEqual(
      u,
      [...u].sort((a, b) => a - b),
    );
  });

  it('answers a group with its frames, releases, tags and recent events with the events before them', async () => {
    const id = groupOf.get('checkoutTimeout')!;
    const r = await get(srv, `/api/v1/errors/${id}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.id, id);
    assert.equal(r.json.type, 'GatewayTimeoutException');
    assert.match(r.json.title, /^GatewayTimeoutException: Gateway stripe timed out after \d+ ms$/);
    const errors = data.errorsByKind.checkoutTimeout;
    const releaseCounts = Object.fromEntries(r.json.releases.map((x: any) => [x.release, x.count]));
    assert.equal(releaseCounts['1.4.0'] ?? 0, errors.filter((e) => e.service.version === '1.4.0').length);
    assert.equal(releaseCounts['1.5.0'] ?? 0, errors.filter((e) => e.service.version === '1.5.0').length);
    const env = r.json.tags.find((t: any) => t.field === 'deployment.environment');
    assert.equal(
      env.values.reduce((n: number, v: any) => n + v.count, 0),
      errors.length,
    );
    assert.equal(r.json.samples.length, 5);
    const sample = r.json.samples[0];
    assert.deepEqual(
      sample.frames.map((f: any) => [f.function, f.line, f.inApp]),
      [
        ['CheckoutController.submit', 27, true],
        ['PaymentProcessor.charge', 88, true],
      ],
    );
    const latest = errors
      .map((e) => e['@timestamp'])
      .sort()
      .pop();
    assert.equal(sample.timestamp, latest);
    // Samples linked by session or trace show what that visitor did just before.
    const withCrumbs = r.json.samples.find((s: any) => s.breadcrumbsFrom === 'events');
    assert.ok(withCrumbs, 'a sample with the events before it');
    assert.ok(withCrumbs.breadcrumbs.length > 0);
    for (const b of withCrumbs.breadcrumbs) assert.ok(b.timestamp <= withCrumbs.timestamp);
    const missing = await get(srv, '/api/v1/errors/no-such-group');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'errors.not_found');
  });

  it('turns a resolved group into a regression when it is seen again', async () => {
    const id = groupOf.get('webhookTimeout')!;
    const resolved = await setState(srv, id, { status: 'resolved' });
    assert.equal(resolved.status, 200, JSON.stringify(resolved.json));
    assert.equal(resolved.json.state.status, 'resolved');
    const listed = await get(srv, '/api/v1/errors?status=resolved');
    assert.deepEqual(
      listed.json.groups.map((g: any) => g.id),
      [id],
    );
    assert.ok(!(await get(srv, '/api/v1/errors')).json.groups.some((g: any) => g.id === id), 'not among unresolved');
    const again = { ...data.errorsByKind.webhookTimeout[0], '@timestamp': new Date().toISOString() };
    await send(srv, [again]);
    const after = await get(srv, '/api/v1/errors');
    const g = after.json.groups.find((x: any) => x.id === id);
    assert.ok(g, 'unresolved again');
    assert.equal(g.status, 'unresolved');
    assert.equal(g.regressed, true);
    assert.equal(g.state.regressedAt ?? g.state.regressedAtMs, Date.parse(again['@timestamp']));
    const detail = await get(srv, `/api/v1/errors/${id}`);
    assert.deepEqual(
      detail.json.history.map((h: any) => h.action),
      ['resolved', 'regressed'],
    );
  });

  it('resolved in the next release: the same release does not regress it, another one does', async () => {
    const id = groupOf.get('checkoutTimeout')!;
    const latest = [...data.errorsByKind.checkoutTimeout]
      .sort((a, b) => (a['@timestamp'] < b['@timestamp'] ? -1 : 1))
      .pop()!;
    const release = latest.service.version;
    const r = await setState(srv, id, { status: 'resolved', inNextRelease: true });
    assert.equal(r.json.state.resolvedInRelease, release);
    await send(srv, [{ ...latest, '@timestamp': new Date().toISOString() }]);
    const same = await get(srv, '/api/v1/errors?status=resolved');
    assert.ok(
      same.json.groups.some((g: any) => g.id === id),
      'still resolved after an event of the old release',
    );
    await send(srv, [
      { ...latest, service: { ...latest.service, version: '9.9.9' }, '@timestamp': new Date().toISOString() },
    ]);
    const next = await get(srv, '/api/v1/errors');
    assert.equal(next.json.groups.find((g: any) => g.id === id)?.regressed, true);
  });

  it('ignores a group until a count of further events, then lists it again', async () => {
    const id = groupOf.get('declined')!;
    const r = await setState(srv, id, { status: 'ignored', untilCount: 3 });
    assert.equal(r.status, 200);
    const error = data.errorsByKind.declined[0]!;
    await send(
      srv,
      [1, 2].map(() => ({ ...error, '@timestamp': new Date().toISOString() })),
    );
    assert.ok((await get(srv, '/api/v1/errors?status=ignored')).json.groups.some((g: any) => g.id === id));
    await send(srv, [{ ...error, '@timestamp': new Date().toISOString() }]);
    const g = (await get(srv, '/api/v1/errors')).json.groups.find((x: any) => x.id === id);
    assert.equal(g?.status, 'unresolved');
    const detail = await get(srv, `/api/v1/errors/${id}`);
    assert.equal(detail.json.history.at(-1).action, 'escalated');
  });

  it('merges two groups into one (distinct users counted once) and unmerges them', async () => {
    const a = groupOf.get('checkoutTimeout')!;
    const b = groupOf.get('webhookTimeout')!;
    const before = (await get(srv, '/api/v1/errors?status=all&limit=50')).json.groups;
    const events = before.filter((g: any) => g.id === a || g.id === b).reduce((n: number, g: any) => n + g.events, 0);
    const m = await post(`${srv.url}/api/v1/errors/${a}/merge`, JSON.stringify({ groups: [b] }), {
      'content-type': 'application/json',
    });
    assert.equal(m.status, 200, JSON.stringify(m.json));
    assert.deepEqual(m.json.merged, [b]);
    const merged = (await get(srv, '/api/v1/errors?status=all&limit=50')).json.groups;
    assert.ok(!merged.some((g: any) => g.id === b));
    const g = merged.find((x: any) => x.id === a);
    assert.equal(g.events, events);
    assert.deepEqual(g.fingerprints, [a, b].sort());
    const users = new Set(
      [...data.errorsByKind.checkoutTimeout, ...data.errorsByKind.webhookTimeout].map((e) => e.user.id),
    );
    assert.equal(g.users, users.size);
    // The merged group answers for either id.
    assert.equal((await get(srv, `/api/v1/errors/${b}`)).json.id, a);
    const u = await post(`${srv.url}/api/v1/errors/${a}/unmerge`, JSON.stringify({ fingerprints: [b] }), {
      'content-type': 'application/json',
    });
    assert.equal(u.status, 200, JSON.stringify(u.json));
    const split = (await get(srv, '/api/v1/errors?status=all&limit=50')).json.groups;
    assert.ok(split.some((x: any) => x.id === b));
    const wrong = await post(`${srv.url}/api/v1/errors/${a}/unmerge`, JSON.stringify({ fingerprints: [b] }), {
      'content-type': 'application/json',
    });
    assert.equal(wrong.status, 404);
  });

  it('reports the mean time to resolution per service and per week', async () => {
    const r = await get(srv, '/api/v1/errors/mttr');
    assert.equal(r.status, 200);
    // webhookTimeout and checkoutTimeout were resolved once each, both payment-service.
    assert.equal(r.json.overall.resolutions, 2);
    const svc = r.json.byService.find((s: any) => s.service === 'payment-service');
    assert.equal(svc.resolutions, 2);
    assert.ok(svc.meanMs > 60 * 60_000, 'first seen hours before the resolution');
    assert.equal(
      r.json.byWeek.reduce((n: number, w: any) => n + w.resolutions, 0),
      2,
    );
  });

  it("runs seed 003's top-10 recurring errors query", async () => {
    const r = await query(srv.url, 'exceptions | summarize count() by type, outerMessage | top 10 by count_ desc', {
      from: 'now-7d',
      to: 'now+1h',
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(
      r.json.columns.map((c: any) => c.name),
      ['type', 'outerMessage', 'count_'],
    );
    const counts = r.json.rows.map((row: any[]) => row[2]);
    assert.deepEqual(
      counts,
      [...counts].sort((a, b) => b - a),
    );
    assert.ok(r.json.rows.length <= 10);
    const declined = r.json.rows.filter((row: any[]) => row[0] === 'PaymentDeclinedException');
    assert.ok(declined.length > 0);
  });

  it('answers bad parameters with 400 naming them', async () => {
    const sort = await get(srv, '/api/v1/errors?sort=price');
    assert.equal(sort.status, 400);
    assert.match(sort.json.error.message, /"sort"/);
    const unknown = await get(srv, '/api/v1/errors?color=red');
    assert.equal(unknown.status, 400);
    const badQuery = await get(srv, `/api/v1/errors?query=${encodeURIComponent('a AND')}`);
    assert.equal(badQuery.status, 400);
    assert.equal(badQuery.json.error.code, 'query.syntax');
    const badState = await setState(srv, 'x', { status: 'fixed' });
    assert.equal(badState.status, 400);
    const unknownGroup = await setState(srv, 'no-such-group', { status: 'resolved' });
    assert.equal(unknownGroup.status, 404);
  });
});
