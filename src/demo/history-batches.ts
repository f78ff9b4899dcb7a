/**
 * A window of the shop's history as NDJSON bodies, ready to hand to ingest:
 * chunk by chunk of simulated time (newest chunk first, events inside a
 * chunk in time order), each chunk cut into bodies of at most `batchSize`
 * events. The same events, in the same order and byte for byte, as
 * `backfill` sends as objects; but each event is stringified once, straight
 * into its line, so a thread can make them without a round trip through
 * objects and `JSON.stringify` of a copy.
 */
import { IsoClock } from './iso-clock.ts';
import { windowBytes } from './slot-lines.ts';
import type { ShopSimulator } from './shop-simulator.ts';
import type { DemoTrace } from './traces.ts';

/** One body of history. */
export interface HistoryBatch {
  /** UTF-8 NDJSON lines, each with its newline, in a buffer of its own; empty when the chunk held no events. */
  readonly body: Uint8Array;
  readonly events: number;
  /** On the last body of a chunk, with the simulator's `traceSampling`: the traces that start in the chunk. */
  readonly traces?: readonly DemoTrace[];
  /** Set on the last body of a chunk: the chunk is done. */
  readonly chunk?: {
    /** The oldest time stored so far (newest first) or the newest (oldest first), epoch ms. */
    readonly reachedMs: number;
    /** Share of the window done, 0-1. */
    readonly fraction: number;
  };
}

export interface HistoryBatchOptions {
  readonly fromMs: number;
  readonly toMs: number;
  /** Simulated time generated per chunk (default one hour). */
  readonly chunkMs?: number;
  /** Events per body (default 5,000). */
  readonly batchSize?: number;
  /** Newest chunk first (default false: oldest first). */
  readonly newestFirst?: boolean;
}

/**
 * The bodies of [fromMs, toMs), generated lazily: a consumer that stops
 * pulling stops the generation. Uses `simulator.linesBetween`: give it a
 * simulator of its own.
 */
export function* historyBatches(simulator: ShopSimulator, options: HistoryBatchOptions): Generator<HistoryBatch> {
  const chunkMs = options.chunkMs ?? 3_600_000;
  const batchSize = options.batchSize ?? 5_000;
  const total = Math.max(1, options.toMs - options.fromMs);
  const chunks = Math.ceil(total / chunkMs);
  const clock = new IsoClock();
  let done = 0;
  for (let k = 0; k < chunks; k++) {
    const from = options.newestFirst
      ? Math.max(options.fromMs, options.toMs - (k + 1) * chunkMs)
      : options.fromMs + k * chunkMs;
    const to = options.newestFirst ? options.toMs - k * chunkMs : Math.min(options.toMs, from + chunkMs);
    const events = simulator.linesBetween(from, to);
    const traces = simulator.tracesBetween(from, to);
    done += to - from;
    const chunk = { reachedMs: options.newestFirst ? from : to, fraction: done / total };
    const last = { chunk, ...(traces.length > 0 ? { traces } : {}) };
    if (events.length === 0) yield { body: new Uint8Array(0), events: 0, ...last };
    for (let i = 0; i < events.length; i += batchSize) {
      const end = Math.min(events.length, i + batchSize);
      yield { body: windowBytes(events, i, end, clock), events: end - i, ...(end === events.length ? last : {}) };
    }
  }
}
