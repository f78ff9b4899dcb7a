/**
 * The demo shop's incidents: named things going wrong for a while (a payment
 * gateway down, slow checkout, a fraud burst, ...). Each is a change of the
 * shop's conditions over a time window, so the simulator shows its effects in
 * the generated events and nowhere else needs to know.
 *
 * An `IncidentSchedule` holds the incidents of one demo run: those given at
 * start (`--incident NAME[@OFFSET]`) and those started while it runs
 * (`POST /api/v1/demo/incidents`). It is the simulator's conditions hook and
 * the ground truth that alert tests compare with what was detected.
 */
import { PRODUCTS } from './catalog.ts';
import type { ConditionsHook, ShopConditions } from './conditions.ts';
import type { Promotion } from './seasonality.ts';

export const INCIDENT_NAMES = [
  'payment-gateway-outage',
  'checkout-latency',
  'fraud-burst',
  'error-spike',
  'checkout-failure-promo',
  'stock-out',
  'conversion-drop',
] as const;
export type IncidentName = (typeof INCIDENT_NAMES)[number];

/** Longest incident one may start, minutes (one day). */
export const MAX_INCIDENT_MINUTES = 24 * 60;

const MINUTE_MS = 60_000;

/** One kind of incident. */
export interface IncidentDefinition {
  readonly name: IncidentName;
  /** The service where it shows first (`payment-service`; `frontend-service` for the front end). */
  readonly service: string;
  /** What happens, in the shop's language. */
  readonly description: string;
  readonly defaultDurationMinutes: number;
  /**
   * The conditions at `tMs` for an incident running in [fromMs, toMs): a pure
   * function (some incidents evolve over their window, like stock running out).
   */
  readonly change: (base: ShopConditions, tMs: number, fromMs: number, toMs: number) => ShopConditions;
}

/** The best-selling product (the most viewed one): the one that runs out in `stock-out`. */
export const BESTSELLER_ID: string = PRODUCTS.reduce((a, b) => (b.popularity > a.popularity ? b : a)).id;

/** The gateway that fails in `payment-gateway-outage`. */
export const OUTAGE_GATEWAY = 'stripe';

/** Where the card-testing bot of `fraud-burst` comes from, and the stolen cards it tries. */
export const FRAUD_IP_ADDRESSES: readonly string[] = Object.freeze([
  '185.220.101.34',
  '185.220.101.35',
  '45.155.205.12',
]);
export const FRAUD_CARD_LAST_FOUR: readonly string[] = Object.freeze(['4242', '0005', '1881', '5100', '3220']);

function flashSale(fromMs: number, toMs: number): Promotion {
  const start = new Date(fromMs);
  return {
    campaignId: 'flash_sale_incident',
    weekday: start.getUTCDay(),
    startHour: start.getUTCHours() + start.getUTCMinutes() / 60,
    durationHours: (toMs - fromMs) / 3_600_000,
    trafficBoost: 2,
    conversionBoost: 1.4,
    discount: 0.2,
    category: 'electronics',
  };
}

function definition(d: IncidentDefinition): IncidentDefinition {
  return Object.freeze(d);
}

/** Every incident by name. */
export const INCIDENTS: Readonly<Record<IncidentName, IncidentDefinition>> = Object.freeze({
  'payment-gateway-outage': definition({
    name: 'payment-gateway-outage',
    service: 'payment-service',
    description: `The ${OUTAGE_GATEWAY} gateway answers 502 or times out (504) on about 60 % of payments`,
    defaultDurationMinutes: 20,
    change: (base) => ({
      ...base,
      gatewayErrorRate: { ...base.gatewayErrorRate, [OUTAGE_GATEWAY]: 0.35 },
      gatewayTimeoutRate: { ...base.gatewayTimeoutRate, [OUTAGE_GATEWAY]: 0.25 },
      gatewayExtraLatencyMs: { ...base.gatewayExtraLatencyMs, [OUTAGE_GATEWAY]: 1500 },
      resourcePressure: { ...base.resourcePressure, 'payment-service': 0.3 },
    }),
  }),
  'checkout-latency': definition({
    name: 'checkout-latency',
    service: 'order-service',
    description: 'The order service slows down: POST /api/checkout takes over 3 s at the 95th percentile',
    defaultDurationMinutes: 30,
    change: (base) => ({
      ...base,
      extraLatencyMs: { ...base.extraLatencyMs, 'order-service': 2800 },
      resourcePressure: { ...base.resourcePressure, 'order-service': 0.6 },
    }),
  }),
  'fraud-burst': definition({
    name: 'fraud-burst',
    service: 'payment-service',
    description: `A card-testing bot: about 8 high-risk payment attempts a minute from ${FRAUD_IP_ADDRESSES.length} IP addresses with ${FRAUD_CARD_LAST_FOUR.length} cards`,
    defaultDurationMinutes: 15,
    change: (base) => ({
      ...base,
      cardTesting: { attemptsPerMinute: 8, ipAddresses: FRAUD_IP_ADDRESSES, cardLastFour: FRAUD_CARD_LAST_FOUR },
    }),
  }),
  'error-spike': definition({
    name: 'error-spike',
    service: 'catalog-service',
    description: 'The catalog service answers 5xx on about a quarter of its requests (product pages, search)',
    defaultDurationMinutes: 15,
    change: (base) => ({
      ...base,
      serverErrorRate: { ...base.serverErrorRate, 'catalog-service': 0.25 },
      resourcePressure: { ...base.resourcePressure, 'catalog-service': 0.7 },
    }),
  }),
  'checkout-failure-promo': definition({
    name: 'checkout-failure-promo',
    service: 'order-service',
    description:
      'A flash sale doubles traffic and checkout breaks under it: POST /api/checkout fails, carts are abandoned',
    defaultDurationMinutes: 60,
    change: (base, _tMs, fromMs, toMs) => ({
      ...base,
      promotion: base.promotion ?? flashSale(fromMs, toMs),
      trafficMultiplier: base.trafficMultiplier * 2,
      serverErrorRate: { ...base.serverErrorRate, 'order-service': 0.3, 'inventory-service': 0.1 },
      extraLatencyMs: { ...base.extraLatencyMs, 'order-service': 1500 },
      resourcePressure: { ...base.resourcePressure, 'order-service': 0.8, 'inventory-service': 0.5 },
    }),
  }),
  'stock-out': definition({
    name: 'stock-out',
    service: 'inventory-service',
    description: `The bestseller ${BESTSELLER_ID} runs low: 9 units left, sold out halfway through`,
    defaultDurationMinutes: 120,
    change: (base, tMs, fromMs, toMs) => {
      const elapsed = (tMs - fromMs) / Math.max(1, toMs - fromMs);
      const units = Math.max(0, Math.floor(9 * (1 - 2 * elapsed)));
      return { ...base, stockOverride: { ...base.stockOverride, [BESTSELLER_ID]: units } };
    },
  }),
  'conversion-drop': definition({
    name: 'conversion-drop',
    service: 'frontend-service',
    description:
      'A front-end release breaks the add-to-cart button for most visitors: no errors, but far fewer carts and orders',
    defaultDurationMinutes: 60,
    change: (base) => ({ ...base, addToCartMultiplier: base.addToCartMultiplier * 0.35 }),
  }),
});

export function isIncidentName(name: string): name is IncidentName {
  return (INCIDENT_NAMES as readonly string[]).includes(name);
}

/** The hook of one incident running in [fromMs, toMs) of shop time. */
export function incidentHook(name: IncidentName, fromMs: number, toMs: number): ConditionsHook {
  const { change } = INCIDENTS[name];
  return (tMs, base) => (tMs >= fromMs && tMs < toMs ? change(base, tMs, fromMs, toMs) : base);
}

/** Ground truth of one incident: what, where and when, in the stored events' timestamps. */
export interface IncidentRecord {
  readonly name: IncidentName;
  /** Affected service. */
  readonly service: string;
  readonly description: string;
  /** Start and end, epoch ms, as stamped on the stored events (the end is exclusive). */
  readonly startMs: number;
  readonly endMs: number;
}

/** What the HTTP API needs from a running demo: the ground truth, and starting an incident now. */
export interface DemoIncidentControl {
  /** Every incident of this run (scheduled, running or over), by start time. */
  list(): readonly IncidentRecord[];
  /**
   * Starts `name` at the next minute of shop time after `nowMs` (wall clock,
   * epoch ms), for `durationMinutes` of shop time (default: the incident's own).
   * Throws a RangeError for an unknown name or a duration outside 1 minute - 1 day.
   */
  start(name: string, durationMinutes: number | undefined, nowMs: number): IncidentRecord | Promise<IncidentRecord>;
}

/**
 * How shop time maps to the wall clock. The demo backfills history at real
 * time and may play live traffic as a time-lapse; the default is the identity.
 */
export interface ShopClock {
  shopTimeOf(wallMs: number): number;
  wallTimeOf(shopMs: number): number;
}

const IDENTITY_CLOCK: ShopClock = { shopTimeOf: (ms) => ms, wallTimeOf: (ms) => ms };

/** An incident as scheduled: its name and window of shop time, epoch ms, [fromMs, toMs). */
export interface IncidentWindow {
  readonly name: IncidentName;
  readonly fromMs: number;
  readonly toMs: number;
}

interface ScheduledIncident {
  readonly hook: ConditionsHook;
  readonly record: IncidentRecord;
  readonly window: IncidentWindow;
}

/** The incidents of one demo run; `hook` goes to the simulator. */
export class IncidentSchedule implements DemoIncidentControl {
  readonly #clock: ShopClock;
  readonly #incidents: ScheduledIncident[] = [];

  constructor(clock: ShopClock = IDENTITY_CLOCK) {
    this.#clock = clock;
  }

  /**
   * The conditions hook of every incident scheduled so far. An incident added
   * later changes only shop time that has not been generated yet, so the
   * stream stays a pure function of the schedule.
   */
  readonly hook: ConditionsHook = (tMs, base) =>
    this.#incidents.reduce((conditions, incident) => incident.hook(tMs, conditions), base);

  /** Schedules `name` for [fromMs, toMs) of shop time. */
  add(name: string, fromMs: number, toMs: number): IncidentRecord {
    const incidentName = checkName(name);
    if (!(toMs > fromMs)) throw new RangeError(`incident ${name}: its end must be after its start`);
    const definition = INCIDENTS[incidentName];
    const record: IncidentRecord = Object.freeze({
      name: incidentName,
      service: definition.service,
      description: definition.description,
      startMs: this.#clock.wallTimeOf(fromMs),
      endMs: this.#clock.wallTimeOf(toMs),
    });
    this.#incidents.push({
      hook: incidentHook(incidentName, fromMs, toMs),
      record,
      window: Object.freeze({ name: incidentName, fromMs, toMs }),
    });
    return record;
  }

  /**
   * Every incident scheduled so far in shop time, in the order scheduled:
   * `add`ing them to a new schedule gives one whose hook changes the shop
   * exactly as this one's does (a worker thread generating history rebuilds
   * the run's schedule so).
   */
  windows(): readonly IncidentWindow[] {
    return this.#incidents.map((i) => i.window);
  }

  list(): readonly IncidentRecord[] {
    return this.#incidents.map((i) => i.record).sort((a, b) => a.startMs - b.startMs);
  }

  /**
   * Schedules an incident of an earlier run from its ground truth (wall-clock
   * start and end, as stamped on the stored events), with this run's clock:
   * one still in progress goes on until its recorded end. Answers the
   * scheduled record; an incident already scheduled with the same name and
   * start is not added twice.
   */
  resume(record: Pick<IncidentRecord, 'name' | 'startMs' | 'endMs'>): IncidentRecord {
    const name = checkName(record.name);
    const known = this.#incidents.find((i) => i.record.name === name && i.record.startMs === record.startMs);
    if (known) return known.record;
    if (!(Number.isFinite(record.startMs) && record.endMs > record.startMs)) {
      throw new RangeError(`incident ${name}: its end must be after its start`);
    }
    const definition = INCIDENTS[name];
    const resumed: IncidentRecord = Object.freeze({
      name,
      service: definition.service,
      description: definition.description,
      startMs: record.startMs,
      endMs: record.endMs,
    });
    const fromMs = this.#clock.shopTimeOf(record.startMs);
    const toMs = this.#clock.shopTimeOf(record.endMs);
    this.#incidents.push({
      hook: incidentHook(name, fromMs, toMs),
      record: resumed,
      window: Object.freeze({ name, fromMs, toMs }),
    });
    return resumed;
  }

  /** Unschedules an incident (one whose start could not be recorded); answers whether it was there. */
  remove(record: IncidentRecord): boolean {
    const at = this.#incidents.findIndex((i) => i.record === record);
    if (at >= 0) this.#incidents.splice(at, 1);
    return at >= 0;
  }

  start(name: string, durationMinutes: number | undefined, nowMs: number): IncidentRecord {
    const incidentName = checkName(name);
    const minutes = durationMinutes ?? INCIDENTS[incidentName].defaultDurationMinutes;
    checkDuration(minutes);
    // The shop's current minute is already generated; the next one is the first the incident can change.
    const fromMs = Math.ceil(this.#clock.shopTimeOf(nowMs) / MINUTE_MS) * MINUTE_MS;
    return this.add(incidentName, fromMs, fromMs + minutes * MINUTE_MS);
  }
}

function checkName(name: string): IncidentName {
  if (!isIncidentName(name)) {
    throw new RangeError(`unknown incident "${name}"; valid incidents: ${INCIDENT_NAMES.join(', ')}`);
  }
  return name;
}

/** Throws a RangeError unless `minutes` is a number from 1 to MAX_INCIDENT_MINUTES. */
export function checkDuration(minutes: number): void {
  if (!(typeof minutes === 'number' && minutes >= 1 && minutes <= MAX_INCIDENT_MINUTES)) {
    throw new RangeError(`incident duration must be 1 to ${MAX_INCIDENT_MINUTES} minutes, got ${String(minutes)}`);
  }
}
