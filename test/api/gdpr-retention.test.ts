/**
 * GDPR erasure and export, and the retention job, over real HTTP against
 * each engine: a real DuckDB file and a real ClickHouse server (one per
 * file, a database per server started here).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines, type TestEngine } from '../helpers/engines.ts';
import { post, query, startTestServer, type TestServer } from '../helpers/server.ts';

const DAY = 86_400_000;

async function ndjson(srv: TestServer, events: object[]): Promise<void> {
  const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, events.map((e) => JSON.stringify(e)).join('\n'));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.accepted, events.length, JSON.stringify(r.json));
}

async function count(srv: TestServer, q: string): Promise<number> {
  const r = await query(srv.url, `${q} | stats count() as n`, { from: 'now-400d', to: 'now+1h' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return Number(r.json.rows[0][0]);
}

const CUSTOMER_EVENTS = (now: number): object[] => {
  const ts = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  return [
    // Customer cust_42 across data classes: an order, a payment, a page view, a security event.
    { '@timestamp': ts(50), event: { type: 'order_created' }, customer: { id: 'cust_42' }, order: { id: 'o-1' } },
    {
      '@timestamp': ts(40),
      event: { type: 'payment_transaction', outcome: 'success' },
      customer: { id: 'cust_42', email: 'jane.doe@example.com' },
      transaction: { amount: 99.5, currency: 'EUR' },
    },
    { '@timestamp': ts(30), event: { type: 'page_view' }, user: { id: 'cust_42' }, page: { url: '/p/1' } },
    { '@timestamp': ts(20), event: { category: 'authentication', outcome: 'failure' }, user: { id: 'cust_42' } },
    // Another customer, untouched; one whose e-mail masks the same way.
    { '@timestamp': ts(10), event: { type: 'order_created' }, customer: { id: 'cust_7' } },
    {
      '@timestamp': ts(8),
      event: { type: 'order_created' },
      customer: { id: 'cust_8', email: 'jane.smith@example.com' },
    },
    // A log line that mentions the customer's e-mail only.
    { '@timestamp': ts(5), message: 'password reset mail sent to jane.doe@example.com' },
  ];
};

async function erase(srv: TestServer, body: object): Promise<any> {
  const r = await post(`${srv.url}/api/v1/privacy/erasure`, JSON.stringify(body), {
    'content-type': 'application/json',
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
}

/** Rounds to cents, as answers round money columns. */
const cents = (x: number) => Math.round(x * 100) / 100;

function suites(engine: TestEngine): void {
  describe('GDPR erasure and export (e-mails masked at ingest, the default)', () => {
    let srv: TestServer;

    before(async () => {
      srv = await startTestServer({ store: await engine.start() });
      await ndjson(srv, CUSTOMER_EVENTS(Date.now()));
    });
    after(async () => {
      await srv.close();
    });

    it("exports the customer's events by id", async () => {
      const r = await fetch(`${srv.url}/api/v1/privacy/export?customer_id=cust_42`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-disposition') ?? '', /attachment/);
      const body = (await r.json()) as { count: number; events: Record<string, any>[] };
      assert.equal(body.count, 4);
      assert.deepEqual(
        body.events.map((e) => e['event']?.['type'] ?? e['event']?.['category']),
        ['order_created', 'payment_transaction', 'page_view', 'authentication'],
      );
      const bad = await fetch(`${srv.url}/api/v1/privacy/export`);
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as any).error.message, /customer_id.*email/);
    });

    it('says plainly that a masked e-mail cannot find the customer, and never erases a look-alike', async () => {
      const byEmail = (await (
        await fetch(`${srv.url}/api/v1/privacy/export?email=jane.doe@example.com`)
      ).json()) as any;
      assert.equal(byEmail.count, 0);
      assert.match(byEmail.note, /stored masked.*customer_id/);
      const r = await erase(srv, { email: 'jane.doe@example.com' });
      assert.equal(r.deleted, 0);
      // jane.smith masks to the same jane.***@example.com and must survive.
      assert.equal(await count(srv, 'customer.id:cust_8'), 1);
    });

    it('erases the customer everywhere by id, reports counts, and records an audit entry', async () => {
      const r = await erase(srv, { customer_id: 'cust_42' });
      assert.equal(r.deleted, 4);
      assert.deepEqual(r.customerIds, ['cust_42']);
      assert.deepEqual(r.byDataClass, { app: 1, business: 2, security: 1 });
      assert.equal(await count(srv, 'customer.id:cust_42 OR user.id:cust_42'), 0);
      assert.equal(await count(srv, 'customer.id:cust_7 OR customer.id:cust_8'), 2);
      // The audit entry is stored like any event: visible within a second, or at once after a refresh.
      await post(`${srv.url}/_refresh`, '');
      const audit = await query(
        srv.url,
        'data_class:audit AND event.action:privacy.erasure AND audit.deleted:>0 | fields audit.deleted, audit.customer_ids',
        { from: 'now-1h', to: 'now+1h' },
      );
      // Attribute values come back as text.
      assert.deepEqual(audit.json.rows, [['4', '["cust_42"]']]);
      // The audit trail itself is never erased.
      assert.equal((await erase(srv, { customer_id: 'cust_42' })).deleted, 0);
      await post(`${srv.url}/_refresh`, '');
      assert.ok((await count(srv, 'data_class:audit AND event.action:privacy.erasure')) >= 3);
    });

    it('rejects a request without a customer with a clear message', async () => {
      const r = await post(`${srv.url}/api/v1/privacy/erasure`, JSON.stringify({ email: 'not-an-email' }), {
        'content-type': 'application/json',
      });
      assert.equal(r.status, 400);
      assert.match(r.json.error.message, /email/);
    });
  });

  describe('GDPR erasure by e-mail (e-mails kept, privacy.maskEmails: false)', () => {
    let srv: TestServer;

    before(async () => {
      srv = await startTestServer({ store: await engine.start(), privacy: { maskEmails: false } });
      await ndjson(srv, CUSTOMER_EVENTS(Date.now()));
    });
    after(async () => {
      await srv.close();
    });

    it('finds the customer id through the e-mail and erases all of their events', async () => {
      const exported = (await (
        await fetch(`${srv.url}/api/v1/privacy/export?email=Jane.Doe@example.com`)
      ).json()) as any;
      assert.deepEqual(exported.customerIds, ['cust_42']);
      assert.equal(exported.count, 5);
      assert.equal(exported.note, undefined);
      const r = await erase(srv, { email: 'Jane.Doe@example.com' });
      assert.equal(r.deleted, 5);
      assert.equal(await count(srv, 'customer.id:cust_42 OR user.id:cust_42'), 0);
      assert.equal(await count(srv, 'customer.id:cust_8'), 1);
    });
  });

  describe('retention per data class', () => {
    let srv: TestServer;

    before(async () => {
      srv = await startTestServer({
        store: await engine.start(),
        retention: { app: '7d', business: '60d', interval: 0 },
      });
    });
    after(async () => {
      await srv.close();
    });

    it('deletes what each data class no longer keeps, and reports it', async () => {
      const now = Date.now();
      const at = (days: number) => new Date(now - days * DAY).toISOString();
      await ndjson(srv, [
        { '@timestamp': at(10), message: 'old app log', tag: 'ret' },
        { '@timestamp': at(1), message: 'new app log', tag: 'ret' },
        { '@timestamp': at(10), event: { type: 'order_completed' }, tag: 'ret' },
        { '@timestamp': at(90), event: { type: 'order_completed' }, tag: 'ret' },
        { '@timestamp': at(90), event: { category: 'authentication' }, tag: 'ret' },
      ]);
      const policy = (await (await fetch(`${srv.url}/api/v1/retention`)).json()) as any;
      assert.deepEqual(policy.policy, { app: '7d', security: '365d', audit: '2555d', business: '60d' });
      assert.equal(policy.lastRun, null);

      const r = await post(`${srv.url}/api/v1/retention/run`, '', { 'content-type': 'application/json' });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.deleted, 2, JSON.stringify(r.json));
      assert.equal(r.json.classes.app.deleted, 1);
      assert.equal(r.json.classes.business.deleted, 1);
      assert.equal(r.json.classes.security.deleted, 0);
      const left = await query(srv.url, 'tag:ret | stats count() as n by data_class | sort data_class', {
        from: 'now-400d',
        to: 'now+1h',
      });
      assert.deepEqual(left.json.rows, [
        ['app', 1],
        ['business', 1],
        ['security', 1],
      ]);
      const metrics = await (await fetch(`${srv.url}/metrics`)).text();
      assert.match(metrics, /shoplens_retention_deleted_events_total\{data_class="app"\} 1/);
      const after_ = (await (await fetch(`${srv.url}/api/v1/retention`)).json()) as any;
      assert.equal(after_.lastRun.deleted, 2);
    });
  });

  // The ClickHouse store has no hourly rollups yet (docs/clickhouse.md): its retention drops whole days.
  describe('hourly rollups keep long-range stats after raw data expires', { skip: engine.name !== 'duckdb' }, () => {
    let srv: TestServer;

    before(async () => {
      srv = await startTestServer({
        store: await engine.start(),
        retention: { app: '3d', business: '3d', interval: 0 },
      });
    });
    after(async () => {
      await srv.close();
    });

    it('answers count/countif/sum/avg/min/max by hour, gateway and outcome exactly as computed from the events sent', async () => {
      const hour = 3_600_000;
      const start = Math.floor((Date.now() - 6 * DAY) / hour) * hour;
      const payments: Payment[] = [];
      const requests: ApiRequest[] = [];
      // Five days of payments, every 20 minutes, two gateways, some failures, and API requests.
      for (let t = start, i = 0; t < start + 5 * DAY; t += 20 * 60_000, i++) {
        payments.push({
          ts: t + 1000,
          failed: i % 7 === 0,
          amount: 10 + (i % 13),
          gateway: i % 2 ? 'stripe' : 'adyen',
          risk: i % 100,
        });
        requests.push({
          ts: t + 2000,
          duration: 50 + (i % 300),
          route: i % 3 ? '/api/checkout' : '/api/cart',
          status: i % 11 ? 200 : 500,
        });
      }
      const events: object[] = [
        ...payments.map((p) => ({
          '@timestamp': new Date(p.ts).toISOString(),
          event: { type: 'payment_transaction', outcome: p.failed ? 'failure' : 'success' },
          transaction: { amount: p.amount, gateway: p.gateway, currency: 'EUR' },
          payment: { risk_score: p.risk },
        })),
        ...requests.map((r) => ({
          '@timestamp': new Date(r.ts).toISOString(),
          event: { type: 'api_request', duration: r.duration },
          http: { route: r.route, response: { status_code: r.status } },
          service: { name: 'checkout' },
        })),
      ];
      for (let k = 0; k < events.length; k += 500) await ndjson(srv, events.slice(k, k + 500));
      const range = { from: new Date(start - hour).toISOString(), to: 'now+1h' };
      // Each query with its answer computed here from the events sent (not from an earlier answer).
      const expected: [string, unknown[][]][] = [
        [
          'event.type:payment_transaction | stats count() as n, countif(event.outcome:failure) as failed, sum(transaction.amount) as revenue, avg(transaction.amount) as aov, min(transaction.amount) as lo, max(payment.risk_score) as risk by transaction.gateway | sort transaction.gateway',
          groupRows(
            payments,
            (p) => [p.gateway],
            (ps) => [
              ps.length,
              ps.filter((p) => p.failed).length,
              // Money in answers is rounded to the currency's minor unit (cents, here).
              cents(sum(ps.map((p) => p.amount))),
              cents(sum(ps.map((p) => p.amount)) / ps.length),
              cents(Math.min(...ps.map((p) => p.amount))),
              Math.max(...ps.map((p) => p.risk)),
            ],
          ),
        ],
        [
          'event.type:payment_transaction AND transaction.gateway:stripe | stats count() as n, sum(transaction.amount) as revenue by bin(@timestamp, 6h)',
          groupRows(
            payments.filter((p) => p.gateway === 'stripe'),
            (p) => [bucket(p.ts, 6 * hour)],
            (ps) => [ps.length, cents(sum(ps.map((p) => p.amount)))],
          ),
        ],
        [
          'event.type:api_request | stats count() as requests, countif(http.response.status_code:>=500) as errors, avg(event.duration) as latency by http.route, bin(@timestamp, 1d) | where errors > 0 | sort http.route, @timestamp',
          groupRows(
            requests,
            (r) => [r.route, bucket(r.ts, DAY)],
            (rs) => [rs.length, rs.filter((r) => r.status >= 500).length, sum(rs.map((r) => r.duration)) / rs.length],
          ).filter((row) => (row[3] as number) > 0),
        ],
      ];
      const p95Query = 'event.type:api_request | stats p95(event.duration) as p95, count() as n';
      for (const [q, rows] of expected) {
        const r = await query(srv.url, q, range);
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.deepEqual(roundRows(r.json.rows), roundRows(rows), `raw: ${q}`);
      }
      const all = await query(srv.url, p95Query, range);
      assert.deepEqual(
        roundRows(all.json.rows),
        roundRows([
          [
            quantileCont(
              requests.map((r) => r.duration),
              0.95,
            ),
            requests.length,
          ],
        ]),
      );

      const ranFrom = Date.now();
      const run = await post(`${srv.url}/api/v1/retention/run`, '', { 'content-type': 'application/json' });
      assert.equal(run.status, 200, JSON.stringify(run.json));
      // Retention deletes the whole hours before now - 3 d (both classes keep 3 d here).
      const before = Date.parse(run.json.classes.app.before);
      assert.ok(before >= ranFrom - 3 * DAY && before <= Date.now() - 3 * DAY, run.json.classes.app.before);
      const cutoff = Math.floor(before / hour) * hour;
      const expired = payments.filter((p) => p.ts < cutoff).length + requests.filter((r) => r.ts < cutoff).length;
      assert.ok(expired > 300, `the test sends ${expired} events older than the cutoff`);
      assert.equal(run.json.deleted, expired, JSON.stringify(run.json));
      // The raw events of the first days are gone...
      const raw = await query(srv.url, 'event.type:payment_transaction', {
        from: range.from,
        to: new Date(start + DAY).toISOString(),
      });
      assert.equal(raw.json.rows.length, 0);
      // ...and the dashboards' numbers are unchanged, now read from the rollups for the expired hours.
      for (const [q, rows] of expected) {
        const r = await query(srv.url, q, range);
        assert.equal(
          r.status,
          200,
          srv
            .logs()
            .split('\n')
            .filter((l) => l.includes('rror'))
            .slice(-3)
            .join('\n'),
        );
        assert.deepEqual(roundRows(r.json.rows), roundRows(rows), `after retention: ${q}`);
      }
      // What rollups cannot answer exactly (a percentile) reads the raw events still kept, and says nothing false.
      const kept = requests.filter((r) => r.ts >= cutoff).map((r) => r.duration);
      const p95 = await query(srv.url, p95Query, range);
      assert.deepEqual(roundRows(p95.json.rows), roundRows([[quantileCont(kept, 0.95), kept.length]]));
    });
  });
}

for (const engine of testEngines('GDPR erasure and retention'))
  describe(`GDPR and retention (${engine.name})`, () => {
    after(async () => {
      await engine.stop();
    });
    suites(engine);
  });

interface Payment {
  readonly ts: number;
  readonly failed: boolean;
  readonly amount: number;
  readonly gateway: string;
  readonly risk: number;
}

interface ApiRequest {
  readonly ts: number;
  readonly duration: number;
  readonly route: string;
  readonly status: number;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The start of the UTC bucket of `width` ms holding `ts`, as the API writes it. */
function bucket(ts: number, width: number): string {
  return new Date(Math.floor(ts / width) * width).toISOString();
}

/** Rows of `keys..., aggregates...` per distinct key, sorted by the keys (as `sort` and time buckets order them). */
function groupRows<T>(
  items: readonly T[],
  key: (item: T) => string[],
  aggregate: (group: T[]) => number[],
): unknown[][] {
  const groups = new Map<string, { key: string[]; items: T[] }>();
  for (const item of items) {
    const k = key(item);
    const id = JSON.stringify(k);
    const group = groups.get(id) ?? { key: k, items: [] };
    group.items.push(item);
    groups.set(id, group);
  }
  return [...groups.values()]
    .sort((a, b) => (a.key.join('\u0000') < b.key.join('\u0000') ? -1 : 1))
    .map((g) => [...g.key, ...aggregate(g.items)]);
}

/** The percentile as DuckDB's quantile_cont: linear between the order statistics around p·(n−1). */
function quantileCont(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Sums come back in another order of addition: compare to 9 significant digits. */
function roundRows(rows: unknown[][]): unknown[][] {
  return rows.map((r) => r.map((v) => (typeof v === 'number' ? Number(v.toPrecision(9)) : v)));
}
