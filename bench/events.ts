/**
 * Synthetic e-commerce events for the benchmark.
 *
 * - `paymentEvent`: a raw JSON payment-service log event (nested ECS objects:
 *   service, event, transaction, payment, customer, order, security,
 *   business), for HTTP ingest.
 * - `apiRequestEvent`: a raw ECS-shaped API-request log event (~290 B), the
 *   bulk of a shop's log volume, for HTTP ingest.
 * - `RecordFiller`: canonical `EventRecord`s (what ingest normalisation
 *   produces) for filling a store directly: ~85 % `api_request` events of the
 *   shop's services and ~15 % payment events, in time order over a span.
 *   Records and their `columns`/`attributes` objects are reused between
 *   batches, so filling allocates little more than the strings that vary.
 */
import type { ColumnValue, EventRecord } from '../src/schema/record.ts';
import { rng, weighted } from './stats.ts';

const GATEWAYS = weighted([
  ['stripe', 45],
  ['paypal', 25],
  ['adyen', 15],
  ['braintree', 10],
  ['square', 5],
] as const);
const METHODS = weighted([
  ['credit_card', 70],
  ['paypal', 15],
  ['apple_pay', 10],
  ['bank_transfer', 5],
] as const);
const CARD_TYPES = weighted([
  ['visa', 50],
  ['mastercard', 35],
  ['amex', 10],
  ['discover', 5],
] as const);
const SEGMENTS = weighted([
  ['standard', 60],
  ['premium', 25],
  ['vip', 5],
  ['new', 10],
] as const);
const COUNTRIES = [
  ['US', 'NY'],
  ['US', 'CA'],
  ['US', 'TX'],
  ['GB', 'LND'],
  ['DE', 'BE'],
  ['FR', 'IDF'],
  ['ID', 'JK'],
  ['SG', 'SG'],
  ['JP', '13'],
  ['AU', 'NSW'],
] as const;
const CHANNELS = weighted([
  ['web', 55],
  ['mobile_app', 35],
  ['marketplace', 10],
] as const);
const CATEGORIES = ['electronics', 'fashion', 'home', 'beauty', 'sports', 'books', 'toys', 'grocery'] as const;
const CAMPAIGNS = ['summer_sale_2025', 'back_to_school', 'flash_friday', 'newsletter_june', 'none'] as const;
const FAILURE_RESPONSES = ['declined', 'insufficient_funds', 'expired_card', 'gateway_timeout', 'fraud_suspected'];

function pickOf<T>(list: readonly T[], r: number): T {
  return list[(r * list.length) | 0] as T;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0').slice(-width);
}

function ipOf(n: number): string {
  return `${(n >>> 24) & 255 || 10}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255 || 1}`;
}

/** One raw payment event, varied by `i` and the random source. */
export function paymentEvent(i: number, tsMs: number, random: () => number): Record<string, unknown> {
  const success = random() < 0.94;
  const gateway = GATEWAYS(random());
  const method = METHODS(random());
  const amount = Math.round((5 + random() * random() * 1500) * 100) / 100;
  const [country, state] = pickOf(COUNTRIES, random());
  const riskScore = Math.round(success ? random() * 60 : 30 + random() * 70);
  const itemCount = 1 + ((random() * 8) | 0);
  const shipping = amount > 100 ? 0 : 9.99;
  const tax = Math.round(amount * 0.08 * 100) / 100;
  return {
    '@timestamp': new Date(tsMs).toISOString(),
    service: { name: 'payment-service', version: '2.1.5', environment: 'production' },
    event: {
      category: 'financial',
      type: 'payment_transaction',
      outcome: success ? 'success' : 'failure',
      duration: Math.round(80 + random() * random() * 1200),
    },
    transaction: {
      id: `txn_${hex(i * 2654435761, 12)}`,
      amount,
      currency: country === 'US' ? 'USD' : country === 'GB' ? 'GBP' : country === 'JP' ? 'JPY' : 'EUR',
      type: `${method}_payment`,
      gateway,
      merchant_id: `merchant_${10000 + ((random() * 500) | 0)}`,
    },
    payment: {
      method,
      card_type: method === 'credit_card' ? CARD_TYPES(random()) : undefined,
      card_last_four: String(1000 + ((random() * 9000) | 0)),
      card_country: country,
      processor_response: success ? 'approved' : pickOf(FAILURE_RESPONSES, random()),
      risk_score: riskScore,
      '3ds_status': random() < 0.8 ? 'authenticated' : 'attempted',
    },
    customer: {
      id: `cust_${(random() * 200_000) | 0}`,
      email: `user${(random() * 200_000) | 0}.***@example.com`,
      segment: SEGMENTS(random()),
      country,
      state,
      lifetime_value: Math.round(random() * 10_000 * 100) / 100,
    },
    order: {
      id: `order_${500_000 + i}`,
      total_amount: amount,
      item_count: itemCount,
      shipping_cost: shipping,
      tax_amount: tax,
    },
    security: {
      ip_address: ipOf((random() * 4294967296) >>> 0),
      user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36',
      session_id: `sess_${hex((random() * 4294967296) >>> 0, 8)}`,
      fraud_indicators: riskScore > 75 ? ['velocity_exceeded', 'ip_country_mismatch'] : [],
      velocity_check: riskScore > 75 ? 'failed' : 'passed',
    },
    business: {
      revenue_impact: success ? amount : 0,
      profit_margin: Math.round((0.1 + random() * 0.3) * 100) / 100,
      category: pickOf(CATEGORIES, random()),
      channel: CHANNELS(random()),
      campaign_id: pickOf(CAMPAIGNS, random()),
    },
  };
}

interface Route {
  readonly service: string;
  readonly method: string;
  readonly route: string;
  /** Path variants (routes with ids get several). */
  readonly paths: readonly string[];
  /** ln(ms) of the median duration. */
  readonly mu: number;
  readonly sigma: number;
  readonly okStatus: number;
  readonly pods: readonly string[];
}

function route(service: string, method: string, path: string, medianMs: number, sigma = 0.6, okStatus = 200): Route {
  const paths = path.includes(':id')
    ? Array.from({ length: 64 }, (_, k) => path.replace(':id', String(100_000 + k * 7919)))
    : [path];
  const pods = Array.from({ length: 4 }, (_, k) => `${service}-7d4b8c9f-${hex((k + 1) * 48271 * service.length, 5)}`);
  return { service, method, route: path, paths, mu: Math.log(medianMs), sigma, okStatus, pods };
}

const ROUTES = weighted([
  [route('api-gateway', 'GET', '/api/products', 35), 22],
  [route('product', 'GET', '/api/products/:id', 25), 18],
  [route('search', 'GET', '/api/search', 60, 0.8), 10],
  [route('recommendation', 'GET', '/api/recommendations', 45, 0.7), 8],
  [route('cart', 'POST', '/api/cart/add', 40), 9],
  [route('cart', 'GET', '/api/cart', 20), 7],
  [route('cart', 'POST', '/api/cart/remove', 30), 2],
  [route('inventory', 'GET', '/api/inventory/check', 15, 0.5), 5],
  [route('user', 'POST', '/api/auth/login', 120, 0.5), 3],
  [route('user', 'GET', '/api/users/me', 18), 4],
  [route('checkout', 'POST', '/api/checkout', 180, 0.7), 3],
  [route('shipping', 'POST', '/api/shipping/quote', 90, 0.6), 2],
  [route('order', 'POST', '/api/v1/orders', 125, 0.6, 201), 2],
  [route('order', 'GET', '/api/orders/:id', 30), 3],
  [route('payment', 'POST', '/api/payment/process', 250, 0.7), 2],
] as const);

const CLIENT_ERRORS = weighted([
  [400, 30],
  [401, 20],
  [404, 35],
  [409, 5],
  [429, 10],
] as const);
const SERVER_ERRORS = weighted([
  [500, 50],
  [502, 15],
  [503, 25],
  [504, 10],
] as const);

const USER_AGENTS = ['Safari', 'Chrome', 'okhttp', 'ShopApp', 'Firefox'] as const;

/**
 * One raw ECS-shaped API-request log event (~290 bytes as JSON), varied by
 * `i` and the random source: the shape most of a shop's log volume has.
 * Uses the same routes and status mix as `RecordFiller`'s `api_request` rows.
 */
export function apiRequestEvent(i: number, tsMs: number, random: () => number): Record<string, unknown> {
  const rt = ROUTES(random());
  const x = random();
  const status = x < 0.945 ? rt.okStatus : x < 0.985 ? CLIENT_ERRORS(random()) : SERVER_ERRORS(random());
  const failed = status >= 500;
  // Roughly lognormal around the route's median: the sum of three uniforms stands in for a normal.
  const duration = Math.exp(rt.mu + rt.sigma * 2 * (random() + random() + random() - 1.5)) * (failed ? 3 : 1);
  // Single-field objects as dotted keys, as log shippers often send them (ECS allows both).
  return {
    '@timestamp': new Date(tsMs).toISOString(),
    'service.name': rt.service,
    event: { type: 'api_request', outcome: failed ? 'failure' : 'success', duration: Math.round(duration * 10) / 10 },
    // The OpenTelemetry names (aliases of http.request.method, http.response.status_code): shorter.
    http: { method: rt.method, status_code: status },
    'url.path': pickOf(rt.paths, random()),
    'client.ip': ipOf((random() * 4294967296) >>> 0),
    // 64-bit trace ids, as Zipkin B3 and Datadog send them.
    'trace.id': hex(i * 2654435761, 8) + hex((random() * 4294967296) >>> 0, 8),
    'user_agent.name': pickOf(USER_AGENTS, random()),
  };
}

/** Column names of the typed fields the filler sets (the rest stay absent → NULL). */
type Columns = Record<string, ColumnValue>;

interface Slot {
  readonly api: EventRecord & { columns: Columns; attributes: Record<string, unknown> };
  readonly pay: EventRecord & { columns: Columns; attributes: Record<string, unknown> };
}

function apiRecord(): Slot['api'] {
  return {
    ts: 0,
    tenant: 'default',
    dataClass: 'app',
    columns: {
      event_id: null,
      service: null,
      environment: 'production',
      pod: null,
      event_type: 'api_request',
      event_category: 'performance',
      event_outcome: null,
      level: null,
      message: null,
      duration_ms: null,
      client_ip: null,
      user_id: null,
      session_id: null,
      http_method: null,
      http_route: null,
      url_path: null,
      http_status: null,
      trace_id: null,
      span_id: null,
    },
    attributes: { 'service.version': '1.8.2', 'http.response.body_size': 0, 'database.query_time': 0 },
  };
}

function payRecord(): Slot['pay'] {
  return {
    ts: 0,
    tenant: 'default',
    dataClass: 'business',
    columns: {
      event_id: null,
      service: 'payment-service',
      environment: 'production',
      event_category: 'financial',
      event_type: 'payment_transaction',
      event_outcome: null,
      duration_ms: null,
      transaction_id: null,
      amount: null,
      currency: 'USD',
      gateway: null,
      payment_method: null,
      card_type: null,
      risk_score: null,
      fraud_indicators: null,
      client_ip: null,
      customer_id: null,
      customer_segment: null,
      customer_country: null,
      session_id: null,
      order_id: null,
      channel: null,
      trace_id: null,
      processor_response: null,
    },
    attributes: {
      'service.version': '2.1.5',
      'transaction.type': 'credit_card_payment',
      'transaction.merchant_id': 'merchant_12345',
      'payment.card_last_four': '1234',
      'payment.3ds_status': 'authenticated',
      'customer.lifetime_value': 0,
      'order.total_amount': 0,
      'order.item_count': 1,
      'business.category': 'electronics',
      'business.campaign_id': 'summer_sale_2025',
    },
  };
}

/** 2^52: added to counters so ids print as fixed-width (14-digit) hex without padding. */
const ID_OFFSET = 2 ** 52;
const NO_INDICATORS: readonly string[] = Object.freeze([]);
const HIGH_RISK: readonly string[] = Object.freeze(['velocity_exceeded', 'ip_country_mismatch']);

/**
 * Fills batches of canonical records, `total` events in time order over
 * [fromMs, toMs). Call `fill(batchIndex)` for consecutive batches; the array
 * it returns is reused two calls later, so append it (and await that)
 * before filling the batch after next.
 */
export class RecordFiller {
  readonly #buffers: [Slot[], Slot[]];
  readonly #views: [EventRecord[], EventRecord[]];
  readonly #random = rng(0x5eed);
  /** Standard normal deviates for lognormal durations. */
  readonly #normals = new Float64Array(65_536);
  readonly #users: string[];
  readonly #sessions: string[];
  readonly #customers: string[];
  readonly #ips: string[];
  readonly #messages = new Map<Route, Map<number, string>>();
  readonly #traceBase: string;
  readonly #fromUs: number;
  readonly #stepUs: number;

  constructor(
    readonly total: number,
    readonly batchSize: number,
    fromMs: number,
    toMs: number,
  ) {
    const make = (): Slot[] => Array.from({ length: batchSize }, () => ({ api: apiRecord(), pay: payRecord() }));
    this.#buffers = [make(), make()];
    this.#views = [new Array<EventRecord>(batchSize), new Array<EventRecord>(batchSize)];
    const r = this.#random;
    for (let i = 0; i < this.#normals.length; i += 2) {
      const u = 1 - r();
      const v = r();
      const m = Math.sqrt(-2 * Math.log(u));
      this.#normals[i] = m * Math.cos(2 * Math.PI * v);
      this.#normals[i + 1] = m * Math.sin(2 * Math.PI * v);
    }
    this.#users = Array.from({ length: 200_000 }, (_, k) => `user_${k}`);
    this.#customers = Array.from({ length: 200_000 }, (_, k) => `cust_${k}`);
    this.#sessions = Array.from({ length: 300_000 }, (_, k) => `sess_${hex(k * 2654435761, 8)}`);
    this.#ips = Array.from({ length: 50_000 }, () => ipOf((r() * 4294967296) >>> 0));
    this.#traceBase = hex((r() * 4294967296) >>> 0, 8) + hex((r() * 4294967296) >>> 0, 8) + '00';
    this.#fromUs = fromMs * 1000;
    this.#stepUs = ((toMs - fromMs) * 1000) / total;
  }

  /** Number of batches for `total` events. */
  get batches(): number {
    return Math.ceil(this.total / this.batchSize);
  }

  /** Fills batch `b` (events b·batchSize ..) and returns it. */
  fill(b: number): EventRecord[] {
    const slots = this.#buffers[b & 1] as Slot[];
    const view = this.#views[b & 1] as EventRecord[];
    const start = b * this.batchSize;
    const n = Math.min(this.batchSize, this.total - start);
    view.length = n;
    const r = this.#random;
    const normals = this.#normals;
    for (let k = 0; k < n; k++) {
      const i = start + k;
      const slot = slots[k] as Slot;
      const ts = Math.floor(this.#fromUs + (i + r()) * this.#stepUs);
      const eventId = `evt_${i.toString(36)}`;
      // 2^52 + i: 14 hex digits without padding; with the 18-digit base, a 32-digit trace id.
      const traceId = this.#traceBase + (ID_OFFSET + i).toString(16);
      if (r() < 0.85) {
        const rec = slot.api;
        const c = rec.columns;
        const rt = ROUTES(r());
        const x = r();
        const status = x < 0.945 ? rt.okStatus : x < 0.985 ? CLIENT_ERRORS(r()) : SERVER_ERRORS(r());
        const failed = status >= 500;
        const dur = Math.exp(rt.mu + rt.sigma * (normals[(r() * 65_536) | 0] as number)) * (failed ? 3 : 1);
        rec.ts = ts;
        c['event_id'] = eventId;
        c['service'] = rt.service;
        c['pod'] = pickOf(rt.pods, r());
        c['event_outcome'] = failed ? 'failure' : 'success';
        c['level'] = failed ? 'ERROR' : status >= 400 ? 'WARN' : 'INFO';
        c['message'] = this.#message(rt, status);
        c['duration_ms'] = Math.round(dur * 10) / 10;
        c['client_ip'] = pickOf(this.#ips, r());
        c['user_id'] = r() < 0.7 ? pickOf(this.#users, r()) : null;
        c['session_id'] = pickOf(this.#sessions, r());
        c['http_method'] = rt.method;
        c['http_route'] = rt.route;
        c['url_path'] = pickOf(rt.paths, r());
        c['http_status'] = status;
        c['trace_id'] = traceId;
        c['span_id'] = `0a${(ID_OFFSET + ((i * 40503) % ID_OFFSET)).toString(16)}`;
        const a = rec.attributes;
        a['http.response.body_size'] = (200 + r() * 20_000) | 0;
        a['database.query_time'] = Math.round(dur * 0.3 * 10) / 10;
        view[k] = rec;
      } else {
        const rec = slot.pay;
        const c = rec.columns;
        const success = r() < 0.94;
        const method = METHODS(r());
        const amount = Math.round((5 + r() * r() * 1500) * 100) / 100;
        const [country] = pickOf(COUNTRIES, r());
        const risk = Math.round(success ? r() * 60 : 30 + r() * 70);
        rec.ts = ts;
        c['event_id'] = eventId;
        c['event_outcome'] = success ? 'success' : 'failure';
        c['duration_ms'] = Math.round(80 + r() * r() * 1200);
        c['transaction_id'] = `txn_${(ID_OFFSET + i * 7919).toString(16)}`;
        c['amount'] = amount;
        c['currency'] = country === 'US' ? 'USD' : country === 'GB' ? 'GBP' : country === 'JP' ? 'JPY' : 'EUR';
        c['gateway'] = GATEWAYS(r());
        c['payment_method'] = method;
        c['card_type'] = method === 'credit_card' ? CARD_TYPES(r()) : null;
        c['risk_score'] = risk;
        c['fraud_indicators'] = risk > 75 ? HIGH_RISK : NO_INDICATORS;
        c['client_ip'] = pickOf(this.#ips, r());
        c['customer_id'] = pickOf(this.#customers, r());
        c['customer_segment'] = SEGMENTS(r());
        c['customer_country'] = country;
        c['session_id'] = pickOf(this.#sessions, r());
        c['order_id'] = `order_${i}`;
        c['channel'] = CHANNELS(r());
        c['trace_id'] = traceId;
        c['processor_response'] = success ? 'approved' : pickOf(FAILURE_RESPONSES, r());
        const a = rec.attributes;
        a['transaction.type'] = `${method}_payment`;
        a['customer.lifetime_value'] = Math.round(r() * 1_000_000) / 100;
        a['order.total_amount'] = amount;
        a['order.item_count'] = 1 + ((r() * 8) | 0);
        a['business.category'] = pickOf(CATEGORIES, r());
        a['business.campaign_id'] = pickOf(CAMPAIGNS, r());
        view[k] = rec;
      }
    }
    return view;
  }

  #message(rt: Route, status: number): string {
    const byStatus = this.#messages.get(rt) ?? new Map<number, string>();
    if (byStatus.size === 0) this.#messages.set(rt, byStatus);
    let m = byStatus.get(status);
    if (m === undefined) {
      m =
        status >= 500
          ? `${rt.method} ${rt.route} failed with ${status}: upstream ${rt.service} error`
          : `${rt.method} ${rt.route} completed with ${status}`;
      byStatus.set(status, m);
    }
    return m;
  }
}
