/**
 * The hook incidents will use: conditions changed for a time window change
 * the simulated outcomes in that window only, and the calendar's promotion
 * brings its burst of traffic.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { composeConditions, during, type ConditionsHook } from '../../src/demo/conditions.ts';
import type { DemoEvent } from '../../src/demo/demo-event.ts';
import { ShopCalendar } from '../../src/demo/seasonality.ts';
import { countBy, field, HOUR_MS, ofType, pageViews, simulate, WEDNESDAY_MS } from './fixtures.ts';

const FROM = WEDNESDAY_MS + 12 * HOUR_MS;
const TO = FROM + 3 * HOUR_MS;
const INCIDENT_FROM = FROM + HOUR_MS;
const INCIDENT_TO = FROM + 2 * HOUR_MS;

function failureRate(payments: readonly DemoEvent[]): number {
  return payments.filter((e) => field(e, 'event.outcome') === 'failure').length / Math.max(1, payments.length);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

describe('demo shop conditions (the incident hook)', () => {
  const stripeOutage: ConditionsHook = during(INCIDENT_FROM, INCIDENT_TO, (base) => ({
    ...base,
    gatewayTimeoutRate: { ...base.gatewayTimeoutRate, stripe: 0.6 },
  }));
  const slowOrders: ConditionsHook = during(INCIDENT_FROM, INCIDENT_TO, (base) => ({
    ...base,
    extraLatencyMs: { ...base.extraLatencyMs, 'order-service': 1500 },
  }));
  const events = simulate(
    { seed: 11, trafficScale: 1.5, conditions: composeConditions(stripeOutage, slowOrders) },
    FROM,
    TO,
  );
  const inIncident = (e: DemoEvent): boolean => e.tsMs >= INCIDENT_FROM && e.tsMs < INCIDENT_TO;
  const stripePayments = ofType(events, 'payment_transaction').filter(
    (e) => field(e, 'transaction.gateway') === 'stripe',
  );

  it('fails stripe payments only while the gateway times out', () => {
    const during = stripePayments.filter(inIncident);
    const outside = stripePayments.filter((e) => !inIncident(e));
    assert.ok(during.length > 30 && outside.length > 60, `${during.length} / ${outside.length} stripe payments`);
    assert.ok(failureRate(during) > 0.4, `stripe failure rate during the outage ${failureRate(during)}`);
    assert.ok(failureRate(outside) < 0.06, `stripe failure rate outside ${failureRate(outside)}`);
    const timeouts = ofType(events, 'error').filter((e) => field(e, 'exception.type') === 'GatewayTimeoutException');
    const outsideTimeouts = timeouts.filter((e) => !inIncident(e)).length;
    assert.ok(timeouts.length - outsideTimeouts > 20, `${timeouts.length - outsideTimeouts} timeouts in the outage`);
    assert.ok(outsideTimeouts <= 3, `${outsideTimeouts} timeouts outside the outage (baseline is 0.3 %)`);
    const statuses = countBy(
      ofType(events, 'api_request').filter((e) => field(e, 'http.route') === '/api/payment/process' && inIncident(e)),
      'http.response.status_code',
    );
    assert.ok((statuses.get(504) ?? 0) > 10, 'the payment endpoint answers 504');
  });

  it('adds latency to the slowed service only', () => {
    const checkoutDurations = (inside: boolean): number[] =>
      ofType(events, 'api_request')
        .filter((e) => field(e, 'http.route') === '/api/checkout' && inIncident(e) === inside)
        .map((e) => field(e, 'event.duration') as number);
    assert.ok(median(checkoutDurations(true)) > 1500, `median /api/checkout ${median(checkoutDurations(true))} ms`);
    assert.ok(median(checkoutDurations(false)) < 400, `median /api/checkout ${median(checkoutDurations(false))} ms`);
    const cartAdd = ofType(events, 'api_request').filter(
      (e) => field(e, 'http.route') === '/api/cart/add' && inIncident(e),
    );
    assert.ok(median(cartAdd.map((e) => field(e, 'event.duration'))) < 400, 'cart-service is not slowed');
  });

  it('turns server errors into technical-error cart abandonment', () => {
    const broken = simulate(
      {
        seed: 11,
        trafficScale: 1.5,
        conditions: (_t, base) => ({ ...base, serverErrorRate: { ...base.serverErrorRate, 'order-service': 0.5 } }),
      },
      FROM,
      TO,
    );
    const reasons = countBy(ofType(broken, 'cart_abandoned'), 'cart.abandon_reason');
    assert.ok(
      (reasons.get('technical_error') ?? 0) > 20,
      `technical_error abandonments: ${reasons.get('technical_error')}`,
    );
    const orders = ofType(broken, 'order_completed').length;
    const healthyOrders = ofType(simulate({ seed: 11, trafficScale: 1.5 }, FROM, TO), 'order_completed').length;
    assert.ok(orders < 0.7 * healthyOrders, `${orders} orders with a failing order-service vs ${healthyOrders}`);
  });

  it('brings a burst of traffic during the Saturday flash sale, with its campaign', () => {
    const saturday = Date.UTC(2026, 10, 21);
    const friday = Date.UTC(2026, 10, 20);
    const calendar = new ShopCalendar();
    assert.equal(calendar.activePromotion(saturday + 18 * HOUR_MS)?.campaignId, 'weekend_flash_sale');
    assert.equal(calendar.activePromotion(friday + 18 * HOUR_MS), undefined);
    const sessions = (day: number): DemoEvent[] =>
      pageViews(simulate({ seed: 5, trafficScale: 0.3 }, day + 17 * HOUR_MS, day + 21 * HOUR_MS), 'homepage');
    const sale = sessions(saturday);
    const normal = sessions(friday);
    assert.ok(sale.length > 1.8 * normal.length, `flash sale ${sale.length} vs Friday ${normal.length}`);
    assert.ok(sale.some((e) => field(e, 'session.campaign') === 'weekend_flash_sale'));
    assert.ok(!normal.some((e) => field(e, 'session.campaign') === 'weekend_flash_sale'));
  });
});
