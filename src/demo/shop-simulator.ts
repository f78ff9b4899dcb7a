/**
 * The simulated shop. Its traffic is a pure function of the seed and the
 * time: time is cut into one-minute slots, and everything that starts in a
 * slot (sessions, infrastructure samples, background errors) is generated
 * from a random source seeded by (seed, slot). So the events of any window
 * are the same whether it is generated in one piece or minute by minute,
 * history and live traffic join without a seam, and the same seed gives a
 * byte-identical stream.
 *
 * Sessions last up to MAX_SESSION_SPAN_MS, so a window also looks back that
 * far for sessions that started earlier and are still producing events.
 */
import { BACKGROUND_ERRORS, type ErrorKind } from './app-errors.ts';
import { RELEASE_ERRORS, type ReleaseSchedule } from './releases.ts';
import { Catalog } from './catalog.ts';
import { BASELINE_CONDITIONS, type CardTesting, type ConditionsHook, type ShopConditions } from './conditions.ts';
import { CUSTOMER_COUNT, CustomerBase } from './customers.ts';
import type { DemoEvent } from './demo-event.ts';
import { healthChecksPerSecond, sampleGatewayHealth } from './gateway-health.ts';
import { createPods, sampleInfrastructure } from './infrastructure.ts';
import { MAX_SESSION_SPAN_MS, newVisit, simulateSession } from './journey.ts';
import { attemptPayment, toCurrency, type OrderDraft } from './payments.ts';
import { hashText, Random, Weighted } from './random.ts';
import { ShopCalendar } from './seasonality.ts';
import { slotLines, windowOf, type LineWindow, type SlotLines } from './slot-lines.ts';
import { errorBody, SessionRecorder } from './session-recorder.ts';
import { SERVICE_DEPLOYMENTS, type Service } from './shop-model.ts';
import type { Pod, ShopWorld } from './shop-world.ts';
import { tracesOf, type DemoTrace } from './traces.ts';

/** Length of one generation slot, ms. */
export const SLOT_MS = 60_000;

/** Sessions started per minute at traffic scale 1 and average traffic (about 4 events a second). */
export const SESSIONS_PER_MINUTE = 40;

/**
 * Average events one session produces (page views, API requests, cart,
 * checkout, payment and error events), measured over simulated days; for
 * rate estimates only.
 */
export const EVENTS_PER_SESSION = 4.4;

/** Expected events per second, on average over a week, at a traffic scale and infrastructure sample interval (with gateway health checks). */
export function expectedEventsPerSecond(trafficScale: number, infraIntervalMs: number): number {
  const pods = Object.values(SERVICE_DEPLOYMENTS).reduce((n, d) => n + d.replicas, 0);
  return (
    (SESSIONS_PER_MINUTE * trafficScale * EVENTS_PER_SESSION) / 60 +
    pods / (infraIntervalMs / 1000) +
    healthChecksPerSecond(trafficScale)
  );
}

/** Background errors (webhooks, syncs, e-mail, CRM) per minute at traffic scale 1 and average traffic. */
const BACKGROUND_ERRORS_PER_MINUTE = 1.5;

const SESSION_TAG = hashText('session');
const SLOT_TAG = hashText('slot');
const BACKGROUND_TAG = hashText('background');
const CARD_TESTING_TAG = hashText('card-testing');
const DEFAULT_INFRA_INTERVAL_MS = 60_000;

/** A number, or a number that depends on the time (it must be a pure function of `tMs`). */
export type TimeVarying = number | ((tMs: number) => number);

export interface ShopSimulatorOptions {
  /** Seed of everything random: customers, pods, stock cycles and traffic. */
  readonly seed: number;
  /**
   * Traffic scale: multiplies the sessions started (and the background errors).
   * 1 = SESSIONS_PER_MINUTE sessions a minute on average, about 4 events a second.
   * Infrastructure samples do not depend on it. Default 1.
   */
  readonly trafficScale?: TimeVarying;
  /**
   * Time between two samples of each pod, ms: a divisor of one minute (15 s,
   * 30 s) or a whole number of minutes (5 min). Default 60 s.
   */
  readonly infraIntervalMs?: TimeVarying;
  /** Changes the conditions over time (incidents). Default: baseline all the time. */
  readonly conditions?: ConditionsHook;
  /** Seasonality and promotions. Default: UTC, a Saturday-evening flash sale. */
  readonly calendar?: ShopCalendar;
  /** Size of the customer base (default 5,000; smaller only to speed up tests). */
  readonly customerCount?: number;
  /**
   * Traces (`tracesBetween`): one in N of the user actions' traces, by trace
   * id (1 = all; 0 = none, the default). A pure function of the time like
   * everything else, so a window's traces do not depend on how it is cut.
   */
  readonly traceSampling?: TimeVarying;
  /** Deploys: releases over time and the errors they bring or fix. Default: every service on its one release. */
  readonly releases?: ReleaseSchedule;
}

function valueAt(value: TimeVarying, tMs: number): number {
  return typeof value === 'function' ? value(tMs) : value;
}

function checkInfraInterval(intervalMs: number): void {
  const ok =
    Number.isInteger(intervalMs) && intervalMs >= 1000 && (SLOT_MS % intervalMs === 0 || intervalMs % SLOT_MS === 0);
  if (!ok) {
    throw new Error(`infrastructure sample interval must divide one minute or be whole minutes, got ${intervalMs} ms`);
  }
}

/** Slot index (minutes since the epoch) holding `tMs`. */
function slotOf(tMs: number): number {
  return Math.floor(tMs / SLOT_MS);
}

/** The demo shop. Create one per seed; `eventsBetween` may be called for any window, in any order. */
export class ShopSimulator implements ShopWorld {
  readonly seed: number;
  readonly catalog: Catalog;
  readonly customers: CustomerBase;
  readonly calendar: ShopCalendar;
  readonly pods: readonly Pod[];
  readonly #podsByService = new Map<Service, Pod[]>();
  readonly #trafficScale: TimeVarying;
  readonly #infraIntervalMs: TimeVarying;
  readonly #conditions: ConditionsHook | undefined;
  readonly #backgroundErrors = new Weighted(BACKGROUND_ERRORS);
  readonly #releases: ReleaseSchedule | undefined;
  /** The background errors of each phase of the releases (by which kinds are raised). */
  readonly #releaseErrors = new Map<string, Weighted<ErrorKind>>();
  /** Generated slots by index; those outside the last window are dropped. */
  readonly #slots = new Map<number, readonly DemoEvent[]>();
  /** The same for `linesBetween`. */
  readonly #lineSlots = new Map<number, SlotLines>();
  /** The traces of the slots made, by slot index (with `traceSampling`). */
  readonly #traceSlots = new Map<number, readonly DemoTrace[]>();
  readonly #traceSampling: TimeVarying;

  constructor(options: ShopSimulatorOptions) {
    if (!Number.isSafeInteger(options.seed)) throw new Error(`seed must be an integer, got ${options.seed}`);
    this.seed = options.seed;
    this.catalog = new Catalog(options.seed);
    this.customers = new CustomerBase(options.seed, options.customerCount ?? CUSTOMER_COUNT);
    this.calendar = options.calendar ?? new ShopCalendar();
    this.pods = createPods(options.seed);
    for (const pod of this.pods) {
      const list = this.#podsByService.get(pod.service) ?? [];
      list.push(pod);
      this.#podsByService.set(pod.service, list);
    }
    this.#trafficScale = options.trafficScale ?? 1;
    this.#infraIntervalMs = options.infraIntervalMs ?? DEFAULT_INFRA_INTERVAL_MS;
    if (typeof this.#infraIntervalMs === 'number') checkInfraInterval(this.#infraIntervalMs);
    this.#conditions = options.conditions;
    this.#traceSampling = options.traceSampling ?? 0;
    this.#releases = options.releases;
  }

  releaseOf(service: Service, tMs: number): string {
    return this.#releases ? this.#releases.versionOf(service, tMs) : SERVICE_DEPLOYMENTS[service].version;
  }

  /** The background errors raised at `tMs`, by the releases then running. */
  #backgroundErrorsAt(tMs: number): Weighted<ErrorKind> {
    const releases = this.#releases;
    if (!releases) return this.#backgroundErrors;
    const entries = [...BACKGROUND_ERRORS, ...RELEASE_ERRORS].filter(([kind]) => releases.raises(kind, tMs));
    const key = entries.map(([kind]) => kind.type + kind.frames[0]).join('|');
    let weighted = this.#releaseErrors.get(key);
    if (!weighted) this.#releaseErrors.set(key, (weighted = new Weighted(entries)));
    return weighted;
  }

  podFor(service: Service, random: Random): Pod {
    return random.pick(this.#podsByService.get(service) ?? []);
  }

  conditionsAt(tMs: number): ShopConditions {
    return this.#conditions ? this.#conditions(tMs, BASELINE_CONDITIONS) : BASELINE_CONDITIONS;
  }

  /** Expected sessions started per minute at `tMs` (scale × seasonality × conditions). */
  sessionRateAt(tMs: number): number {
    const scale = valueAt(this.#trafficScale, tMs);
    if (!(scale >= 0) || !Number.isFinite(scale)) throw new Error(`traffic scale must be >= 0, got ${scale}`);
    return (
      SESSIONS_PER_MINUTE * scale * this.calendar.trafficMultiplier(tMs) * this.conditionsAt(tMs).trafficMultiplier
    );
  }

  /** Expected events per second at `tMs` (sessions by the calendar and conditions, infrastructure samples, gateway health checks). */
  expectedEventsPerSecondAt(tMs: number, infraIntervalMs: number): number {
    return (
      (this.sessionRateAt(tMs) * EVENTS_PER_SESSION) / 60 +
      this.pods.length / (infraIntervalMs / 1000) +
      healthChecksPerSecond(valueAt(this.#trafficScale, tMs))
    );
  }

  /**
   * Every event with `fromMs <= tsMs < toMs`, ordered by time (ties in a
   * fixed order). Consecutive windows (forward or backwards) reuse the slots already made.
   */
  eventsBetween(fromMs: number, toMs: number): DemoEvent[] {
    if (!(toMs >= fromMs)) throw new Error(`window end ${toMs} is before its start ${fromMs}`);
    const firstSlot = slotOf(fromMs - MAX_SESSION_SPAN_MS);
    const lastSlot = slotOf(toMs - 1);
    // Slots outside the window go: windows may move forward (live, backfill) or backwards (newest-first backfill).
    for (const index of this.#slots.keys()) if (index < firstSlot || index > lastSlot) this.#slots.delete(index);
    this.#dropTraces(firstSlot, lastSlot);
    const events: DemoEvent[] = [];
    for (let index = firstSlot; index <= lastSlot; index++) {
      let slot = this.#slots.get(index);
      if (!slot) {
        slot = this.#generateSlot(index);
        this.#slots.set(index, slot);
      }
      for (const event of slot) if (event.tsMs >= fromMs && event.tsMs < toMs) events.push(event);
    }
    // Array#sort is stable: equal times keep slot, then generation order.
    return events.sort((a, b) => a.tsMs - b.tsMs);
  }

  /**
   * The events of `eventsBetween`, in the same order, as NDJSON bytes (see
   * slot-lines.ts): a slot is stringified as soon as it is made, so what the
   * cache keeps is one buffer per slot, not objects. Use one simulator for
   * either method, not both (each keeps its own slots).
   */
  linesBetween(fromMs: number, toMs: number): LineWindow {
    if (!(toMs >= fromMs)) throw new Error(`window end ${toMs} is before its start ${fromMs}`);
    const firstSlot = slotOf(fromMs - MAX_SESSION_SPAN_MS);
    const lastSlot = slotOf(toMs - 1);
    for (const index of this.#lineSlots.keys()) {
      if (index < firstSlot || index > lastSlot) this.#lineSlots.delete(index);
    }
    this.#dropTraces(firstSlot, lastSlot);
    const slots: SlotLines[] = [];
    for (let index = firstSlot; index <= lastSlot; index++) {
      let slot = this.#lineSlots.get(index);
      if (!slot) {
        slot = slotLines(this.#generateSlot(index));
        this.#lineSlots.set(index, slot);
      }
      slots.push(slot);
    }
    return windowOf(slots, fromMs, toMs);
  }

  /**
   * The traces whose root span starts in [fromMs, toMs), by start time, one
   * in `traceSampling` (none without it). Call it after `eventsBetween` or
   * `linesBetween` of the same window: a slot's traces are made with its
   * events, and kept as long as they are.
   */
  tracesBetween(fromMs: number, toMs: number): DemoTrace[] {
    const firstSlot = slotOf(fromMs - MAX_SESSION_SPAN_MS);
    const lastSlot = slotOf(toMs - 1);
    this.#dropTraces(firstSlot, lastSlot);
    const traces: DemoTrace[] = [];
    for (let index = firstSlot; index <= lastSlot; index++) {
      let slot = this.#traceSlots.get(index);
      if (!slot) {
        this.#generateSlot(index);
        slot = this.#traceSlots.get(index) ?? [];
      }
      for (const trace of slot) if (trace.startMs >= fromMs && trace.startMs < toMs) traces.push(trace);
    }
    return traces.sort((a, b) => a.startMs - b.startMs);
  }

  #dropTraces(firstSlot: number, lastSlot: number): void {
    for (const index of this.#traceSlots.keys()) {
      if (index < firstSlot || index > lastSlot) this.#traceSlots.delete(index);
    }
  }

  /** Everything that starts in one slot, in generation order (and its traces, with `traceSampling`). */
  #generateSlot(index: number): readonly DemoEvent[] {
    const out = this.#generateEvents(index);
    const sampling = valueAt(this.#traceSampling, index * SLOT_MS);
    if (sampling >= 1) this.#traceSlots.set(index, tracesOf(this, out, Math.round(sampling)));
    return out;
  }

  #generateEvents(index: number): readonly DemoEvent[] {
    const startMs = index * SLOT_MS;
    const out: DemoEvent[] = [];
    const random = Random.derive(this.seed, SLOT_TAG, index);

    const sessions = random.poisson(this.sessionRateAt(startMs));
    for (let k = 0; k < sessions; k++) {
      // Each session has its own random source, so one session's choices never shift another's.
      const sessionRandom = Random.derive(this.seed, SESSION_TAG, index, k);
      simulateSession(this, sessionRandom, startMs + Math.floor(sessionRandom.next() * SLOT_MS), out);
    }

    const intervalMs = valueAt(this.#infraIntervalMs, startMs);
    checkInfraInterval(intervalMs);
    for (let t = startMs; t < startMs + SLOT_MS; t += Math.min(intervalMs, SLOT_MS)) {
      if (t % intervalMs === 0) sampleInfrastructure(this, t, intervalMs, out);
    }

    const scale = valueAt(this.#trafficScale, startMs);
    const background = random.poisson(BACKGROUND_ERRORS_PER_MINUTE * scale * this.calendar.trafficMultiplier(startMs));
    if (background > 0) {
      const backgroundRandom = Random.derive(this.seed, BACKGROUND_TAG, index);
      for (let k = 0; k < background; k++) this.#backgroundError(backgroundRandom, startMs, out);
    }

    // Gateway health checks: their own random source, thinned with the traffic scale (gateway-health.ts).
    sampleGatewayHealth(this, startMs, SLOT_MS, scale, out);

    const cardTesting = this.conditionsAt(startMs).cardTesting;
    if (cardTesting) {
      // Its own random source: an attack adds events without shifting the shop's own traffic.
      const fraudRandom = Random.derive(this.seed, CARD_TESTING_TAG, index);
      const attempts = fraudRandom.poisson(cardTesting.attemptsPerMinute);
      for (let k = 0; k < attempts; k++) this.#cardTestingAttempt(cardTesting, fraudRandom, startMs, out);
    }
    return out;
  }

  /** One attempt of a card-testing bot: a stolen card tried on a cheap order from one of a few addresses. */
  #cardTestingAttempt(attack: CardTesting, random: Random, slotStartMs: number, out: DemoEvent[]): void {
    const startMs = slotStartMs + Math.floor(random.next() * SLOT_MS);
    const visit = { ...newVisit(this, random, startMs), ipAddress: random.pick(attack.ipAddresses) };
    const product = random.pick(this.catalog.products.filter((p) => p.price < 60));
    const currency = visit.customer.location.currency;
    const order: OrderDraft = {
      orderId: `ORD-${random.base36(10).toUpperCase()}`,
      cartId: `cart_${random.hex(12)}`,
      items: [{ product, quantity: 1, unitPriceUsd: product.price }],
      itemCount: 1,
      subtotalUsd: product.price,
      shippingUsd: 0,
      taxUsd: 0,
      totalUsd: product.price,
      currency,
      total: toCurrency(product.price, currency),
      category: product.category,
      profitMargin: product.margin,
    };
    const rec = new SessionRecorder(this, visit, random, startMs, out);
    attemptPayment(rec, order, 1, { cardLastFour: random.pick(attack.cardLastFour) });
  }

  #backgroundError(random: Random, slotStartMs: number, out: DemoEvent[]): void {
    const kind: ErrorKind = random.weighted(this.#backgroundErrorsAt(slotStartMs));
    const customer = this.customers.pickVisitor(random);
    const context = {
      gateway: random.pick(['stripe', 'paypal', 'adyen']),
      customerId: customer.id,
      orderId: `ORD-${random.base36(10).toUpperCase()}`,
    };
    const message = kind.message(context, random);
    const pod = this.podFor(kind.service, random);
    const tsMs = slotStartMs + Math.floor(random.next() * SLOT_MS);
    const service = { name: kind.service, version: this.releaseOf(kind.service, tsMs) };
    out.push({ tsMs, body: errorBody(kind, message, pod.name, message, { trace_id: random.hex(32), service }) });
  }
}
