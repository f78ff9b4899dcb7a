/**
 * Business KPIs on /metrics (issue 18 item 1): orders, revenue, payments by
 * gateway and outcome, checkout requests and request latency per service
 * and route, as a real Prometheus server scrapes them. Every figure is
 * checked against a plain TypeScript computation over the events sent, and
 * against the same question asked through Shoplens's own query API.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { DURATION_BUCKETS_S } from '../../src/store/kpis.ts';
import { PrometheusPeer, promtoolPath, requirePeers } from '../alerts/peers.ts';
import { mulberry32 } from '../helpers/rng.ts';
import { post, query, startTestServer, type TestServer } from '../helpers/server.ts';

type Event = Record<string, unknown>;

const CHANNELS = ['web', 'app'];
const REGIONS = ['eu-west', 'us-east'];
const CURRENCIES = ['EUR', 'USD'];
const GATEWAYS = ['stripe', 'adyen', 'paypal'];
const ROUTES = ['/api/checkout', '/api/cart', '/api/products/:id'];

function events(seed: number, n: number): Event[] {
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const now = Date.now();
  const out: Event[] = [];
  for (let i = 0; i < n; i++) {
    const ts = new Date(now - Math.floor(random() * 30_000)).toISOString();
    const kind = random();
    if (kind < 0.3) {
      out.push({
        '@timestamp': ts,
        event: { type: 'order_completed' },
        business: { channel: pick(CHANNELS) },
        customer: { region: pick(REGIONS) },
        transaction: { amount: Math.round(random() * 50_000) / 100, currency: pick(CURRENCIES) },
        order: { id: `ORD-${seed}-${i}` },
      });
    } else if (kind < 0.6) {
      const r = random();
      out.push({
        '@timestamp': ts,
        event: { type: 'payment_transaction', outcome: r < 0.7 ? 'success' : 'failure' },
        transaction: { gateway: pick(GATEWAYS), amount: 10, currency: 'EUR' },
        ...(r >= 0.7 && r < 0.85 ? { payment: { processor_response: 'declined' } } : {}),
      });
    } else {
      const route = pick(ROUTES);
      out.push({
        '@timestamp': ts,
        event: { type: 'api_request', duration: Math.round(random() * 3000 * 100) / 100 },
        service: { name: route === '/api/checkout' ? 'checkout-service' : 'catalog-service' },
        http: { route, response: { status_code: random() < 0.2 ? 503 : 200 } },
      });
    }
  }
  return out;
}

/** The KPIs of `sent`, computed here without Shoplens. */
function expected(sent: readonly Event[]) {
  const orders = new Map<string, { n: number; revenue: number }>();
  const payments = new Map<string, number>();
  const checkouts = new Map<string, number>();
  const durations = new Map<string, { n: number; sum: number; le: number[] }>();
  for (const e of sent) {
    const type = (e['event'] as any).type as string;
    if (type === 'order_completed') {
      const key = `${(e['business'] as any).channel}|${(e['customer'] as any).region}|${(e['transaction'] as any).currency}`;
      const o = orders.get(key) ?? { n: 0, revenue: 0 };
      o.n++;
      o.revenue += (e['transaction'] as any).amount as number;
      orders.set(key, o);
    } else if (type === 'payment_transaction') {
      const declined = (e['payment'] as any)?.processor_response === 'declined';
      const failed = (e['event'] as any).outcome === 'failure';
      const outcome = declined ? 'decline' : failed ? 'technical_failure' : 'success';
      const key = `${(e['transaction'] as any).gateway}|${outcome}`;
      payments.set(key, (payments.get(key) ?? 0) + 1);
    } else {
      const http = e['http'] as any;
      const ms = (e['event'] as any).duration as number;
      if (http.route === '/api/checkout') {
        const key = http.response.status_code >= 500 ? 'failure' : 'success';
        checkouts.set(key, (checkouts.get(key) ?? 0) + 1);
      }
      const key = `${(e['service'] as any).name}|${http.route}`;
      const d = durations.get(key) ?? { n: 0, sum: 0, le: DURATION_BUCKETS_S.map(() => 0) };
      d.n++;
      d.sum += ms / 1000;
      DURATION_BUCKETS_S.forEach((b, i) => {
        if (ms / 1000 <= b) d.le[i] = (d.le[i] as number) + 1;
      });
      durations.set(key, d);
    }
  }
  return { orders, payments, checkouts, durations };
}

/** `name{labels} value` lines of a Prometheus text exposition. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k as string] = v as string;
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

async function ingest(srv: TestServer, sent: readonly Event[]): Promise<void> {
  const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, sent.map((e) => JSON.stringify(e)).join('\n'));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.accepted, sent.length, JSON.stringify(r.json));
}

async function scrape(srv: TestServer): Promise<string> {
  const r = await fetch(`${srv.url}/metrics`);
  assert.equal(r.status, 200);
  return r.text();
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

describe('business KPIs on /metrics', () => {
  let srv: TestServer;
  const first = events(1, 400);

  before(async () => {
    srv = await startTestServer();
    await ingest(srv, first);
  });
  after(async () => {
    await srv.close();
  });

  it('counts orders and revenue by channel, region and currency, as computed from the events', async () => {
    const text = await scrape(srv);
    const want = expected(first).orders;
    const orders = samples(text, 'shoplens_shop_orders_total');
    const revenue = samples(text, 'shoplens_shop_revenue_total');
    assert.equal(orders.length, want.size, text);
    for (const [key, o] of want) {
      const [channel, region, currency] = key.split('|');
      const labels = { tenant: 'default', channel, region, currency };
      const n = orders.find((s) => JSON.stringify(s.labels) === JSON.stringify(labels));
      const v = revenue.find((s) => JSON.stringify(s.labels) === JSON.stringify(labels));
      assert.equal(n?.value, o.n, `orders ${key}`);
      assert.ok(v && close(v.value, o.revenue), `revenue ${key}: ${v?.value} vs ${o.revenue}`);
    }
    // And as Shoplens's own query answers it.
    const q = await query(
      srv.url,
      'event.type:order_completed | stats count() as n, sum(transaction.amount) as revenue by business.channel, customer.region, transaction.currency',
    );
    assert.equal(q.status, 200, JSON.stringify(q.json));
    assert.equal(q.json.rows.length, want.size);
    for (const [channel, region, currency, n, rev] of q.json.rows) {
      const o = want.get(`${channel}|${region}|${currency}`);
      assert.equal(n, o?.n);
      assert.ok(close(rev, o?.revenue ?? NaN));
    }
  });

  it('counts payments by gateway and outcome, and checkout requests by outcome', async () => {
    const text = await scrape(srv);
    const want = expected(first);
    const payments = samples(text, 'shoplens_shop_payments_total');
    assert.equal(payments.length, want.payments.size);
    for (const s of payments)
      assert.equal(s.value, want.payments.get(`${s.labels['gateway']}|${s.labels['outcome']}`), JSON.stringify(s));
    const q = await query(
      srv.url,
      'event.type:payment_transaction | stats countif(payment.processor_response:declined) as declines, countif(event.outcome:failure AND NOT payment.processor_response:declined) as technical, count() as total by transaction.gateway',
    );
    for (const [gateway, declines, technical, total] of q.json.rows) {
      const got = (outcome: string) =>
        payments.find((s) => s.labels['gateway'] === gateway && s.labels['outcome'] === outcome)?.value ?? 0;
      assert.equal(got('decline'), declines, `${gateway} declines`);
      assert.equal(got('technical_failure'), technical, `${gateway} technical failures`);
      assert.equal(got('success'), total - declines - technical, `${gateway} successes`);
    }
    const checkouts = samples(text, 'shoplens_shop_checkout_requests_total');
    for (const outcome of ['success', 'failure'])
      assert.equal(
        checkouts.find((s) => s.labels['outcome'] === outcome)?.value,
        want.checkouts.get(outcome),
        `checkout ${outcome}`,
      );
  });

  it('exports request latency per service and route as a Prometheus histogram', async () => {
    const text = await scrape(srv);
    assert.match(text, /^# TYPE shoplens_shop_request_duration_seconds histogram$/m);
    const want = expected(first).durations;
    const buckets = samples(text, 'shoplens_shop_request_duration_seconds_bucket');
    const counts = samples(text, 'shoplens_shop_request_duration_seconds_count');
    const sums = samples(text, 'shoplens_shop_request_duration_seconds_sum');
    assert.equal(counts.length, want.size);
    for (const [key, d] of want) {
      const [service, route] = key.split('|');
      const mine = (s: { labels: Record<string, string> }) =>
        s.labels['service'] === service && s.labels['route'] === route;
      assert.equal(counts.find(mine)?.value, d.n, `count ${key}`);
      assert.ok(close(sums.find(mine)?.value ?? NaN, d.sum), `sum ${key}`);
      DURATION_BUCKETS_S.forEach((le, i) =>
        assert.equal(
          buckets.find((s) => mine(s) && Number(s.labels['le']) === le)?.value,
          d.le[i],
          `bucket le=${le} of ${key}`,
        ),
      );
      assert.equal(buckets.find((s) => mine(s) && s.labels['le'] === '+Inf')?.value, d.n);
    }
  });

  it('passes promtool check metrics with the business series in it', async (t) => {
    if (!requirePeers('the promtool check of /metrics', ['promtool'])) return t.skip('promtool is not installed');
    const result = spawnSync(promtoolPath()!, ['check', 'metrics'], {
      input: await scrape(srv),
      encoding: 'utf8',
      timeout: 30_000,
    });
    const printed = `${result.stdout}${result.stderr}`.trim();
    assert.equal(printed, '', `promtool found problems:\n${printed}`);
    assert.equal(result.status, 0);
  });

  it('reads the same figures through a real Prometheus scraping Shoplens, and their increase', async (t) => {
    if (!requirePeers('the Prometheus scrape of the business KPIs', ['prometheus']))
      return t.skip('prometheus is not installed');
    const prom = await new PrometheusPeer().start([new URL(srv.url).host]);
    try {
      const total = (xs: { value: number }[]) => xs.reduce((a, s) => a + s.value, 0);
      const ordersNow = () => prom.query('sum(shoplens_shop_orders_total)');
      const waitFor = async (what: string, ok: () => Promise<boolean>) => {
        const deadline = Date.now() + 30_000;
        while (!(await ok())) {
          if (Date.now() > deadline) throw new Error(`Prometheus never saw ${what}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      };
      const before = expected(first);
      const ordersBefore = [...before.orders.values()].reduce((a, o) => a + o.n, 0);
      await waitFor(`${ordersBefore} orders`, async () => total(await ordersNow()) === ordersBefore);
      const t1 = Date.now() / 1000;
      const byGateway = await prom.query(
        'sum by (gateway) (shoplens_shop_payments_total{outcome="technical_failure"})',
      );
      for (const s of byGateway)
        assert.equal(s.value, before.payments.get(`${s.labels['gateway']}|technical_failure`) ?? 0);

      const second = events(2, 200);
      await ingest(srv, second);
      const after = expected([...first, ...second]);
      const ordersAfter = [...after.orders.values()].reduce((a, o) => a + o.n, 0);
      await waitFor(`${ordersAfter} orders`, async () => total(await ordersNow()) === ordersAfter);
      const t2 = Date.now() / 1000;
      // The increase between the two instants, by PromQL, equals the orders of the second batch.
      const at1 = total(await prom.query('sum(shoplens_shop_orders_total)', t1));
      const at2 = total(await prom.query('sum(shoplens_shop_orders_total)', t2));
      const secondOrders = second.filter((e) => (e['event'] as any).type === 'order_completed').length;
      assert.equal(at2 - at1, secondOrders);
      const requests = await prom.query('sum by (route) (shoplens_shop_request_duration_seconds_count)');
      const q = await query(srv.url, 'event.type:api_request | stats count() as n by http.route');
      for (const [route, n] of q.json.rows)
        assert.equal(requests.find((s) => s.labels['route'] === route)?.value, n, `requests on ${route}`);
    } finally {
      await prom.stop();
    }
  });
});

describe('business KPIs: bounded series', () => {
  it('counts label sets beyond metrics.maxSeries under "other", keeping the totals', async () => {
    const srv = await startTestServer({ metrics: { maxSeries: 2 } });
    try {
      const sent = GATEWAYS.concat(['klarna', 'braintree']).map((gateway, i) => ({
        '@timestamp': new Date(Date.now() - i * 1000).toISOString(),
        event: { type: 'payment_transaction', outcome: 'success' },
        transaction: { gateway, amount: 1, currency: 'EUR' },
      }));
      await ingest(srv, sent);
      const text = await scrape(srv);
      const payments = samples(text, 'shoplens_shop_payments_total');
      assert.equal(payments.length, 3, text);
      assert.equal(payments.filter((s) => s.labels['gateway'] === 'other').length, 1);
      assert.equal(
        payments.reduce((a, s) => a + s.value, 0),
        sent.length,
      );
      assert.equal(samples(text, 'shoplens_shop_series_folded_total')[0]?.value, 3);
    } finally {
      await srv.close();
    }
  });

  it('exports hostile label values escaped and cut to 128 characters, promtool-clean', async (t) => {
    const srv = await startTestServer();
    try {
      const odd = ['__proto__', 'constructor', 'a"b\\c\nd', 'x'.repeat(3000), '{{7*7}}', 'é漢字'];
      const sent = odd.map((channel, i) => ({
        '@timestamp': new Date(Date.now() - i * 1000).toISOString(),
        event: { type: 'order_completed' },
        business: { channel },
        transaction: { amount: 10, currency: 'EUR' },
      }));
      await ingest(srv, sent);
      const text = await scrape(srv);
      const orders = samples(text, 'shoplens_shop_orders_total');
      assert.equal(orders.length, odd.length, text);
      assert.ok(
        orders.some((s) => s.labels['channel'] === 'x'.repeat(128)),
        'long value cut to 128',
      );
      assert.ok(orders.some((s) => s.labels['channel'] === '__proto__'));
      assert.ok(orders.every((s) => (s.labels['channel'] ?? '').length <= 128));
      if (!requirePeers('the promtool check of /metrics', ['promtool'])) return t.skip('promtool is not installed');
      const result = spawnSync(promtoolPath()!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(`${result.stdout}${result.stderr}`.trim(), '');
      assert.equal(result.status, 0);
    } finally {
      await srv.close();
    }
  });

  it('exports none of them with metrics.business: []', async () => {
    const srv = await startTestServer({ metrics: { business: [] } });
    try {
      await ingest(srv, events(3, 50));
      assert.doesNotMatch(await scrape(srv), /shoplens_shop_/);
    } finally {
      await srv.close();
    }
  });
});
