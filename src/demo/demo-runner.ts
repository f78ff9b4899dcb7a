/**
 * Drives the simulated shop into a sink: a backfill of history as fast as
 * the sink takes it, then live traffic on the wall clock. The sink is
 * whatever stores events (the in-process ingest pipeline, or a running
 * server over HTTP); it lives in the CLI, since `demo/` imports nothing but
 * the schema.
 *
 * Live traffic may run as a time-lapse: at `speed` 10 the shop lives ten
 * minutes per wall-clock minute, and each event is stamped on the wall clock
 * (`start + (t - start) / speed`), so timestamps never run ahead of now.
 */
import { toRawEvent, type DemoEvent } from './demo-event.ts';
import type { ShopSimulator } from './shop-simulator.ts';
import type { DemoTrace } from './traces.ts';

/** What a sink reports for one delivery. */
export interface SinkResult {
  readonly accepted: number;
  readonly rejected: number;
  /** The first rejection's message, to show the user. */
  readonly firstRejection?: string;
}

/** Stores raw events; resolves once they are durably stored (or rejects). */
export interface EventSink {
  send(events: readonly Record<string, unknown>[]): Promise<SinkResult>;
  /**
   * Stores traces (as OTLP spans); `shiftMsOf` says how far each trace moves
   * (a time-lapse puts it on the wall clock). Absent: the sink keeps no traces.
   * `accepted` and `rejected` count spans.
   */
  sendTraces?(traces: readonly DemoTrace[], shiftMsOf?: (trace: DemoTrace) => number): Promise<SinkResult>;
  /** Resolves once everything stored so far is visible to queries (stored data is, within a second). */
  flush?(): Promise<void>;
}

export interface BackfillProgress {
  /** Simulated time reached (the oldest time stored so far when newest first), epoch ms. */
  readonly reachedMs: number;
  /** Share of the window done, 0-1. */
  readonly fraction: number;
  /** Events handed to the sink so far (some may still be on their way). */
  readonly sent: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly elapsedMs: number;
}

export interface BackfillOptions {
  readonly fromMs: number;
  readonly toMs: number;
  /** Simulated time generated per step (default one hour). */
  readonly chunkMs?: number;
  /** Events per delivery (default 5,000). */
  readonly batchSize?: number;
  /** Deliveries in flight at once, so generation overlaps storage and ingest workers (default 4). */
  readonly maxInFlight?: number;
  /**
   * Newest chunk first (default false: oldest first). Events inside a chunk
   * stay in time order. The demo fills its history backwards, so the recent
   * hours that the first screens show are stored first and an interrupted
   * backfill leaves one gap at the old end, which the next run fills.
   */
  readonly newestFirst?: boolean;
  /** Called after each chunk is delivered. */
  readonly onProgress?: (progress: BackfillProgress) => void;
  /** Stops between chunks when aborted. */
  readonly signal?: AbortSignal;
}

export interface DeliverySummary {
  /** Spans stored (the sink's `sendTraces`), when the run sent traces. */
  readonly spans?: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly firstRejection?: string;
  readonly elapsedMs: number;
}

/**
 * Stores NDJSON bodies as they are: the history made in a worker thread
 * (src/cli/demo-history.ts) comes as bytes, so nothing is parsed or
 * stringified again on the way in.
 */
export interface NdjsonSink {
  /** Stores the `events` lines of `body` (UTF-8 NDJSON); resolves once they are durably stored (or rejects). */
  sendNdjson(body: Uint8Array, events: number): Promise<SinkResult>;
  /** Stores an OTLP/HTTP protobuf ExportTraceServiceRequest of `spans` spans. Absent: no traces. */
  sendOtlpTraces?(body: Uint8Array, spans: number): Promise<SinkResult>;
  /** Resolves once everything stored so far is visible to queries. */
  flush?(): Promise<void>;
}

/** Tallies deliveries and keeps a bounded number in flight; `deliver` stores one batch. */
export class Deliveries<T> {
  accepted = 0;
  rejected = 0;
  firstRejection: string | undefined;
  readonly #deliver: (batch: T) => Promise<SinkResult>;
  readonly #maxInFlight: number;
  readonly #inFlight = new Set<Promise<void>>();
  #failure: unknown;

  constructor(deliver: (batch: T) => Promise<SinkResult>, maxInFlight: number) {
    this.#deliver = deliver;
    this.#maxInFlight = maxInFlight;
  }

  /** Starts delivering `batch` once fewer than `maxInFlight` are on their way; rejects if one failed. */
  async send(batch: T): Promise<void> {
    while (this.#inFlight.size >= this.#maxInFlight) await Promise.race(this.#inFlight);
    this.#throwIfFailed();
    const delivery: Promise<void> = this.#deliver(batch).then(
      (result) => {
        this.accepted += result.accepted;
        this.rejected += result.rejected;
        this.firstRejection ??= result.firstRejection;
      },
      (err: unknown) => {
        this.#failure ??= err;
      },
    );
    const tracked = delivery.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }

  /** Waits for every delivery on its way; rejects if one failed. */
  async drain(): Promise<void> {
    await Promise.all(this.#inFlight);
    this.#throwIfFailed();
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }
}

/**
 * Sends every event of [fromMs, toMs) to the sink chunk by chunk, in time
 * order (or newest chunk first with `newestFirst`). Rejects on the first
 * failed delivery.
 */
export async function backfill(
  simulator: ShopSimulator,
  sink: EventSink,
  options: BackfillOptions,
): Promise<DeliverySummary> {
  const started = performance.now();
  const chunkMs = options.chunkMs ?? 3_600_000;
  const batchSize = options.batchSize ?? 5_000;
  const deliveries = new Deliveries(
    (events: readonly Record<string, unknown>[]) => sink.send(events),
    options.maxInFlight ?? 4,
  );
  const traceDeliveries = new Deliveries(
    (traces: readonly DemoTrace[]) => sink.sendTraces?.(traces) ?? Promise.resolve({ accepted: 0, rejected: 0 }),
    options.maxInFlight ?? 4,
  );
  const total = Math.max(1, options.toMs - options.fromMs);
  let sent = 0;
  let done = 0;
  const chunks = Math.ceil(total / chunkMs);
  for (let k = 0; k < chunks && !options.signal?.aborted; k++) {
    const from = options.newestFirst
      ? Math.max(options.fromMs, options.toMs - (k + 1) * chunkMs)
      : options.fromMs + k * chunkMs;
    const to = options.newestFirst ? options.toMs - k * chunkMs : Math.min(options.toMs, from + chunkMs);
    const events = simulator.eventsBetween(from, to);
    for (let i = 0; i < events.length; i += batchSize) {
      await deliveries.send(events.slice(i, i + batchSize).map((event) => toRawEvent(event)));
    }
    const traces = sink.sendTraces ? simulator.tracesBetween(from, to) : [];
    if (traces.length > 0) await traceDeliveries.send(traces);
    sent += events.length;
    done += to - from;
    options.onProgress?.({
      reachedMs: options.newestFirst ? from : to,
      fraction: done / total,
      sent,
      accepted: deliveries.accepted,
      rejected: deliveries.rejected,
      elapsedMs: performance.now() - started,
    });
  }
  await deliveries.drain();
  await traceDeliveries.drain();
  // A backfill that resolved is there to see: its last events are made visible now, not within a second.
  await sink.flush?.();
  return { ...summary(deliveries, started), spans: traceDeliveries.accepted };
}

/** What was delivered since `started` (a `performance.now()`). */
export function summary(
  totals: { accepted: number; rejected: number; firstRejection: string | undefined },
  started: number,
): DeliverySummary {
  return {
    accepted: totals.accepted,
    rejected: totals.rejected,
    ...(totals.firstRejection === undefined ? {} : { firstRejection: totals.firstRejection }),
    elapsedMs: performance.now() - started,
  };
}

export interface LiveTick {
  /** Wall-clock time of the tick, epoch ms. */
  readonly wallMs: number;
  /** Simulated time reached. */
  readonly simulatedMs: number;
  /** Events sent in this tick. */
  readonly events: number;
  readonly accepted: number;
  readonly rejected: number;
}

export interface LiveOptions {
  /** Wall-clock and simulated time where live traffic starts (the end of the backfill), epoch ms. */
  readonly startMs: number;
  /** Simulated time per wall-clock time (1 = real time). */
  readonly speed: number;
  /** Time between deliveries, ms (default 1,000). */
  readonly tickMs?: number;
  /** Stop at this wall-clock time (default: run until aborted). */
  readonly untilMs?: number;
  readonly signal?: AbortSignal;
  /** The clock (default Date.now); injectable for tests. */
  readonly now?: () => number;
  /** Waits `ms` or until the signal aborts (default: a timer). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly onTick?: (tick: LiveTick) => void;
  /** A delivery failed; live traffic goes on. Default: rethrow. */
  readonly onError?: (err: unknown, lostEvents: number) => void;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Where an event of simulated time `tsMs` lands on the wall clock. */
export function wallClockOf(tsMs: number, startMs: number, speed: number): number {
  return Math.round(startMs + (tsMs - startMs) / speed);
}

/** Streams live traffic until aborted (or `untilMs`): each tick sends what the shop did since the last one. */
export async function streamLive(
  simulator: ShopSimulator,
  sink: EventSink,
  options: LiveOptions,
): Promise<DeliverySummary> {
  if (!(options.speed > 0)) throw new Error(`speed must be > 0, got ${options.speed}`);
  const started = performance.now();
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const tickMs = options.tickMs ?? 1_000;
  const totals = { accepted: 0, rejected: 0, firstRejection: undefined as string | undefined };
  let spans = 0;
  let cursor = options.startMs;
  const shiftMsOf = (trace: DemoTrace): number =>
    wallClockOf(trace.startMs, options.startMs, options.speed) - trace.startMs;
  while (!options.signal?.aborted) {
    await sleep(tickMs, options.signal);
    const wallMs = options.untilMs === undefined ? now() : Math.min(now(), options.untilMs);
    const simulatedMs = options.startMs + (wallMs - options.startMs) * options.speed;
    const events: DemoEvent[] = simulatedMs > cursor ? simulator.eventsBetween(cursor, simulatedMs) : [];
    const traces = simulatedMs > cursor && sink.sendTraces ? simulator.tracesBetween(cursor, simulatedMs) : [];
    cursor = Math.max(cursor, simulatedMs);
    if (events.length > 0) {
      const raw = events.map((e) => toRawEvent(e, wallClockOf(e.tsMs, options.startMs, options.speed)));
      try {
        const result = await sink.send(raw);
        totals.accepted += result.accepted;
        totals.rejected += result.rejected;
        totals.firstRejection ??= result.firstRejection;
      } catch (err) {
        if (!options.onError) throw err;
        options.onError(err, raw.length);
      }
    }
    if (traces.length > 0 && sink.sendTraces) {
      try {
        spans += (await sink.sendTraces(traces, shiftMsOf)).accepted;
      } catch (err) {
        if (!options.onError) throw err;
        options.onError(err, 0);
      }
    }
    options.onTick?.({
      wallMs,
      simulatedMs,
      events: events.length,
      accepted: totals.accepted,
      rejected: totals.rejected,
    });
    if (options.untilMs !== undefined && wallMs >= options.untilMs) break;
  }
  return { ...summary(totals, started), ...(sink.sendTraces ? { spans } : {}) };
}
