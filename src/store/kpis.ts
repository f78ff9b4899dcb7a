/**
 * Business KPIs for Prometheus (`/metrics`): what each loaded ingest log
 * segment adds to the shop's counters — orders and revenue, payments by
 * gateway and outcome, checkout requests by outcome, request latency by
 * service and route. An engine computes them from a segment's rows once the
 * segment is committed (so a counter never counts what a crash could lose),
 * as aggregates, not per event; src/telemetry/business-metrics.ts turns them
 * into Prometheus series. Definitions match the shipped alert pack's
 * (rules/ecommerce.yaml), so a Grafana panel over these series and an alert
 * over the events agree.
 */

/** The KPIs, as named in the config (`metrics.business`). */
export const KPI_NAMES = ['orders', 'revenue', 'payments', 'checkouts', 'request_duration'] as const;
export type KpiName = (typeof KPI_NAMES)[number];

/** Upper bounds of the request-duration histogram's buckets, seconds (Prometheus client defaults, extended to 30 s). */
export const DURATION_BUCKETS_S: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Which events count for what. */
export interface KpiDefinitions {
  /** The route (`http.route`) of the checkout API: its `api_request` events are checkout attempts. */
  readonly checkoutRoute: string;
}

/** `order_completed` events of one tenant, channel, region and currency: how many, and their `transaction.amount`. */
export interface OrderKpi {
  readonly kind: 'orders';
  readonly tenant: string;
  readonly channel: string;
  readonly region: string;
  readonly currency: string;
  readonly count: number;
  readonly revenue: number;
}

/**
 * `payment_transaction` events of one gateway by outcome: `decline` (the processor declined),
 * `technical_failure` (failed otherwise) or `success`.
 */
export interface PaymentKpi {
  readonly kind: 'payments';
  readonly tenant: string;
  readonly gateway: string;
  readonly outcome: 'success' | 'decline' | 'technical_failure';
  readonly count: number;
}

/** Requests to the checkout route: `failure` when answered 5xx, else `success`. */
export interface CheckoutKpi {
  readonly kind: 'checkouts';
  readonly tenant: string;
  readonly outcome: 'success' | 'failure';
  readonly count: number;
}

/** `api_request` events of one service and route with an `event.duration` (ms in events, seconds here). */
export interface DurationKpi {
  readonly kind: 'request_duration';
  readonly tenant: string;
  readonly service: string;
  readonly route: string;
  readonly count: number;
  readonly sumSeconds: number;
  /** Cumulative: requests at most DURATION_BUCKETS_S[i] seconds long. */
  readonly buckets: readonly number[];
}

export type KpiDelta = OrderKpi | PaymentKpi | CheckoutKpi | DurationKpi;
