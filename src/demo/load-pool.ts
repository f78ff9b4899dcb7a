/**
 * The load generator's pool of event templates: a few thousand realistic
 * events from a busy stretch of the simulated shop, generated once and kept
 * as NDJSON lines split around their `@timestamp` value. Re-stamping a batch
 * to the current time is then one string join, not a JSON.stringify per
 * event, so the generator's own cost per event is a few bytes copied.
 *
 * Pure: the same seed gives the same pool.
 */
import { LINE_HEAD, lineTail } from './demo-event.ts';
import { ShopSimulator } from './shop-simulator.ts';

/** Start of the default pool window: a Saturday evening in the weekly flash sale (busy, every event type). */
export const POOL_WINDOW_START_MS = Date.UTC(2024, 5, 1, 19, 0, 0);
/** Length of the default pool window: about 4,000 events at traffic scale 1. */
export const POOL_WINDOW_MS = 5 * 60_000;

export interface LoadPool {
  /**
   * Each event's line after its timestamp value: `"` then the rest of the
   * JSON object, then a newline. A line is `LINE_HEAD + timestamp + tail`.
   */
  readonly tails: readonly string[];
  /** Average bytes of one line (UTF-8) with a 24-character ISO timestamp. */
  readonly avgLineBytes: number;
  /** Events per `event.type` in the pool. */
  readonly types: Readonly<Record<string, number>>;
}

export interface LoadPoolOptions {
  readonly seed: number;
  /** Window of simulated time the pool is cut from (default: POOL_WINDOW_START_MS + POOL_WINDOW_MS). */
  readonly fromMs?: number;
  readonly toMs?: number;
  /** Traffic scale of the simulated shop (default 1). */
  readonly trafficScale?: number;
}

/** Builds the pool from the simulated shop. */
export function buildLoadPool(options: LoadPoolOptions): LoadPool {
  const fromMs = options.fromMs ?? POOL_WINDOW_START_MS;
  const toMs = options.toMs ?? fromMs + POOL_WINDOW_MS;
  const simulator = new ShopSimulator({ seed: options.seed, trafficScale: options.trafficScale ?? 1 });
  const events = simulator.eventsBetween(fromMs, toMs);
  if (events.length === 0) throw new Error('the simulated window holds no events: widen it or raise the traffic scale');
  const tails: string[] = [];
  const types: Record<string, number> = {};
  let bytes = 0;
  for (const event of events) {
    const tail = lineTail(event);
    tails.push(tail);
    bytes += Buffer.byteLength(tail) + LINE_HEAD.length + 24;
    const type = (event.body['event'] as { type?: unknown } | undefined)?.type;
    const key = typeof type === 'string' ? type : '(none)';
    types[key] = (types[key] ?? 0) + 1;
  }
  return { tails, avgLineBytes: bytes / tails.length, types };
}

/**
 * An NDJSON body of `count` pool events starting at `start` (wrapping around
 * the pool), every one stamped `timestamp` (an ISO string).
 */
export function batchBody(tails: readonly string[], start: number, count: number, timestamp: string): string {
  const n = tails.length;
  const from = start % n;
  const head = LINE_HEAD + timestamp;
  if (from + count <= n) return head + tails.slice(from, from + count).join(head);
  const parts = new Array<string>(count);
  for (let k = 0; k < count; k++) parts[k] = tails[(from + k) % n] as string;
  return head + parts.join(head);
}
