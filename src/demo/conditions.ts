/**
 * Operating conditions of the demo shop at a moment: failure probabilities,
 * latencies and resource pressure. The simulator reads them for every
 * request, payment and infrastructure sample, so an incident is a function
 * that returns changed conditions for its time window, e.g. "stripe times out
 * on 40 % of payments from 14:00 to 14:20" or "+800 ms on order-service".
 *
 * Hooks must be pure functions of the time (no counters, no Math.random), so
 * the simulated shop stays reproducible for a seed.
 */
import type { Promotion } from './seasonality.ts';
import { GATEWAYS, SERVICES, type Gateway, type Service } from './shop-model.ts';

/**
 * A card-testing attack: a bot tries stolen cards in quick succession from a
 * handful of addresses. Each attempt is a high-risk `payment_transaction`.
 */
export interface CardTesting {
  /** Attempts per minute (Poisson mean). */
  readonly attemptsPerMinute: number;
  /** The few IP addresses the attempts come from. */
  readonly ipAddresses: readonly string[];
  /** Last four digits of the few cards being tried. */
  readonly cardLastFour: readonly string[];
}

/** What the shop is like at one moment. Probabilities are 0-1, per attempt. */
export interface ShopConditions {
  /** Multiplier on the number of sessions started (1 = normal; 0.2 = an outage scares visitors away). */
  readonly trafficMultiplier: number;
  /** Probability that the card issuer declines a payment attempt, per gateway. */
  readonly declineRate: Readonly<Record<Gateway, number>>;
  /** Probability that a gateway answers with an error (502 and a GatewayUnavailableException), per gateway. */
  readonly gatewayErrorRate: Readonly<Record<Gateway, number>>;
  /** Probability that a gateway does not answer in time (504 and a GatewayTimeoutException), per gateway. */
  readonly gatewayTimeoutRate: Readonly<Record<Gateway, number>>;
  /** Probability of a 5xx answer per API request, per service. */
  readonly serverErrorRate: Readonly<Record<Service, number>>;
  /** Probability of a random 4xx per API request (validation, expired session, rate limit, ...). */
  readonly clientErrorRate: number;
  /** Milliseconds added to every API request of a service. */
  readonly extraLatencyMs: Readonly<Record<Service, number>>;
  /** Milliseconds added to every call to a gateway. */
  readonly gatewayExtraLatencyMs: Readonly<Record<Gateway, number>>;
  /** Extra load on a service, 0-1: raises CPU, memory, connection-pool use and lowers cache hits. */
  readonly resourcePressure: Readonly<Record<Service, number>>;
  /** Product ids that are out of stock whatever the restock cycle says. */
  readonly outOfStock: readonly string[];
  /** Units on hand per product id, overriding the restock cycle (0 = sold out). */
  readonly stockOverride: Readonly<Record<string, number>>;
  /**
   * Multiplier on the chance that a product view leads to add-to-cart
   * (1 = normal; 0.4 = a broken "add to cart" button for many visitors).
   */
  readonly addToCartMultiplier: number;
  /** A promotion running because of an incident, for sessions that start when the calendar has none. */
  readonly promotion: Promotion | undefined;
  /** A card-testing attack in progress, if any. */
  readonly cardTesting: CardTesting | undefined;
}

/**
 * Changes the conditions at `tMs` (epoch ms). Return `base` itself when
 * nothing changes: the simulator calls the hook for every request.
 */
export type ConditionsHook = (tMs: number, base: ShopConditions) => ShopConditions;

function perKey<K extends string>(keys: readonly K[], value: number): Readonly<Record<K, number>> {
  const out = {} as Record<K, number>;
  for (const k of keys) out[k] = value;
  return Object.freeze(out);
}

/** A healthy shop: about 97 % of payment attempts succeed, ~0.3 % of requests fail with a 5xx. */
export const BASELINE_CONDITIONS: ShopConditions = Object.freeze({
  trafficMultiplier: 1,
  declineRate: Object.freeze({ stripe: 0.016, paypal: 0.013, adyen: 0.018 }),
  gatewayErrorRate: perKey(GATEWAYS, 0),
  gatewayTimeoutRate: perKey(GATEWAYS, 0.003),
  serverErrorRate: Object.freeze({
    ...perKey(SERVICES, 0.002),
    'payment-service': 0.003,
    'shipping-service': 0.004,
  }),
  clientErrorRate: 0.012,
  extraLatencyMs: perKey(SERVICES, 0),
  gatewayExtraLatencyMs: perKey(GATEWAYS, 0),
  resourcePressure: perKey(SERVICES, 0),
  outOfStock: Object.freeze([]),
  stockOverride: Object.freeze({}),
  addToCartMultiplier: 1,
  promotion: undefined,
  cardTesting: undefined,
});

/** Applies hooks in order; each sees what the previous one returned. */
export function composeConditions(...hooks: readonly ConditionsHook[]): ConditionsHook {
  return (tMs, base) => hooks.reduce((conditions, hook) => hook(tMs, conditions), base);
}

/** A hook active only in [fromMs, toMs): the building block of incidents. */
export function during(fromMs: number, toMs: number, change: (base: ShopConditions) => ShopConditions): ConditionsHook {
  return (tMs, base) => (tMs >= fromMs && tMs < toMs ? change(base) : base);
}
