import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '../helpers/engines.ts';
import { post, query, startTestServer, type TestServer } from '../helpers/server.ts';
import { rng } from '../helpers/rng.ts';

const ERRORS = [
  ['GatewayTimeoutException', 'Payment gateway did not answer in time'],
  ['PaymentDeclinedException', 'Insufficient funds'],
  ['PaymentDeclinedException', 'Card reported stolen'],
  ['StockRaceException', 'Stock reserved by another order'],
  ['SessionExpiredException', 'Session expired during checkout'],
  ['InvalidAddressException', 'Postal code does not match city'],
  ['ShippingApiDownException', 'Colissimo API unavailable'],
  ['ThreeDSecureException', '3-D Secure authentication failed'],
  ['CrmSyncException', 'CRM sync failed'],
  ['EmailServiceException', 'Confirmation e-mail not sent'],
  ['MfaTimeoutException', 'MFA timeout'],
  ['TokenRefreshException', 'Token refresh failed'],
] as const;
const ROUTES = ['/api/cart/add', '/api/checkout', '/api/payment/process', '/api/products'];

for (const engine of testEngines('POST /api/v1/query'))
  describe(`POST /api/v1/query (${engine.name})`, () => {
    let srv: TestServer;
    const now = Date.now();
    const expectedErrors = new Map<string, number>();
    const perRoute = new Map<string, { total: number; errors: number }>();
    const checkoutDurations: number[] = [];

    before(async () => {
      srv = await startTestServer({ store: await engine.start() });
      const random = rng(7);
      const lines: string[] = [];
      // Errors over the last 7 days, skewed so the top 10 is well defined.
      for (let i = 0; i < 600; i++) {
        const k = Math.min(ERRORS.length - 1, Math.floor(Math.pow(random(), 2) * ERRORS.length));
        const [type, message] = ERRORS[k] as readonly [string, string];
        const key = `${type}|${message}`;
        expectedErrors.set(key, (expectedErrors.get(key) ?? 0) + 1);
        lines.push(
          JSON.stringify({
            '@timestamp': new Date(now - random() * 6.9 * 86_400_000).toISOString(),
            level: 'ERROR',
            message: 'Payment processing failed',
            exception: { type, message },
          }),
        );
      }
      // API requests over the last 50 minutes.
      for (let i = 0; i < 800; i++) {
        const route = ROUTES[i % ROUTES.length] as string;
        const failed = random() < (route === '/api/checkout' ? 0.08 : route === '/api/products' ? 0.005 : 0.03);
        const duration = Math.round(50 + random() * 900);
        const s = perRoute.get(route) ?? { total: 0, errors: 0 };
        s.total++;
        if (failed) s.errors++;
        perRoute.set(route, s);
        if (route === '/api/checkout') checkoutDurations.push(duration);
        lines.push(
          JSON.stringify({
            '@timestamp': new Date(now - 60_000 - random() * 49 * 60_000).toISOString(),
            event: { type: 'api_request', outcome: failed ? 'failure' : 'success', duration },
            http: { route, request: { method: 'POST' }, response: { status_code: failed ? 503 : 200 } },
          }),
        );
      }
      const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, lines.join('\n'));
      assert.equal(r.json.accepted, 1400);
    });
    after(async () => {
      await srv?.close();
      await engine.stop();
    });

    it('answers the top 10 errors by type and message over 7 days', async () => {
      const started = performance.now();
      const r = await query(
        srv.url,
        'exception.type:* | stats count() as occurrences by exception.type, exception.message | sort occurrences desc | limit 10',
        { from: 'now-7d', to: 'now' },
      );
      const roundTripMs = performance.now() - started;
      assert.equal(r.status, 200);
      assert.deepEqual(
        r.json.columns.map((c: any) => [c.name, c.type]),
        [
          ['exception.type', 'string'],
          ['exception.message', 'string'],
          ['occurrences', 'integer'],
        ],
      );
      const expected = [...expectedErrors.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
      assert.equal(r.json.rows.length, 10);
      // Same counts in the same order (ties may list either key first).
      assert.deepEqual(
        r.json.rows.map((row: any[]) => row[2]),
        expected.map((e) => e[1]),
      );
      for (const row of r.json.rows) assert.equal(expectedErrors.get(`${row[0]}|${row[1]}`), row[2]);
      assert.equal(r.json.stats.rowsScanned, 1400);
      // Time in the store: a real measurement (more than nothing), inside what the client waited, in ms.
      assert.equal(typeof r.json.stats.elapsedMs, 'number');
      assert.ok(r.json.stats.elapsedMs > 0, `elapsedMs ${r.json.stats.elapsedMs}`);
      assert.ok(
        r.json.stats.elapsedMs <= roundTripMs,
        `elapsedMs ${r.json.stats.elapsedMs} > round trip ${roundTripMs}`,
      );
    });

    it('answers the error rate per endpoint over 1 h where > 1 %', async () => {
      const r = await query(
        srv.url,
        'event.type:api_request | stats count() as total, countif(event.outcome:failure) as errors by http.route | eval errorRate = errors * 100.0 / total | where errorRate > 1 | sort errorRate desc',
        { from: 'now-1h', to: 'now' },
      );
      assert.equal(r.status, 200);
      const expected = [...perRoute.entries()]
        .map(([route, s]) => [route, s.total, s.errors, (s.errors * 100) / s.total] as const)
        .filter((x) => x[3] > 1)
        .sort((a, b) => b[3] - a[3]);
      assert.deepEqual(
        r.json.rows.map((row: any[]) => [row[0], row[1], row[2], Math.round(row[3] * 1e9) / 1e9]),
        expected.map((x) => [x[0], x[1], x[2], Math.round(x[3] * 1e9) / 1e9]),
      );
      // The where stage did drop something: the routes at or under 1 % (computed from what was sent) are absent,
      // and without it every route answers.
      const dropped = [...perRoute.entries()]
        .filter(([, s]) => (s.errors * 100) / s.total <= 1)
        .map(([route]) => route);
      assert.ok(dropped.length > 0, 'the data has a route at or under 1 %');
      for (const route of dropped) assert.ok(!r.json.rows.some((row: any[]) => row[0] === route), route);
      const all = await query(
        srv.url,
        'event.type:api_request | stats count() as total, countif(event.outcome:failure) as errors by http.route',
        { from: 'now-1h', to: 'now' },
      );
      assert.deepEqual(all.json.rows.map((row: any[]) => row[0]).sort(), [...perRoute.keys()].sort());
    });

    it('answers p95 latency per endpoint per 5 minutes for checkout and payment', async () => {
      const r = await query(
        srv.url,
        'http.route:("/api/checkout" or "/api/payment/process") | stats p95(event.duration) as P95 by http.route, bin(@timestamp, 5m)',
        { from: 'now-1h', to: 'now' },
      );
      assert.equal(r.status, 200);
      const routes = new Set(r.json.rows.map((row: any[]) => row[0]));
      assert.deepEqual([...routes].sort(), ['/api/checkout', '/api/payment/process']);
      for (const row of r.json.rows) assert.equal(new Date(row[1]).getTime() % 300_000, 0);
      // Whole-hour p95 for checkout equals the continuous quantile of what was sent.
      const whole = await query(srv.url, 'http.route:"/api/checkout" | stats p95(event.duration) as P95', {
        from: 'now-1h',
        to: 'now',
      });
      const sorted = [...checkoutDurations].sort((a, b) => a - b);
      const pos = 0.95 * (sorted.length - 1);
      const lo = sorted[Math.floor(pos)] as number;
      const hi = sorted[Math.ceil(pos)] as number;
      assert.ok(Math.abs(whole.json.rows[0][0] - (lo + (hi - lo) * (pos - Math.floor(pos)))) < 1e-9);
    });

    it('answers 400 with the position and what was expected for a bad query', async () => {
      const r = await query(srv.url, 'event.type:payment_transaction AND | stats count()');
      assert.equal(r.status, 400);
      assert.equal(r.json.error.code, 'query.syntax');
      assert.equal(r.json.error.position, 35);
      assert.match(r.json.error.message, /Expected/);
      const unknown = await query(srv.url, 'event.type:x | stats count() as n | where total > 1');
      assert.equal(unknown.status, 400);
      assert.equal(unknown.json.error.code, 'query.invalid');
      assert.equal(unknown.json.error.position, 42);
      const notNumber = await query(srv.url, 'payment.risk_score:high');
      assert.equal(notNumber.status, 400);
      assert.equal(notNumber.json.error.position, 0);
    });

    it('explains the plan in plain English with the SQL', async () => {
      const r = await post(
        `${srv.url}/api/v1/query`,
        JSON.stringify({
          query: 'event.type:api_request | stats count() as n by http.route',
          explain: true,
          from: 'now-1h',
        }),
        { 'content-type': 'application/json' },
      );
      assert.equal(r.status, 200);
      assert.match(
        r.json.explain.plan,
        /^Find events where event\.type is "api_request", from .* to .*\. Then compute count as n, grouped by http\.route\.$/,
      );
      // Identifiers quoted as the engine quotes them.
      assert.match(r.json.explain.sql, /GROUP BY ["`]http_route["`]/);
      // The audit trail is excluded unless the filter names data_class.
      assert.deepEqual(r.json.explain.params.slice(3), ['audit', 'api_request']);
    });

    it('rejects bad time ranges and bad bodies with clear messages', async () => {
      const r = await query(srv.url, '*', { from: 'yesterday' });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.code, 'query.time_range');
      assert.match(r.json.error.message, /from/);
      const inverted = await query(srv.url, '*', { from: 'now', to: 'now-1h' });
      assert.equal(inverted.status, 400);
      const noQuery = await post(`${srv.url}/api/v1/query`, '{"from":"now-1h"}', {
        'content-type': 'application/json',
      });
      assert.equal(noQuery.status, 400);
      assert.match(noQuery.json.error.message, /"query"/);
      const notJson = await post(`${srv.url}/api/v1/query`, '{query', { 'content-type': 'application/json' });
      assert.equal(notJson.status, 400);
      assert.equal(notJson.json.error.code, 'request.invalid_json');
    });

    it('logs structured JSON lines that carry the request id', async () => {
      const r = await fetch(`${srv.url}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'req-test-42' },
        body: JSON.stringify({ query: 'event.type:api_request | stats count() as n' }),
      });
      assert.equal(r.headers.get('x-request-id'), 'req-test-42');
      const lines = srv
        .logs()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const mine = lines.filter((l) => l['requestId'] === 'req-test-42');
      // The incoming line (with the request) and the completed line (with the status) both carry the id.
      assert.deepEqual(
        mine.filter((l) => 'req' in l).map((l) => [l['msg'], (l['req'] as any).url]),
        [['incoming request', '/api/v1/query']],
      );
      assert.deepEqual(
        mine.filter((l) => 'res' in l).map((l) => [l['msg'], (l['res'] as any).statusCode]),
        [['request completed', 200]],
      );
      assert.ok(mine.every((l) => typeof l['time'] === 'string' && typeof l['level'] === 'number'));
      // Every line about a request names it.
      const aboutRequests = lines.filter((l) => 'req' in l || 'res' in l);
      assert.ok(aboutRequests.length >= 2);
      for (const l of aboutRequests) assert.equal(typeof l['requestId'], 'string', JSON.stringify(l));
    });

    it('warns about an unknown field, with suggestions, and still answers', async () => {
      const r = await query(srv.url, 'http.rout:"/api/checkout" or exception.tpye:* | stats count() as n', {
        from: 'now-7d',
        to: 'now',
      });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json.rows, [[0]]);
      assert.deepEqual(
        r.json.warnings.map((w: any) => [w.code, w.field, w.suggestions, w.position]),
        [
          ['query.unknown_field', 'http.rout', ['http.route'], 0],
          ['query.unknown_field', 'exception.tpye', ['exception.type'], 29],
        ],
      );
      assert.match(r.json.warnings[0].message, /No field "http.rout".*did you mean "http.route"\?/);
      // Known fields, typed or not, give none.
      const known = await query(srv.url, 'http.route:"/api/checkout" and exception.type:* | stats count() as n');
      assert.deepEqual(known.json.warnings, []);
    });

    it('answers health, readiness and unknown routes', async () => {
      assert.equal((await fetch(`${srv.url}/health`)).status, 200);
      const ready = await fetch(`${srv.url}/ready`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as any).status, 'ready');
      const missing = await fetch(`${srv.url}/api/v1/nothing`);
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as any).error.code, 'not_found');
    });
  });
