/**
 * Records what one visitor's session produces: tracking events from the
 * front end, `api_request` events from the services it calls, and the
 * application errors behind failed requests. Keeps the session's clock and
 * its current trace, so a request, the event it leads to and any error
 * share one `trace_id`.
 */
import { ERROR_KINDS, serverErrorKind, stackTrace, type ErrorContext, type ErrorKind } from './app-errors.ts';
import type { ShopConditions } from './conditions.ts';
import type { Customer } from './customers.ts';
import type { DemoEvent } from './demo-event.ts';
import { type Random, Weighted } from './random.ts';
import type { Promotion } from './seasonality.ts';
import { FRONTEND_SERVICE, ROUTES, SERVICE_DEPLOYMENTS, type DeviceType, type RouteName } from './shop-model.ts';
import type { ShopWorld } from './shop-world.ts';

/** Who is visiting, on what, and from where. Fixed for the session. */
export interface Visit {
  readonly sessionId: string;
  readonly customer: Customer;
  readonly device: DeviceType;
  readonly browser: string;
  readonly os: string;
  readonly channel: 'web' | 'mobile_app';
  readonly trafficSource: string;
  readonly campaign: string | undefined;
  readonly referrer: string;
  readonly ipAddress: string;
  readonly userAgent: string;
  /** The promotion running when the session started, if any. */
  readonly promotion: Promotion | undefined;
}

/** Which 4xx a route answers when the visitor or the client gets something wrong, and how often relative to others. */
const CLIENT_ERRORS: Readonly<Record<RouteName, { readonly factor: number; readonly codes: Weighted<number> }>> = {
  home: {
    factor: 0.6,
    codes: new Weighted([
      [429, 3],
      [403, 1],
    ]),
  },
  login: {
    factor: 4,
    codes: new Weighted([
      [401, 5],
      [429, 1],
    ]),
  },
  me: { factor: 1.5, codes: new Weighted([[401, 1]]) },
  search: {
    factor: 1,
    codes: new Weighted([
      [400, 2],
      [429, 1],
    ]),
  },
  product: {
    factor: 1,
    codes: new Weighted([
      [404, 3],
      [429, 1],
    ]),
  },
  cartAdd: {
    factor: 0.8,
    codes: new Weighted([
      [400, 2],
      [401, 1],
    ]),
  },
  cartView: { factor: 0.5, codes: new Weighted([[401, 1]]) },
  checkout: {
    factor: 3,
    codes: new Weighted([
      [400, 4],
      [401, 2],
      [409, 1],
    ]),
  },
  inventoryReserve: { factor: 1.5, codes: new Weighted([[409, 1]]) },
  shippingQuote: { factor: 1, codes: new Weighted([[400, 1]]) },
  payment: { factor: 1.2, codes: new Weighted([[400, 1]]) },
  orders: { factor: 0.3, codes: new Weighted([[409, 1]]) },
};

/** The exception logged for a 4xx, where the service logs one. */
const CLIENT_ERROR_KINDS: Partial<Record<RouteName, Partial<Record<number, ErrorKind>>>> = {
  me: { 401: ERROR_KINDS.sessionExpired },
  checkout: { 400: ERROR_KINDS.invalidAddress, 401: ERROR_KINDS.sessionExpired },
  inventoryReserve: { 409: ERROR_KINDS.stockRace },
  shippingQuote: { 400: ERROR_KINDS.invalidAddress },
  payment: { 400: ERROR_KINDS.invalidCardData },
};

const SERVER_ERRORS = new Weighted([
  [500, 60],
  [503, 25],
  [502, 8],
  [504, 7],
]);

export interface ApiOptions {
  /** Concrete path for `url.path` (default: the route template). */
  readonly path?: string;
  /** Force the answer (for outcomes decided elsewhere, like a payment decline). */
  readonly status?: number;
  /** Force the duration, ms. */
  readonly durationMs?: number;
  /** Exception to log with a failure instead of the route's usual one; `null` logs none. */
  readonly error?: ErrorKind | null;
  readonly errorContext?: ErrorContext;
  /** `message` of the error event (default: the exception message). */
  readonly errorMessage?: string;
  /** Extra fields for the api_request event (e.g. `transaction`). */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** The customer fields every tracking event carries. */
export function customerFields(customer: Customer): Record<string, unknown> {
  return {
    id: customer.id,
    segment: segmentOf(customer),
    tier: customer.tier,
    country: customer.location.country,
    region: customer.location.region,
  };
}

/** Marketing segment, logged as `customer.segment`: vip, premium, standard or new. */
export function segmentOf(customer: Customer): string {
  if (customer.lifetimeOrders <= 1) return 'new';
  if (customer.tier === 'PLATINUM') return 'vip';
  if (customer.tier === 'GOLD') return 'premium';
  return 'standard';
}

export class SessionRecorder {
  /** The session's clock, epoch ms; advances with requests and think time. */
  t: number;
  readonly startMs: number;
  readonly world: ShopWorld;
  readonly visit: Visit;
  readonly random: Random;
  readonly #out: DemoEvent[];
  #traceId = '';

  constructor(world: ShopWorld, visit: Visit, random: Random, startMs: number, out: DemoEvent[]) {
    this.world = world;
    this.visit = visit;
    this.random = random;
    this.startMs = startMs;
    this.t = startMs;
    this.#out = out;
  }

  get traceId(): string {
    return this.#traceId;
  }

  /** Starts a new user action: a fresh trace id for what follows. */
  newTrace(): void {
    this.#traceId = this.random.hex(32);
  }

  /** The visitor reads, scrolls or types for a while (exponential, mean about `meanMs`). */
  think(meanMs: number): void {
    // Capped so that a session's span stays bounded (MAX_SESSION_SPAN_MS).
    this.t += Math.round(1000 + Math.min(this.random.exponential(meanMs), 3 * meanMs));
  }

  conditions(): ShopConditions {
    return this.world.conditionsAt(this.t);
  }

  /** One request to a shop API; records it (and its exception, if any) and returns the status code. */
  api(name: RouteName, options: ApiOptions = {}): number {
    const route = ROUTES[name];
    const conditions = this.conditions();
    const status = options.status ?? this.#drawStatus(name, conditions);
    const durationMs = options.durationMs ?? this.#latency(name, conditions, status);
    const pod = this.world.podFor(route.service, this.random);
    this.#out.push({
      tsMs: this.t,
      body: {
        service: { name: route.service, version: SERVICE_DEPLOYMENTS[route.service].version },
        event: {
          category: 'web',
          type: 'api_request',
          outcome: status >= 400 ? 'failure' : 'success',
          duration: durationMs,
        },
        http: { request: { method: route.method }, route: route.route, response: { status_code: status } },
        url: { path: options.path ?? route.route },
        kubernetes: { pod: pod.name },
        user: { id: this.visit.customer.id, session_id: this.visit.sessionId },
        customer: { region: this.visit.customer.location.region },
        session: { device_type: this.visit.device },
        ...options.fields,
        trace_id: this.#traceId,
        span_id: this.random.hex(16),
      },
    });
    const kind = options.error === undefined ? this.#errorKindFor(name, status) : options.error;
    if (kind) {
      const errorService = { ...kind, service: route.service };
      this.error(errorService, options.errorContext ?? {}, pod.name, options.errorMessage, this.t + durationMs);
    }
    this.t += durationMs;
    return status;
  }

  /** A tracking event from the front end (or `service`), with the session's customer and device. */
  track(
    type: string,
    fields: Readonly<Record<string, unknown>>,
    options: { service?: { name: string; version: string }; category?: string; action?: string; tsMs?: number } = {},
  ): void {
    const visit = this.visit;
    this.#out.push({
      tsMs: options.tsMs ?? this.t,
      body: {
        service: options.service ?? FRONTEND_SERVICE,
        event: {
          category: options.category ?? 'user_activity',
          type,
          ...(options.action ? { action: options.action } : {}),
        },
        user: { id: visit.customer.id, session_id: visit.sessionId },
        customer: customerFields(visit.customer),
        ...fields,
        session: {
          device_type: visit.device,
          browser: visit.browser,
          os: visit.os,
          traffic_source: visit.trafficSource,
          ...(visit.campaign ? { campaign: visit.campaign } : {}),
        },
        business: { channel: visit.channel, ...(visit.campaign ? { campaign_id: visit.campaign } : {}) },
        trace_id: this.#traceId,
      },
    });
  }

  /** Records an event built elsewhere (payment transactions, orders). */
  emit(tsMs: number, body: Readonly<Record<string, unknown>>): void {
    this.#out.push({ tsMs, body });
  }

  /** An application error event: a structured error log with exception type, message and stack trace. */
  error(kind: ErrorKind, context: ErrorContext, podName: string, message?: string, tsMs: number = this.t): void {
    const exceptionMessage = kind.message(context, this.random);
    this.#out.push({
      tsMs,
      body: errorBody(kind, exceptionMessage, podName, message ?? exceptionMessage, {
        // The release the service runs then (src/demo/releases.ts).
        service: {
          name: kind.service,
          version: this.world.releaseOf?.(kind.service, tsMs) ?? SERVICE_DEPLOYMENTS[kind.service].version,
        },
        user: { id: this.visit.customer.id, session_id: this.visit.sessionId },
        ...(context.orderId ? { order: { id: context.orderId } } : {}),
        // A failed payment's error carries what it would have charged.
        ...(context.gateway
          ? {
              transaction: {
                gateway: context.gateway,
                ...(context.amount === undefined ? {} : { amount: context.amount }),
                ...(context.currency === undefined ? {} : { currency: context.currency }),
              },
            }
          : {}),
        trace_id: this.#traceId,
      }),
    });
  }

  #drawStatus(name: RouteName, conditions: ShopConditions): number {
    const service = ROUTES[name].service;
    const u = this.random.next();
    const serverErrorRate = conditions.serverErrorRate[service];
    if (u < serverErrorRate) return this.random.weighted(SERVER_ERRORS);
    const clientErrors = CLIENT_ERRORS[name];
    if (u < serverErrorRate + conditions.clientErrorRate * clientErrors.factor) {
      return this.random.weighted(clientErrors.codes);
    }
    return ROUTES[name].method === 'POST' && (name === 'orders' || name === 'cartAdd') ? 201 : 200;
  }

  #latency(name: RouteName, conditions: ShopConditions, status: number): number {
    const route = ROUTES[name];
    if (status === 503) return this.random.int(2, 15);
    if (status === 504) return 10_000 + this.random.int(0, 50);
    const load = this.world.calendar.trafficMultiplier(this.t) * conditions.trafficMultiplier;
    const pressure = conditions.resourcePressure[route.service];
    const median = route.medianMs * (0.85 + 0.15 * load) * (1 + 3 * pressure) * (status >= 400 ? 0.6 : 1);
    return Math.max(1, Math.round(this.random.logNormal(median, 0.45) + conditions.extraLatencyMs[route.service]));
  }

  #errorKindFor(name: RouteName, status: number): ErrorKind | undefined {
    if (status >= 500) return serverErrorKind(ROUTES[name].service, status);
    return CLIENT_ERROR_KINDS[name]?.[status];
  }
}

/** The body of an error event; `context` adds the request's ids (user, order, trace). */
export function errorBody(
  kind: ErrorKind,
  exceptionMessage: string,
  podName: string,
  message: string,
  context: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return {
    service: { name: kind.service, version: SERVICE_DEPLOYMENTS[kind.service].version },
    event: { category: 'application', type: 'error', outcome: 'failure' },
    log: { level: kind.level },
    message,
    exception: { type: kind.type, message: exceptionMessage, stacktrace: stackTrace(kind, exceptionMessage) },
    error: { category: kind.category },
    kubernetes: { pod: podName },
    ...context,
  };
}
