/**
 * The demo shop's distributed traces: what its services' OpenTelemetry
 * instrumentation would export for the requests the simulator already
 * records. Each `api_request` event becomes the server span of its service
 * (same trace id, and the event's `span_id`), under the api-gateway's span,
 * with the calls the service makes: the auth check (user-service), other
 * services (cart → catalog, order → cart and payment), its database and
 * cache, and the external APIs (payment gateways, the carrier's rate API).
 * The requests of one user action (one `trace_id`: `/api/users/me`,
 * `/api/checkout`, `/api/inventory/reserve`, `/api/shipping/quote`) hang
 * under one frontend-service span, as browser instrumentation records them.
 *
 * Spans are derived from the events after the fact, with a random source of
 * their own seeded by the trace id: the events stay exactly what they were,
 * and the same seed gives the same spans. Incidents show because the events
 * carry them: checkout-latency's extra time is the order-service's row lock
 * wait (a slow `SELECT … FOR UPDATE` span), a gateway outage's 502 and 504
 * answers are error spans on the payment-service's call to the gateway.
 */
import type { DemoEvent } from './demo-event.ts';
import { hashText, Random } from './random.ts';
import { FRONTEND_SERVICE, SERVICE_DEPLOYMENTS, type Service } from './shop-model.ts';
import type { ShopWorld } from './shop-world.ts';

/** OTLP SpanKind. */
export const SPAN_KIND = { internal: 1, server: 2, client: 3 } as const;
/** OTLP StatusCode. */
export const SPAN_STATUS = { unset: 0, ok: 1, error: 2 } as const;

export type SpanAttribute = string | number | boolean;

/** One span, times in epoch microseconds. */
export interface DemoSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for the root. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  startUs: number;
  endUs: number;
  readonly service: string;
  readonly serviceVersion: string;
  /** The pod that ran it (the resource's `k8s.pod.name`); '' for the browser. */
  readonly pod: string;
  statusCode: number;
  statusMessage: string;
  readonly attributes: Record<string, SpanAttribute>;
  readonly events: { name: string; timeUs: number; attributes: Record<string, SpanAttribute> }[];
}

/** One trace: its spans, root first. */
export interface DemoTrace {
  readonly traceId: string;
  /** Start of the root span, epoch ms. */
  readonly startMs: number;
  readonly spans: readonly DemoSpan[];
}

const TRACE_TAG = hashText('traces');

/** The span attribute that says how many spans a sampled one stands for (1 when absent). */
export const SAMPLING_WEIGHT = 'sampling.weight';

/** The user action a trace's first request stands for (the frontend span's name). */
const ACTIONS: Readonly<Record<string, string>> = {
  '/api/home': 'load home',
  '/api/users/login': 'submit login',
  '/api/users/me': 'start checkout',
  '/api/search': 'search',
  '/api/products/:id': 'view product',
  '/api/cart/add': 'add to cart',
  '/api/cart': 'view cart',
  '/api/checkout': 'start checkout',
  '/api/payment/process': 'pay',
  '/api/orders': 'place order',
};

/** Routes whose gateway span asks the user-service to verify the session first. */
const AUTHENTICATED = new Set(['/api/cart/add', '/api/cart', '/api/checkout', '/api/payment/process', '/api/orders']);

/** The external API each gateway's calls go to. */
const GATEWAY_APIS: Readonly<Record<string, { host: string; path: string }>> = {
  stripe: { host: 'api.stripe.com', path: '/v1/payment_intents' },
  paypal: { host: 'api-m.paypal.com', path: '/v2/checkout/orders' },
  adyen: { host: 'checkout-live.adyen.com', path: '/v71/payments' },
};

interface ApiRequest {
  readonly tsMs: number;
  readonly service: Service;
  readonly method: string;
  readonly route: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  readonly pod: string;
  readonly spanId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly gateway: string | undefined;
  /** The exception the service logged for it, if any. */
  exception?: { type: string; message: string; stacktrace: string };
}

function get(body: Readonly<Record<string, unknown>>, ...path: string[]): unknown {
  let v: unknown = body;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}

function apiRequestOf(event: DemoEvent): { traceId: string; request: ApiRequest } | undefined {
  const b = event.body;
  if (get(b, 'event', 'type') !== 'api_request') return undefined;
  const traceId = b['trace_id'];
  if (typeof traceId !== 'string' || traceId === '') return undefined;
  const gateway = get(b, 'transaction', 'gateway');
  return {
    traceId,
    request: {
      tsMs: event.tsMs,
      service: get(b, 'service', 'name') as Service,
      method: String(get(b, 'http', 'request', 'method')),
      route: String(get(b, 'http', 'route')),
      path: String(get(b, 'url', 'path')),
      status: Number(get(b, 'http', 'response', 'status_code')),
      durationMs: Number(get(b, 'event', 'duration')),
      pod: String(get(b, 'kubernetes', 'pod')),
      spanId: String(b['span_id']),
      userId: String(get(b, 'user', 'id')),
      sessionId: String(get(b, 'user', 'session_id')),
      gateway: typeof gateway === 'string' ? gateway : undefined,
    },
  };
}

/**
 * Keeps one trace in `sampling` (1 = all), chosen by its id: the same
 * traces whatever the window, as a trace-id-ratio sampler would.
 */
export function sampledTrace(traceId: string, sampling: number): boolean {
  return sampling <= 1 || Number.parseInt(traceId.slice(0, 8), 16) % sampling === 0;
}

/**
 * The traces of a slot's events (the requests of each `trace_id`, in
 * order), one in `sampling`. Events without an `api_request` (background
 * errors, tracking events alone) make no trace.
 */
export function tracesOf(world: ShopWorld, events: readonly DemoEvent[], sampling = 1): DemoTrace[] {
  const groups = new Map<string, ApiRequest[]>();
  for (const event of events) {
    const api = apiRequestOf(event);
    if (api) {
      if (!sampledTrace(api.traceId, sampling)) continue;
      const list = groups.get(api.traceId);
      if (list) list.push(api.request);
      else groups.set(api.traceId, [api.request]);
      continue;
    }
    // An error event of a request: its exception goes on the request's span.
    const b = event.body;
    if (get(b, 'event', 'type') !== 'error' || typeof b['trace_id'] !== 'string') continue;
    const list = groups.get(b['trace_id']);
    const service = get(b, 'service', 'name');
    const target = list?.findLast((r) => r.service === service);
    if (target && !target.exception) {
      target.exception = {
        type: String(get(b, 'exception', 'type')),
        message: String(get(b, 'exception', 'message')),
        stacktrace: String(get(b, 'exception', 'stacktrace')),
      };
    }
  }
  const traces: DemoTrace[] = [];
  for (const [traceId, requests] of groups) {
    const trace = new TraceBuilder(world, traceId, requests).build();
    // What a sampled span stands for, so that rates count the traces left out (docs/otlp.md).
    if (sampling > 1) for (const span of trace.spans) span.attributes[SAMPLING_WEIGHT] = sampling;
    traces.push(trace);
  }
  return traces;
}

/** Builds one trace's spans. */
class TraceBuilder {
  readonly #world: ShopWorld;
  readonly #traceId: string;
  readonly #requests: readonly ApiRequest[];
  readonly #random: Random;
  readonly #spans: DemoSpan[] = [];

  constructor(world: ShopWorld, traceId: string, requests: readonly ApiRequest[]) {
    this.#world = world;
    this.#traceId = traceId;
    this.#requests = requests;
    this.#random = Random.derive(
      world.seed,
      TRACE_TAG,
      Number.parseInt(traceId.slice(0, 8), 16),
      Number.parseInt(traceId.slice(8, 16), 16),
    );
  }

  build(): DemoTrace {
    const first = this.#requests[0] as ApiRequest;
    const rootStartUs = first.tsMs * 1000 - this.#random.int(2_000, 12_000);
    const root = this.#span({
      parent: '',
      name: ACTIONS[first.route] ?? `request ${first.route}`,
      kind: SPAN_KIND.internal,
      service: FRONTEND_SERVICE.name,
      version: FRONTEND_SERVICE.version,
      pod: '',
      startUs: rootStartUs,
      endUs: rootStartUs,
      attributes: { 'session.id': first.sessionId, 'user.id': first.userId },
    });
    for (const request of this.#requests) {
      const gateway = this.#request(root.spanId, request);
      root.endUs = Math.max(root.endUs, gateway.endUs + this.#random.int(1_000, 6_000));
      if (gateway.statusCode === SPAN_STATUS.error) root.statusCode = SPAN_STATUS.error;
    }
    return { traceId: this.#traceId, startMs: Math.floor(rootStartUs / 1000), spans: this.#spans };
  }

  #span(s: {
    parent: string;
    name: string;
    kind: number;
    service: string;
    version?: string;
    pod?: string;
    startUs: number;
    endUs: number;
    spanId?: string;
    attributes?: Record<string, SpanAttribute>;
  }): DemoSpan {
    const span: DemoSpan = {
      traceId: this.#traceId,
      spanId: s.spanId ?? this.#random.hex(16),
      parentSpanId: s.parent,
      name: s.name,
      kind: s.kind,
      startUs: s.startUs,
      endUs: Math.max(s.startUs, s.endUs),
      service: s.service,
      serviceVersion:
        s.version ??
        (s.service in SERVICE_DEPLOYMENTS
          ? (this.#world.releaseOf?.(s.service as Service, s.startUs / 1000) ??
            SERVICE_DEPLOYMENTS[s.service as Service].version)
          : ''),
      pod: s.pod ?? '',
      statusCode: SPAN_STATUS.unset,
      statusMessage: '',
      attributes: s.attributes ?? {},
      events: [],
    };
    this.#spans.push(span);
    return span;
  }

  #podOf(service: Service): string {
    return this.#world.podFor(service, this.#random).name;
  }

  /** A server span of `service` for an internal call, with the client span of the caller around it. */
  #serverSpan(parent: DemoSpan, service: Service, method: string, route: string, startUs: number, durUs: number) {
    return this.#span({
      parent: parent.spanId,
      name: `${method} ${route}`,
      kind: SPAN_KIND.server,
      service,
      pod: this.#podOf(service),
      startUs,
      endUs: startUs + durUs,
      attributes: { 'http.request.method': method, 'http.route': route, 'http.response.status_code': 200 },
    });
  }

  /** One API request: the gateway's span, the auth check, the service's span and what it calls. */
  #request(parentId: string, r: ApiRequest): DemoSpan {
    const random = this.#random;
    const startUs = r.tsMs * 1000;
    const durUs = Math.max(1, r.durationMs) * 1000;
    const httpAttrs = (status: number): Record<string, SpanAttribute> => ({
      'http.request.method': r.method,
      'http.route': r.route,
      'url.path': r.path,
      'http.response.status_code': status,
      'user.id': r.userId,
    });
    const gatewayPod = r.service === 'api-gateway' ? r.pod : this.#podOf('api-gateway');
    const overheadUs = random.int(400, 2_500);
    const auth = AUTHENTICATED.has(r.route) && r.status !== 503;
    const authUs = auth ? random.int(1_500, 6_000) : 0;
    const gatewaySpan = this.#span({
      parent: parentId,
      name: `${r.method} ${r.route}`,
      kind: SPAN_KIND.server,
      service: 'api-gateway',
      pod: gatewayPod,
      startUs,
      endUs: r.service === 'api-gateway' ? startUs + durUs : startUs + overheadUs * 2 + authUs + durUs,
      ...(r.service === 'api-gateway' ? { spanId: r.spanId } : {}),
      attributes: httpAttrs(r.status),
    });
    if (r.status >= 500) this.#fail(gatewaySpan, `HTTP ${r.status}`);
    if (r.service === 'api-gateway') {
      // The home page: the gateway composes it from the catalog's featured products.
      if (r.status !== 503) {
        const featured = this.#serverSpan(
          gatewaySpan,
          'catalog-service',
          'GET',
          '/internal/products/featured',
          startUs + overheadUs,
          Math.max(500, Math.round(durUs * 0.6)),
        );
        this.#cacheThenDb(featured, 'catalog:featured', 'SELECT', 'products', 0.85);
      }
      if (r.exception) this.#exception(gatewaySpan, r);
      return gatewaySpan;
    }
    let at = startUs + overheadUs;
    if (auth) {
      const verify = this.#serverSpan(gatewaySpan, 'user-service', 'POST', '/internal/auth/verify', at, authUs);
      this.#client(verify, 'redis', 'GET', 'session:*', verify.startUs + 200, Math.round(authUs * 0.4));
      at += authUs;
    }
    const span = this.#span({
      parent: gatewaySpan.spanId,
      spanId: r.spanId,
      name: `${r.method} ${r.route}`,
      kind: SPAN_KIND.server,
      service: r.service,
      pod: r.pod,
      startUs: at,
      endUs: at + durUs,
      attributes: httpAttrs(r.status),
    });
    if (r.status >= 500) this.#fail(span, r.exception?.message ?? `HTTP ${r.status}`);
    if (r.exception) this.#exception(span, r);
    if (r.status !== 503) this.#work(span, r);
    return gatewaySpan;
  }

  /** What a service does for one request, laid out inside its span. */
  #work(span: DemoSpan, r: ApiRequest): void {
    const random = this.#random;
    const durUs = span.endUs - span.startUs;
    const t0 = span.startUs + random.int(100, 600);
    const share = (f: number): number => Math.max(100, Math.round(durUs * f));
    switch (r.route) {
      case '/api/search':
        this.#cacheThenDb(span, 'search:*', 'SELECT', 'products', 0.3);
        break;
      case '/api/products/:id':
        this.#cacheThenDb(span, 'product:*', 'SELECT', 'products', 0.7);
        break;
      case '/api/users/me':
        this.#db(span, 'SELECT', 'users', t0, share(0.6));
        break;
      case '/api/users/login': {
        const user = this.#db(span, 'SELECT', 'users', t0, share(0.15));
        const hash = this.#span({
          parent: span.spanId,
          name: 'bcrypt.compare',
          kind: SPAN_KIND.internal,
          service: span.service,
          pod: span.pod,
          startUs: user.endUs + 100,
          endUs: user.endUs + 100 + share(0.65),
        });
        this.#client(span, 'redis', 'SET', 'session:*', hash.endUs + 100, share(0.05));
        break;
      }
      case '/api/cart/add': {
        const price = this.#serverSpan(span, 'catalog-service', 'GET', '/internal/products/:id', t0, share(0.4));
        this.#cacheThenDb(price, 'product:*', 'SELECT', 'products', 0.8);
        this.#client(span, 'redis', 'HSET', 'cart:*', price.endUs + 200, share(0.15));
        break;
      }
      case '/api/cart':
        this.#client(span, 'redis', 'HGETALL', 'cart:*', t0, share(0.35));
        break;
      case '/api/checkout':
      case '/api/orders':
        this.#order(span, r, t0);
        break;
      case '/api/inventory/reserve':
        this.#db(span, 'UPDATE', 'stock_levels', t0, share(0.7));
        break;
      case '/api/shipping/quote':
        this.#external(span, 'carrier-rates-api', 'POST', 'api.carrier.example', '/v2/rates', t0, share(0.75), 200);
        break;
      case '/api/payment/process':
        this.#payment(span, r, t0);
        break;
      default:
        break;
    }
  }

  /**
   * order-service: the cart (checkout) or the payment (orders) from its
   * service, the pricing, and the order rows. The row lock wait
   * (`SELECT … FOR UPDATE`) takes what an incident adds to the service.
   */
  #order(span: DemoSpan, r: ApiRequest, t0: number): void {
    const durUs = span.endUs - span.startUs;
    const extraUs = Math.min(durUs * 0.9, this.#world.conditionsAt(r.tsMs).extraLatencyMs['order-service'] * 1000);
    const baseUs = durUs - extraUs;
    const share = (f: number): number => Math.max(100, Math.round(baseUs * f));
    const call =
      r.route === '/api/checkout'
        ? this.#serverSpan(span, 'cart-service', 'GET', '/internal/carts/:id', t0, share(0.2))
        : this.#serverSpan(span, 'payment-service', 'GET', '/internal/payments/:id', t0, share(0.2));
    if (r.route === '/api/checkout') this.#client(call, 'redis', 'HGETALL', 'cart:*', call.startUs + 200, share(0.1));
    else this.#db(call, 'SELECT', 'payments', call.startUs + 200, share(0.12));
    const lock = this.#db(span, 'SELECT', 'orders', call.endUs + 200, share(0.12) + Math.round(extraUs), 'FOR UPDATE');
    if (extraUs > 0) lock.attributes['db.lock_wait'] = true;
    const pricing = this.#span({
      parent: span.spanId,
      name: 'pricing.calculate',
      kind: SPAN_KIND.internal,
      service: span.service,
      pod: span.pod,
      startUs: lock.endUs + 100,
      endUs: lock.endUs + 100 + share(0.2),
    });
    this.#db(span, 'INSERT', 'orders', pricing.endUs + 100, share(0.25));
    if (r.status >= 500) this.#fail(lock, 'canceling statement due to statement timeout');
  }

  /** payment-service: fraud score, the payment row, and the call to the gateway's API. */
  #payment(span: DemoSpan, r: ApiRequest, t0: number): void {
    const random = this.#random;
    const durUs = span.endUs - span.startUs;
    const fraudUs = Math.min(Math.round(durUs * 0.15), random.int(2_000, 9_000));
    const fraud = this.#span({
      parent: span.spanId,
      name: 'fraud.score',
      kind: SPAN_KIND.internal,
      service: span.service,
      pod: span.pod,
      startUs: t0,
      endUs: t0 + fraudUs,
    });
    const insert = this.#db(span, 'INSERT', 'payments', fraud.endUs + 100, Math.min(Math.round(durUs * 0.1), 4_000));
    if (r.status === 400 || !r.gateway) return;
    const api = GATEWAY_APIS[r.gateway] ?? { host: `${r.gateway}.example`, path: '/pay' };
    const callStart = insert.endUs + 200;
    const callUs = Math.max(100, span.endUs - callStart - random.int(300, 1_500));
    const answer = r.status === 504 ? 0 : r.status === 502 ? 502 : r.status === 402 ? 402 : 200;
    const call = this.#external(span, `${r.gateway}-api`, 'POST', api.host, api.path, callStart, callUs, answer);
    call.attributes['payment.gateway'] = r.gateway;
    if (r.status === 504) this.#fail(call, `${r.gateway} did not answer within 30000 ms`);
    else if (r.status === 502) this.#fail(call, `${r.gateway} answered 502 Bad Gateway`);
  }

  #external(
    parent: DemoSpan,
    peer: string,
    method: string,
    host: string,
    path: string,
    startUs: number,
    durUs: number,
    status: number,
  ): DemoSpan {
    return this.#span({
      parent: parent.spanId,
      name: `${method} ${host}`,
      kind: SPAN_KIND.client,
      service: parent.service,
      pod: parent.pod,
      startUs,
      endUs: startUs + durUs,
      attributes: {
        'peer.service': peer,
        'server.address': host,
        'http.request.method': method,
        'url.full': `https://${host}${path}`,
        ...(status > 0 ? { 'http.response.status_code': status } : {}),
      },
    });
  }

  /** A cache lookup, then the database on a miss (a hit `hitRate` of the time). */
  #cacheThenDb(span: DemoSpan, key: string, op: string, table: string, hitRate: number): void {
    const durUs = span.endUs - span.startUs;
    const start = span.startUs + this.#random.int(100, 400);
    const get = this.#client(span, 'redis', 'GET', key, start, Math.max(100, Math.round(durUs * 0.08)));
    const hit = this.#random.chance(hitRate);
    get.attributes['cache.hit'] = hit;
    if (!hit) this.#db(span, op, table, get.endUs + 100, Math.max(100, Math.round(durUs * 0.55)));
  }

  #db(parent: DemoSpan, op: string, table: string, startUs: number, durUs: number, suffix = ''): DemoSpan {
    return this.#span({
      parent: parent.spanId,
      name: `${op} ${table}`,
      kind: SPAN_KIND.client,
      service: parent.service,
      pod: parent.pod,
      startUs,
      endUs: Math.min(parent.endUs, startUs + durUs),
      attributes: {
        'db.system': 'postgresql',
        'db.operation.name': op,
        'db.collection.name': table,
        'db.query.text':
          `${op} … ${op === 'SELECT' ? 'FROM' : op === 'INSERT' ? 'INTO' : ''} ${table}${suffix ? ` ${suffix}` : ''}`
            .replace(/ {2,}/g, ' ')
            .trim(),
      },
    });
  }

  #client(parent: DemoSpan, system: string, op: string, key: string, startUs: number, durUs: number): DemoSpan {
    return this.#span({
      parent: parent.spanId,
      name: `${op} ${key}`,
      kind: SPAN_KIND.client,
      service: parent.service,
      pod: parent.pod,
      startUs,
      endUs: Math.min(parent.endUs, startUs + durUs),
      attributes: { 'db.system': system, 'db.operation.name': op },
    });
  }

  #fail(span: DemoSpan, message: string): void {
    span.statusCode = SPAN_STATUS.error;
    span.statusMessage = message;
  }

  #exception(span: DemoSpan, r: ApiRequest): void {
    const e = r.exception;
    if (!e) return;
    span.events.push({
      name: 'exception',
      timeUs: span.endUs,
      attributes: { 'exception.type': e.type, 'exception.message': e.message, 'exception.stacktrace': e.stacktrace },
    });
  }
}
