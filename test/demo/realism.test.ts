/**
 * Does a simulated day look like a shop? Numbers computed from one generated
 * Wednesday (seed 42, traffic scale 0.3) under baseline conditions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATEGORIES, PRODUCTS } from '../../src/demo/catalog.ts';
import { CUSTOMER_COUNT, CustomerBase, TIERS, tierFor } from '../../src/demo/customers.ts';
import { EVENTS_PER_SESSION, SESSIONS_PER_MINUTE } from '../../src/demo/shop-simulator.ts';
import { SERVICES } from '../../src/demo/shop-model.ts';
import { baselineDay, countBy, DAY_MS, field, HOUR_MS, ofType, pageViews, WEDNESDAY_MS } from './fixtures.ts';

function share(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

function inHours(tsMs: number, fromHour: number, toHour: number): boolean {
  const hour = (tsMs - WEDNESDAY_MS) / HOUR_MS;
  return hour >= fromHour && hour < toHour;
}

describe('demo shop realism (one baseline weekday)', () => {
  it('walks the funnel (homepage, product, cart, checkout, payment) with decreasing counts and plausible conversion', () => {
    const { events } = baselineDay();
    const homepage = pageViews(events, 'homepage').length;
    const productViews = pageViews(events, 'product_detail').length;
    const addToCart = ofType(events, 'add_to_cart').length;
    const checkouts = ofType(events, 'checkout_started').length;
    const payments = ofType(events, 'payment_completed').length;
    const orders = ofType(events, 'order_completed').length;
    const funnel = [homepage, productViews, addToCart, checkouts, payments];
    for (let i = 1; i < funnel.length; i++) {
      assert.ok(funnel[i]! < funnel[i - 1]!, `funnel step ${i} (${funnel[i]}) not below step ${i - 1}: ${funnel}`);
    }
    const addRate = share(addToCart, productViews);
    assert.ok(addRate > 0.05 && addRate < 0.4, `add_to_cart / product views = ${addRate}`);
    const checkoutRate = share(checkouts, addToCart);
    assert.ok(checkoutRate > 0.2 && checkoutRate < 0.8, `checkout_started / add_to_cart = ${checkoutRate}`);
    const sessions = new Set(events.map((e) => field(e, 'user.session_id')).filter(Boolean)).size;
    const conversion = share(orders, sessions);
    assert.ok(conversion > 0.01 && conversion < 0.08, `orders per session = ${conversion}`);
    assert.equal(orders, payments, 'every completed payment becomes an order');
  });

  it('abandons about two carts in three, with reasons', () => {
    const { events } = baselineDay();
    const abandoned = ofType(events, 'cart_abandoned');
    const carts = abandoned.length + ofType(events, 'order_completed').length;
    const rate = share(abandoned.length, carts);
    assert.ok(rate > 0.5 && rate < 0.85, `cart abandonment rate ${rate}`);
    const reasons = countBy(abandoned, 'cart.abandon_reason');
    for (const reason of reasons.keys()) {
      assert.ok(['session_timeout', 'technical_error', 'out_of_stock', 'payment_declined'].includes(String(reason)));
    }
    assert.ok((reasons.get('session_timeout') ?? 0) > abandoned.length / 2, 'most carts time out');
    assert.ok((reasons.get('out_of_stock') ?? 0) > 0, 'some carts lose an item that went out of stock');
    assert.ok((reasons.get('payment_declined') ?? 0) > 0, 'some carts end with a declined payment');
  });

  it('approves 95-99 % of payments through stripe, paypal and adyen, with card types, currencies and risk scores', () => {
    const { events } = baselineDay();
    const payments = ofType(events, 'payment_transaction');
    assert.ok(payments.length > 300, `only ${payments.length} payments`);
    const success = share(payments.filter((e) => field(e, 'event.outcome') === 'success').length, payments.length);
    assert.ok(success >= 0.95 && success <= 0.99, `payment success rate ${success}`);
    assert.deepEqual([...countBy(payments, 'transaction.gateway').keys()].sort(), ['adyen', 'paypal', 'stripe']);
    const cardTypes = countBy(payments, 'payment.card_type');
    for (const card of ['visa', 'mastercard', 'amex']) assert.ok(cardTypes.has(card), `no ${card} payments`);
    assert.deepEqual([...countBy(payments, 'transaction.currency').keys()].sort(), ['EUR', 'GBP', 'USD']);
    for (const payment of payments) {
      const risk = field(payment, 'payment.risk_score');
      assert.ok(risk >= 0 && risk <= 100, `risk score ${risk}`);
      assert.ok(field(payment, 'transaction.amount') > 0);
      assert.ok(field(payment, 'payment.3ds_status'));
      const failed = field(payment, 'event.outcome') === 'failure';
      assert.equal(failed, field(payment, 'payment.processor_response') !== 'approved');
      if (field(payment, 'payment.processor_response') === 'declined')
        assert.ok(field(payment, 'payment.decline_code'));
    }
    assert.ok(
      payments.some((e) => field(e, 'payment.risk_score') > 75 && field(e, 'security.fraud_indicators').length),
    );
  });

  it('answers most API requests with 2xx, under 5 % with 4xx and under 1 % with 5xx', () => {
    const { events } = baselineDay();
    const requests = ofType(events, 'api_request');
    const statuses = countBy(requests, 'http.response.status_code');
    const count = (predicate: (status: number) => boolean): number =>
      [...statuses].filter(([s]) => predicate(Number(s))).reduce((n, [, c]) => n + c, 0);
    const clientErrors = share(
      count((s) => s >= 400 && s < 500),
      requests.length,
    );
    const serverErrors = share(
      count((s) => s >= 500),
      requests.length,
    );
    assert.ok(clientErrors > 0.003 && clientErrors < 0.05, `4xx share ${clientErrors}`);
    assert.ok(serverErrors > 0 && serverErrors < 0.01, `5xx share ${serverErrors}`);
    for (const status of [400, 401, 403, 404, 409, 429, 500, 502, 503, 504]) {
      assert.ok(statuses.has(status), `no ${status} in a day`);
    }
    const routes = countBy(requests, 'http.route');
    for (const route of ['/api/cart/add', '/api/checkout', '/api/payment/process']) assert.ok(routes.has(route), route);
    assert.deepEqual([...countBy(requests, 'service.name').keys()].sort(), [...SERVICES].sort());
    for (const request of requests) {
      const failed = field(request, 'http.response.status_code') >= 400;
      assert.equal(field(request, 'event.outcome'), failed ? 'failure' : 'success');
      assert.ok(field(request, 'event.duration') > 0);
    }
  });

  it('logs payment, inventory, session, validation and integration errors with exception type, message and stack trace', () => {
    const { events } = baselineDay();
    const errors = ofType(events, 'error');
    const categories = [...countBy(errors, 'error.category').keys()].sort();
    for (const category of ['data_validation', 'integration', 'inventory', 'payment_processing', 'user_session']) {
      assert.ok(categories.includes(category), `no ${category} errors (got ${categories})`);
    }
    for (const error of errors) {
      const type = field(error, 'exception.type');
      assert.match(field(error, 'exception.stacktrace'), new RegExp(`^${type}: .+\\n    at `));
      assert.ok(field(error, 'exception.message'));
      assert.ok(['ERROR', 'WARN'].includes(field(error, 'log.level')));
    }
  });

  it('samples every pod with cpu, memory, disk and network io, db pool and cache hit rate', () => {
    const { events, simulator } = baselineDay();
    const samples = ofType(events, 'infrastructure');
    assert.equal(samples.length, simulator.pods.length * 288, 'one sample per pod every 5 minutes');
    for (const sample of samples) {
      const cpu = field(sample, 'infrastructure.cpu_usage');
      assert.ok(cpu > 0 && cpu <= 100, `cpu ${cpu}`);
      assert.ok(field(sample, 'infrastructure.memory_usage') < field(sample, 'infrastructure.memory_limit'));
      assert.ok(field(sample, 'infrastructure.disk_io.read_bytes') > 0);
      assert.ok(field(sample, 'infrastructure.network_io.bytes_sent') > 0);
      const hitRate = field(sample, 'cache.hit_rate');
      assert.ok(hitRate > 0 && hitRate < 1, `cache hit rate ${hitRate}`);
      assert.ok(String(field(sample, 'kubernetes.pod')).startsWith(field(sample, 'service.name')));
      assert.match(field(sample, 'kubernetes.node'), /^worker-node-\d\d$/);
      if (field(sample, 'service.name') !== 'api-gateway') {
        const active = field(sample, 'database.active_connections');
        assert.ok(active >= 0 && active <= field(sample, 'database.connection_pool_size'));
      }
    }
  });

  it('is quieter at night than at the evening peak', () => {
    const { events } = baselineDay();
    const homepage = pageViews(events, 'homepage');
    const night = homepage.filter((e) => inHours(e.tsMs, 2, 5)).length;
    const evening = homepage.filter((e) => inHours(e.tsMs, 19, 22)).length;
    assert.ok(night * 3 < evening, `night ${night} vs evening ${evening}`);
  });

  it('produces the events per session that the rate estimates assume', () => {
    const { events } = baselineDay();
    const sessions = new Set(events.map((e) => field(e, 'user.session_id')).filter(Boolean)).size;
    const expectedSessions = SESSIONS_PER_MINUTE * 0.3 * 1440;
    assert.ok(Math.abs(sessions / expectedSessions - 1) < 0.1, `${sessions} sessions, expected ~${expectedSessions}`);
    // Infrastructure samples and gateway health checks belong to no session.
    const sessionless = ofType(events, 'infrastructure').length + ofType(events, 'health_check').length;
    const perSession = (events.length - sessionless) / sessions;
    assert.ok(Math.abs(perSession / EVENTS_PER_SESSION - 1) < 0.15, `${perSession} events per session`);
  });
});

describe('demo shop catalog and customers', () => {
  it('sells the catalog (LAPTOP001, PHONE001, ...) in categories, with prices and stock', () => {
    assert.ok(PRODUCTS.length >= 15);
    const byId = new Map(PRODUCTS.map((p) => [p.id, p]));
    assert.equal(byId.get('LAPTOP001')?.name, 'Gaming Laptop');
    assert.equal(byId.get('LAPTOP001')?.price, 1299.99);
    assert.equal(byId.get('PHONE001')?.name, 'Smartphone Pro');
    assert.equal(byId.get('PHONE001')?.price, 899.99);
    assert.equal(byId.size, PRODUCTS.length, 'product ids are unique');
    assert.ok(CATEGORIES.length >= 4);
    const { simulator } = baselineDay();
    const stock = PRODUCTS.map((p) => simulator.catalog.stockAt(p.id, WEDNESDAY_MS));
    assert.ok(stock.every((n) => n >= 0));
    assert.ok(stock.some((n) => n > 0));
    // Some products sell out at some point of a week.
    const soldOut = PRODUCTS.filter((p) =>
      Array.from({ length: 7 * 24 }, (_, h) => simulator.catalog.stockAt(p.id, WEDNESDAY_MS + h * HOUR_MS)).includes(0),
    );
    assert.ok(soldOut.length > 0 && soldOut.length < PRODUCTS.length / 2, `${soldOut.length} products sell out`);
  });

  it('has 5,000 customers across the 4 tiers, with regions, signup dates and lifetime value', () => {
    const base = new CustomerBase(42);
    assert.equal(base.customers.length, CUSTOMER_COUNT);
    assert.equal(CUSTOMER_COUNT, 5000);
    assert.equal(new Set(base.customers.map((c) => c.id)).size, 5000);
    assert.equal(base.customers[0]?.id, 'CUST00001');
    const tiers = base.countByTier();
    assert.deepEqual(Object.keys(tiers).sort(), [...TIERS].sort());
    assert.ok(tiers.BRONZE > tiers.SILVER && tiers.SILVER > tiers.GOLD && tiers.GOLD > tiers.PLATINUM);
    assert.ok(tiers.PLATINUM > 50, `${tiers.PLATINUM} platinum customers`);
    const regions = new Set<string>(base.customers.map((c) => c.location.region));
    for (const region of ['US-EAST', 'US-WEST', 'EU-WEST', 'ASIA-PACIFIC']) assert.ok(regions.has(region), region);
    for (const customer of base.customers) {
      assert.equal(customer.tier, tierFor(customer.lifetimeValue));
      assert.match(customer.signupDate, /^20\d\d-\d\d-\d\d$/);
      assert.match(customer.maskedEmail, /^[a-z]+\.\*\*\*@example\.com$/);
    }
    assert.deepEqual(new CustomerBase(42).customers[1234], base.customers[1234], 'same seed, same customers');
  });

  it('keeps a generated day inside its window and reports sessions for all four tiers', () => {
    const { events } = baselineDay();
    const tiers = countBy(ofType(events, 'page_view'), 'customer.tier');
    assert.deepEqual([...tiers.keys()].sort(), [...TIERS].sort());
    assert.ok(events.every((e) => e.tsMs >= WEDNESDAY_MS && e.tsMs < WEDNESDAY_MS + DAY_MS));
  });
});
