import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { normalizeEvent, type NormalizeOptions } from '../../src/ingest/normalize.ts';
import {
  SAMPLE_ERROR_LOG,
  SAMPLE_ORDER_API_REQUEST,
  SAMPLE_PAGE_VIEW,
  SAMPLE_PAYMENT,
} from '../fixtures/sample-events.ts';
import { NOW, OPTIONS } from './normalize-options.ts';

/** The first 16 hex digits of SHA-1: how the fingerprint is documented, computed here independently. */
function sha1Prefix(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}

function ok(raw: unknown, options: NormalizeOptions = OPTIONS) {
  const r = normalizeEvent(raw, options);
  if (!r.ok) assert.fail(`expected ok, got ${r.code}: ${r.message}`);
  return r.record;
}

describe('normalizeEvent', () => {
  it('maps the sample payment event onto typed columns and keeps the rest as attributes', () => {
    const rec = ok(SAMPLE_PAYMENT);
    assert.equal(rec.ts, Date.parse('2025-06-28T14:30:00.000Z') * 1000);
    assert.equal(rec.dataClass, 'business');
    assert.deepEqual(
      {
        service: rec.columns['service'],
        environment: rec.columns['environment'],
        event_type: rec.columns['event_type'],
        event_category: rec.columns['event_category'],
        event_outcome: rec.columns['event_outcome'],
        duration_ms: rec.columns['duration_ms'],
        transaction_id: rec.columns['transaction_id'],
        amount: rec.columns['amount'],
        currency: rec.columns['currency'],
        gateway: rec.columns['gateway'],
        payment_method: rec.columns['payment_method'],
        card_type: rec.columns['card_type'],
        risk_score: rec.columns['risk_score'],
        customer_id: rec.columns['customer_id'],
        customer_segment: rec.columns['customer_segment'],
        customer_country: rec.columns['customer_country'],
        order_id: rec.columns['order_id'],
        client_ip: rec.columns['client_ip'],
        session_id: rec.columns['session_id'],
        fraud_indicators: rec.columns['fraud_indicators'],
        channel: rec.columns['channel'],
      },
      {
        service: 'payment-service',
        environment: 'production',
        event_type: 'payment_transaction',
        event_category: 'financial',
        event_outcome: 'success',
        duration_ms: 250,
        transaction_id: 'txn_abc123xyz789',
        amount: 299.99,
        currency: 'USD',
        gateway: 'stripe',
        payment_method: 'credit_card',
        card_type: 'visa',
        risk_score: 15,
        customer_id: 'cust_98765',
        customer_segment: 'premium',
        customer_country: 'US',
        order_id: 'order_555777',
        client_ip: '203.0.113.195',
        session_id: 'sess_abc123',
        fraud_indicators: [],
        channel: 'web',
      },
    );
    assert.equal(rec.attributes?.['payment.card_last_four'], '1234');
    assert.equal(rec.attributes?.['payment.3ds_status'], 'authenticated');
    assert.equal(rec.attributes?.['customer.lifetime_value'], 2500);
    assert.equal(rec.attributes?.['business.campaign_id'], 'summer_sale_2025');
    assert.equal(rec.attributes?.['service.version'], '2.1.5');
  });

  it('maps the sample page view and API request events', () => {
    const page = ok(SAMPLE_PAGE_VIEW);
    assert.equal(page.columns['event_type'], 'page_view');
    assert.equal(page.columns['page_category'], 'product_detail');
    assert.equal(page.columns['session_id'], 'sess_xyz789');
    assert.equal(page.columns['device'], 'mobile');
    assert.equal(page.attributes?.['user.segment'], 'returning_customer');
    assert.equal(page.attributes?.['product.price'], 999.99);
    const api = ok(SAMPLE_ORDER_API_REQUEST);
    assert.equal(api.columns['event_type'], 'api_request');
    assert.equal(api.columns['http_method'], 'POST');
    assert.equal(api.columns['url_path'], '/api/v1/orders');
    assert.equal(api.columns['http_status'], 201);
    assert.equal(api.columns['pod'], 'order-service-7d4b8c9f-x2k8l');
    assert.equal(api.attributes?.['infrastructure.cpu_usage'], 35.5);
    assert.equal(api.dataClass, 'app');
  });

  it('maps the sample structured error log and fingerprints the error', () => {
    const rec = ok(SAMPLE_ERROR_LOG);
    assert.equal(rec.columns['level'], 'ERROR');
    assert.equal(rec.columns['message'], 'Payment processing failed');
    assert.equal(rec.columns['error_type'], 'PaymentDeclinedException');
    assert.equal(rec.columns['error_message'], 'Insufficient funds');
    // The documented algorithm (docs/errors.md): no frames (the stack trace is '...'), so the first 16 hex
    // digits of SHA-1 over `v1 \n message \n type \n normalised message`, computed here with createHash.
    assert.equal(
      rec.columns['error_fingerprint'],
      sha1Prefix('v1\nmessage\nPaymentDeclinedException\nInsufficient funds'),
    );
    assert.equal(rec.attributes?.['context.orderId'], 'ORD-123456');
    assert.equal(rec.attributes?.['context.tenantId'], 'TNT-001');
  });

  it('gives the same fingerprint to errors that differ only in ids and numbers', () => {
    const fp = (message: string, extra: Record<string, unknown> = {}) =>
      ok({ service: 'payment', exception: { type: 'GatewayTimeout', message }, ...extra }).columns['error_fingerprint'];
    // The normalised message, written by hand: ids with digits become <id>, numbers <n>.
    assert.equal(
      fp('Timeout after 3000 ms for order ORD-1234'),
      sha1Prefix('v1\nmessage\nGatewayTimeout\nTimeout after <n> ms for order <id>'),
    );
    assert.equal(fp('Timeout after 3000 ms for order ORD-1234'), fp('Timeout after 5000 ms for order ORD-98'));
    // The service does not count: one group can span services.
    assert.equal(fp('x', { service: 'a' }), fp('x', { service: 'b' }));
    // A client's fingerprint wins.
    assert.equal(fp('x', { error: { fingerprint: 'mine' } }), 'mine');
  });

  it('accepts dotted keys, nested objects and OpenTelemetry names alike', () => {
    const rec = ok({
      'service.name': 'cart',
      http: { route: '/api/cart/add', 'response.status_code': '503' },
      'exception.type': 'StockRaceException',
      trace_id: 'abc',
      'deployment.environment': 'prod',
    });
    assert.equal(rec.columns['service'], 'cart');
    assert.equal(rec.columns['http_route'], '/api/cart/add');
    assert.equal(rec.columns['http_status'], 503);
    assert.equal(rec.columns['error_type'], 'StockRaceException');
    assert.equal(rec.columns['trace_id'], 'abc');
    assert.equal(rec.columns['environment'], 'prod');
  });

  it('recognises Segment track calls and GA4 events as the canonical vocabulary', () => {
    const seg = ok({
      type: 'track',
      event: 'Order Completed',
      userId: 'u1',
      timestamp: '2025-12-01T10:00:00Z',
      properties: { order_id: 'o-9', total: 120.5, currency: 'EUR', coupon: 'XMAS' },
    });
    assert.equal(seg.columns['event_type'], 'order_completed');
    assert.equal(seg.columns['order_id'], 'o-9');
    assert.equal(seg.columns['amount'], 120.5);
    assert.equal(seg.columns['currency'], 'EUR');
    assert.equal(seg.columns['user_id'], 'u1');
    assert.equal(seg.attributes?.['event.type_original'], 'Order Completed');
    assert.equal(seg.dataClass, 'business');
    const ga = ok({ name: 'add_to_cart', params: { item_id: 'LAPTOP001', value: 1299.99, currency: 'USD' } });
    assert.equal(ga.columns['event_type'], 'add_to_cart');
    assert.equal(ga.attributes?.['product.id'], 'LAPTOP001');
    for (const [name, canonical] of [
      ['Product Viewed', 'product_viewed'],
      ['view_item', 'product_viewed'],
      ['Checkout Started', 'checkout_started'],
      ['begin_checkout', 'checkout_started'],
      ['Payment Info Entered', 'payment_info_entered'],
      ['add_payment_info', 'payment_info_entered'],
      ['purchase', 'order_completed'],
      ['Order Refunded', 'order_refunded'],
      ['refund', 'order_refunded'],
      ['Cart Viewed', 'cart_viewed'],
    ]) {
      assert.equal(ok({ event: { type: name } }).columns['event_type'], canonical, name);
    }
  });

  it('rejects a wrong type for a typed field, naming the field', () => {
    const r = normalizeEvent({ transaction: { amount: 'abc' } }, OPTIONS);
    assert.deepEqual(r, {
      ok: false,
      code: 'ingest.invalid_field',
      message: 'field "transaction.amount": expected a number, got a string',
    });
    const s = normalizeEvent({ http: { response: { status_code: 200.5 } } }, OPTIONS);
    assert.equal(s.ok, false);
    assert.match(!s.ok ? s.message : '', /http\.response\.status_code.*whole number/);
    const o = normalizeEvent({ service: { name: { nested: true } }, 'event.type': ['a'] }, OPTIONS);
    assert.equal(!o.ok && o.code, 'ingest.invalid_field');
  });

  it('takes the receive time when the event has none, and rejects times beyond the skew', () => {
    assert.equal(ok({ message: 'hi' }).ts, NOW * 1000);
    const future = normalizeEvent({ '@timestamp': '2026-01-01T02:00:00Z' }, OPTIONS);
    assert.equal(!future.ok && future.code, 'ingest.timestamp_out_of_range');
    assert.match(!future.ok ? future.message : '', /@timestamp.*in the future/);
    const bad = normalizeEvent({ '@timestamp': 'yesterday' }, OPTIONS);
    assert.equal(!bad.ok && bad.code, 'ingest.invalid_timestamp');
    assert.equal(ok({ '@timestamp': 1751121000000 }).ts, 1751121000000 * 1000);
    assert.equal(ok({ '@timestamp': '2025-06-28T14:30:00' }).ts, Date.parse('2025-06-28T14:30:00Z') * 1000);
  });

  it('rejects objects nested too deep and events with too many fields', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 30; i++) deep = { level: deep };
    const r = normalizeEvent(deep, OPTIONS);
    assert.equal(!r.ok && r.code, 'ingest.too_deep');
    const wide = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`f${i}`, i]));
    const w = normalizeEvent(wide, OPTIONS);
    assert.equal(!w.ok && w.code, 'ingest.too_many_fields');
    assert.equal(!normalizeEvent([1, 2], OPTIONS).ok, true);
    assert.equal(!normalizeEvent('text', OPTIONS).ok, true);
  });

  it('never lets the payload choose its tenant', () => {
    const rec = ok({ tenant: 'someone-else', message: 'x' });
    assert.equal(rec.tenant, 'default');
    assert.equal(rec.attributes?.['tenant.sent'], 'someone-else');
  });

  it('decides the data class from the index, the category and the event type', () => {
    assert.equal(
      ok({ message: 'x' }, { ...OPTIONS, indexName: 'audit-2025', indexDataClass: 'audit' }).dataClass,
      'audit',
    );
    assert.equal(ok({ event: { category: 'authentication' } }).dataClass, 'security');
    assert.equal(ok({ event: { type: 'add_to_cart' } }).dataClass, 'business');
    assert.equal(ok({ message: 'x' }).dataClass, 'app');
    assert.equal(ok({ data_class: 'security' }).dataClass, 'security');
    // A payment shipped to a logs-* index keeps business retention; audit and security indices win.
    const viaLogs = { ...OPTIONS, indexName: 'logs-production-payment-1', indexDataClass: 'app' as const };
    assert.equal(ok({ event: { type: 'payment_transaction' } }, viaLogs).dataClass, 'business');
    assert.equal(ok({ message: 'GET /cart 200' }, viaLogs).dataClass, 'app');
    assert.equal(
      ok({ event: { type: 'payment_transaction' } }, { ...viaLogs, indexDataClass: 'audit' }).dataClass,
      'audit',
    );
    const bad = normalizeEvent({ data_class: 'secret' }, OPTIONS);
    assert.match(!bad.ok ? bad.message : '', /data_class.*app, security, audit, business/);
  });
});
