/**
 * Demo incidents: each one, injected into a window of the simulated shop,
 * shows what a monitoring user would see in the events, and only while it
 * runs. The same seed without the incident is the control. Plus the HTTP
 * API that starts incidents and returns the ground truth.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DemoEvent } from '../../src/demo/demo-event.ts';
import {
  BESTSELLER_ID,
  FRAUD_IP_ADDRESSES,
  INCIDENT_NAMES,
  INCIDENTS,
  IncidentSchedule,
  OUTAGE_GATEWAY,
  type IncidentName,
} from '../../src/demo/incidents.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { field, HOUR_MS, ofType, WEDNESDAY_MS } from './fixtures.ts';

const MINUTE_MS = 60_000;
const FROM = WEDNESDAY_MS + 12 * HOUR_MS;
const TO = FROM + 3 * HOUR_MS;
const INCIDENT_FROM = FROM + HOUR_MS;
const INCIDENT_TO = FROM + 2 * HOUR_MS;
const SEED = 42;
const SCALE = 1.5;

const inIncident = (e: DemoEvent): boolean => e.tsMs >= INCIDENT_FROM && e.tsMs < INCIDENT_TO;
const outsideIncident = (e: DemoEvent): boolean => !inIncident(e);

let control: DemoEvent[] | undefined;
/** The window without any incident (generated once). */
function withoutIncident(): DemoEvent[] {
  control ??= new ShopSimulator({ seed: SEED, trafficScale: SCALE }).eventsBetween(FROM, TO);
  return control;
}

const withIncidents = new Map<IncidentName, DemoEvent[]>();
/** The same window with `name` running for its middle hour (generated once per incident). */
function withIncident(name: IncidentName): DemoEvent[] {
  let events = withIncidents.get(name);
  if (!events) {
    const schedule = new IncidentSchedule();
    schedule.add(name, INCIDENT_FROM, INCIDENT_TO);
    events = new ShopSimulator({ seed: SEED, trafficScale: SCALE, conditions: schedule.hook }).eventsBetween(FROM, TO);
    withIncidents.set(name, events);
  }
  return events;
}

function apiRequests(events: readonly DemoEvent[], route: string): DemoEvent[] {
  return ofType(events, 'api_request').filter((e) => field(e, 'http.route') === route);
}

function successRate(events: readonly DemoEvent[]): number {
  return events.filter((e) => field(e, 'event.outcome') === 'success').length / Math.max(1, events.length);
}

function serverErrorRate(events: readonly DemoEvent[]): number {
  return events.filter((e) => field(e, 'http.response.status_code') >= 500).length / Math.max(1, events.length);
}

function p95(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? NaN;
}

/** Orders per session that started (first seen) in the window. */
function conversion(events: readonly DemoEvent[], keep: (e: DemoEvent) => boolean): number {
  const sessions = new Set<string>();
  let orders = 0;
  for (const e of events) {
    if (!keep(e)) continue;
    if (field(e, 'event.type') === 'page_view' && field(e, 'page.category') === 'homepage') {
      sessions.add(field(e, 'user.session_id'));
    }
    if (field(e, 'event.type') === 'order_completed') orders++;
  }
  return orders / Math.max(1, sessions.size);
}

describe('demo incidents: what a monitoring user sees', () => {
  it('payment-gateway-outage: the gateway answers 502/504 and its payment success falls, only during the outage', () => {
    const events = withIncident('payment-gateway-outage');
    const gatewayPayments = ofType(events, 'payment_transaction').filter(
      (e) => field(e, 'transaction.gateway') === OUTAGE_GATEWAY,
    );
    const during = gatewayPayments.filter(inIncident);
    const outside = gatewayPayments.filter(outsideIncident);
    assert.ok(during.length >= 40 && outside.length >= 80, `${during.length} / ${outside.length} payments`);
    assert.ok(successRate(during) < 0.8, `success during the outage ${successRate(during)}`);
    // Baseline is ~96 %: issuer declines, 3-D Secure failures and suspected fraud.
    assert.ok(successRate(outside) >= 0.93, `success outside the outage ${successRate(outside)}`);
    const controlDuring = ofType(withoutIncident(), 'payment_transaction').filter(
      (e) => field(e, 'transaction.gateway') === OUTAGE_GATEWAY && inIncident(e),
    );
    assert.ok(successRate(controlDuring) >= 0.93, `success without the incident ${successRate(controlDuring)}`);

    const statuses = apiRequests(events, '/api/payment/process')
      .filter(inIncident)
      .map((e) => field(e, 'http.response.status_code'));
    assert.ok(statuses.filter((s) => s === 502).length >= 10, '502s from the payment endpoint');
    assert.ok(statuses.filter((s) => s === 504).length >= 5, '504s from the payment endpoint');
    // The other gateways keep working.
    const others = ofType(events, 'payment_transaction').filter(
      (e) => field(e, 'transaction.gateway') !== OUTAGE_GATEWAY && inIncident(e),
    );
    assert.ok(successRate(others) >= 0.9, `other gateways ${successRate(others)}`);
  });

  it('checkout-latency: p95 of /api/checkout goes above 3 s during the incident only', () => {
    const durations = (events: readonly DemoEvent[], keep: (e: DemoEvent) => boolean): number[] =>
      apiRequests(events, '/api/checkout')
        .filter(keep)
        .map((e) => field(e, 'event.duration') as number);
    const events = withIncident('checkout-latency');
    const during = durations(events, inIncident);
    assert.ok(during.length >= 50, `${during.length} checkouts`);
    assert.ok(p95(during) > 3000, `p95 during ${p95(during)} ms`);
    assert.ok(p95(durations(events, outsideIncident)) < 1000, `p95 outside ${p95(durations(events, outsideIncident))}`);
    assert.ok(p95(durations(withoutIncident(), inIncident)) < 1000, 'p95 without the incident');
  });

  it('fraud-burst: 20+ transactions with risk score >= 80 from <= 3 IPs within 5 minutes', () => {
    const risky = (events: readonly DemoEvent[]): DemoEvent[] =>
      ofType(events, 'payment_transaction').filter((e) => field(e, 'payment.risk_score') >= 80);
    /** The most risky transactions in any 5-minute window starting on a minute, and their distinct IPs and cards. */
    const worstFiveMinutes = (events: readonly DemoEvent[]): { count: number; ips: number; cards: number } => {
      let worst = { count: 0, ips: 0, cards: 0 };
      for (let t = FROM; t < TO; t += MINUTE_MS) {
        const inWindow = events.filter((e) => e.tsMs >= t && e.tsMs < t + 5 * MINUTE_MS);
        if (inWindow.length > worst.count) {
          worst = {
            count: inWindow.length,
            ips: new Set(inWindow.map((e) => field(e, 'security.ip_address'))).size,
            cards: new Set(inWindow.map((e) => field(e, 'payment.card_last_four'))).size,
          };
        }
      }
      return worst;
    };
    const events = risky(withIncident('fraud-burst'));
    const burst = worstFiveMinutes(events.filter((e) => FRAUD_IP_ADDRESSES.includes(field(e, 'security.ip_address'))));
    assert.ok(burst.count >= 20, `${burst.count} high-risk transactions in the worst 5 minutes`);
    assert.ok(burst.ips <= 3 && burst.cards <= 5, `${burst.ips} IPs, ${burst.cards} cards`);
    assert.ok(
      events.filter(outsideIncident).every((e) => !FRAUD_IP_ADDRESSES.includes(field(e, 'security.ip_address'))),
      'no attack outside the incident',
    );
    const quiet = worstFiveMinutes(risky(withoutIncident()));
    assert.ok(quiet.count < 5, `${quiet.count} high-risk transactions in 5 minutes without the incident`);
  });

  it('error-spike: the catalog service answers 5xx on over 10 % of requests; other services do not', () => {
    const service = INCIDENTS['error-spike'].service;
    const requestsOf = (events: readonly DemoEvent[], keep: (e: DemoEvent) => boolean): DemoEvent[] =>
      ofType(events, 'api_request').filter((e) => field(e, 'service.name') === service && keep(e));
    const events = withIncident('error-spike');
    assert.ok(serverErrorRate(requestsOf(events, inIncident)) > 0.1, 'catalog 5xx rate during the spike');
    assert.ok(serverErrorRate(requestsOf(events, outsideIncident)) < 0.02, 'catalog 5xx rate outside');
    assert.ok(serverErrorRate(requestsOf(withoutIncident(), inIncident)) < 0.02, 'catalog 5xx rate without');
    const others = ofType(events, 'api_request').filter(
      (e) => inIncident(e) && field(e, 'service.name') !== service && field(e, 'service.name') !== 'payment-service',
    );
    assert.ok(serverErrorRate(others) < 0.02, `other services ${serverErrorRate(others)}`);
    const errors = ofType(events, 'error').filter((e) => inIncident(e) && field(e, 'service.name') === service);
    assert.ok(errors.length > 100, `${errors.length} catalog-service error events`);
  });

  it('checkout-failure-promo: during a flash sale, checkouts fail and carts are abandoned for technical errors', () => {
    const events = withIncident('checkout-failure-promo');
    const checkoutFailures = (all: readonly DemoEvent[]): number =>
      apiRequests(all, '/api/checkout').filter((e) => inIncident(e) && field(e, 'http.response.status_code') >= 500)
        .length;
    const technicalAbandons = (all: readonly DemoEvent[]): number =>
      ofType(all, 'cart_abandoned').filter((e) => field(e, 'cart.abandon_reason') === 'technical_error').length;
    const campaignSessions = ofType(events, 'page_view').filter(
      (e) => inIncident(e) && field(e, 'business.campaign_id') === 'flash_sale_incident',
    );
    assert.ok(campaignSessions.length > 100, `${campaignSessions.length} page views from the flash sale campaign`);
    const failures = checkoutFailures(events);
    const controlFailures = checkoutFailures(withoutIncident());
    assert.ok(failures >= 30 && failures >= 10 * Math.max(1, controlFailures), `${failures} vs ${controlFailures}`);
    const abandons = technicalAbandons(events);
    const controlAbandons = technicalAbandons(withoutIncident());
    assert.ok(abandons >= 3 * Math.max(1, controlAbandons) && abandons >= 20, `${abandons} vs ${controlAbandons}`);
    const allAbandons = ofType(events, 'cart_abandoned').length;
    assert.ok(allAbandons > 1.3 * ofType(withoutIncident(), 'cart_abandoned').length, 'more carts abandoned');
  });

  it('stock-out: the bestseller shows under 10 units, then sells out, and carts are lost to it', () => {
    const views = (events: readonly DemoEvent[]): DemoEvent[] =>
      ofType(events, 'page_view').filter((e) => field(e, 'product.id') === BESTSELLER_ID);
    const events = withIncident('stock-out');
    const during = views(events).filter(inIncident);
    assert.ok(during.length >= 50, `${during.length} views of ${BESTSELLER_ID}`);
    assert.ok(
      during.every((e) => field(e, 'product.stock_quantity') < 10),
      'every view shows under 10 units',
    );
    assert.ok(
      during.some((e) => field(e, 'product.in_stock') === false),
      'it sells out',
    );
    assert.ok(
      views(withoutIncident())
        .filter(inIncident)
        .every((e) => field(e, 'product.stock_quantity') >= 10),
      'enough stock without the incident',
    );
    assert.ok(
      views(events)
        .filter(outsideIncident)
        .every((e) => field(e, 'product.stock_quantity') >= 10),
    );
    const rejectedAdds = apiRequests(events, '/api/cart/add').filter(
      (e) => inIncident(e) && field(e, 'http.response.status_code') === 409,
    );
    assert.ok(rejectedAdds.length >= 3, `${rejectedAdds.length} add-to-cart 409s`);
  });

  it('conversion-drop: orders per session fall by at least 20 % with no rise in errors', () => {
    const events = withIncident('conversion-drop');
    const during = conversion(events, inIncident);
    const baseline = conversion(withoutIncident(), inIncident);
    assert.ok(baseline > 0.015, `baseline conversion ${baseline}`);
    assert.ok(during <= 0.8 * baseline, `conversion ${during} vs ${baseline} without the incident`);
    const outside = conversion(events, outsideIncident);
    assert.ok(outside > 0.8 * conversion(withoutIncident(), outsideIncident), 'conversion outside the incident');
    const fivexx = ofType(events, 'api_request').filter(inIncident);
    assert.ok(serverErrorRate(fivexx) < 0.01, `5xx rate ${serverErrorRate(fivexx)}`);
  });

  it('leaves the stream untouched outside the incident window (before it starts)', () => {
    for (const name of INCIDENT_NAMES) {
      const early = withIncident(name).filter((e) => e.tsMs < INCIDENT_FROM - MINUTE_MS);
      const expected = withoutIncident().filter((e) => e.tsMs < INCIDENT_FROM - MINUTE_MS);
      assert.equal(early.length, expected.length, name);
    }
  });
});

describe('incident schedule', () => {
  it('starts a run-time incident at the next minute of shop time and records wall-clock times', () => {
    const liveStart = Date.UTC(2026, 10, 18, 12);
    const speed = 10;
    const schedule = new IncidentSchedule({
      shopTimeOf: (wall) => (wall < liveStart ? wall : liveStart + (wall - liveStart) * speed),
      wallTimeOf: (shop) => (shop < liveStart ? shop : liveStart + (shop - liveStart) / speed),
    });
    // 90 s of wall clock = 15 minutes of shop time; the incident starts at the 15th shop minute.
    const record = schedule.start('error-spike', 20, liveStart + 90_000);
    assert.equal(record.startMs, liveStart + 90_000);
    assert.equal(record.endMs, liveStart + 90_000 + (20 * MINUTE_MS) / speed);
    assert.equal(record.service, 'catalog-service');
    const late = schedule.start('fraud-burst', undefined, liveStart + 90_500);
    assert.equal(late.startMs, liveStart + 96_000, 'rounded up to the next shop minute');
    assert.equal(late.endMs - late.startMs, (15 * MINUTE_MS) / speed, 'default duration');
    assert.deepEqual(
      schedule.list().map((r) => r.name),
      ['error-spike', 'fraud-burst'],
    );
    assert.throws(() => schedule.start('meteor-strike', 10, liveStart), /valid incidents: payment-gateway-outage/);
    assert.throws(() => schedule.start('stock-out', 0, liveStart), /1 to 1440 minutes/);
  });
});

describe('POST/GET /api/v1/demo/incidents', () => {
  let server: TestServer;
  let plain: TestServer;
  before(async () => {
    server = await startTestServer({}, undefined, { demo: new IncidentSchedule() });
    plain = await startTestServer();
  });
  after(async () => {
    await server.close();
    await plain.close();
  });
  const json = { 'content-type': 'application/json' };

  it('starts an incident and returns it as ground truth', async () => {
    const requestedAt = Date.now();
    const started = await post(
      `${server.url}/api/v1/demo/incidents`,
      JSON.stringify({ name: 'payment-gateway-outage', durationMinutes: 15 }),
      json,
    );
    assert.equal(started.status, 201, JSON.stringify(started.json));
    assert.equal(started.json.incident.name, 'payment-gateway-outage');
    assert.equal(started.json.incident.service, 'payment-service');
    const start = Date.parse(started.json.incident.start);
    const end = Date.parse(started.json.incident.end);
    assert.ok(start >= requestedAt && start <= Date.now() + MINUTE_MS, `start ${started.json.incident.start}`);
    assert.equal(start % MINUTE_MS, 0, 'starts on a minute');
    assert.equal(end - start, 15 * MINUTE_MS);

    const defaulted = await post(`${server.url}/api/v1/demo/incidents`, JSON.stringify({ name: 'stock-out' }), json);
    assert.equal(defaulted.status, 201);
    assert.equal(
      Date.parse(defaulted.json.incident.end) - Date.parse(defaulted.json.incident.start),
      INCIDENTS['stock-out'].defaultDurationMinutes * MINUTE_MS,
    );

    const listed = await fetch(`${server.url}/api/v1/demo/incidents`);
    assert.equal(listed.status, 200);
    const body = (await listed.json()) as { incidents: Record<string, unknown>[]; available: { name: string }[] };
    assert.deepEqual(
      body.incidents.map((i) => [i.name, i.service, i.start, i.end]),
      [
        ['payment-gateway-outage', 'payment-service', started.json.incident.start, started.json.incident.end],
        ['stock-out', 'inventory-service', defaulted.json.incident.start, defaulted.json.incident.end],
      ],
    );
    assert.deepEqual(
      body.available.map((a) => a.name),
      [...INCIDENT_NAMES],
    );
  });

  it('rejects an unknown name with 400 listing the valid names', async () => {
    const answer = await post(`${server.url}/api/v1/demo/incidents`, JSON.stringify({ name: 'meteor' }), json);
    assert.equal(answer.status, 400);
    assert.equal(answer.json.error.code, 'demo.unknown_incident');
    for (const name of INCIDENT_NAMES) assert.match(answer.json.error.message, new RegExp(name));
  });

  it('rejects a bad duration with 400', async () => {
    for (const durationMinutes of [0, -5, 'ten', 100_000]) {
      const answer = await post(
        `${server.url}/api/v1/demo/incidents`,
        JSON.stringify({ name: 'fraud-burst', durationMinutes }),
        json,
      );
      assert.equal(answer.status, 400, String(durationMinutes));
      assert.equal(answer.json.error.code, 'demo.invalid_duration');
      assert.match(answer.json.error.message, /durationMinutes/);
    }
  });

  it('answers 404 demo.not_running on a server without a demo shop', async () => {
    const listed = await fetch(`${plain.url}/api/v1/demo/incidents`);
    assert.equal(listed.status, 404);
    const body = (await listed.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'demo.not_running');
    assert.match(body.error.message, /shoplens demo/);
    const started = await post(`${plain.url}/api/v1/demo/incidents`, JSON.stringify({ name: 'fraud-burst' }), json);
    assert.equal(started.status, 404);
  });
});
