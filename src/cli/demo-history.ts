/**
 * The demo's history backfill: what the store is missing of the last
 * `--history`, filled newest first at the live traffic's density. The part
 * the first screens show (the last few hours) is stored before live traffic
 * starts; the older part follows in the background while live traffic runs.
 *
 * The events are made in a worker thread (demo-history-worker.ts) from the
 * run's shop as data, so they are the run's own events, and arrive here as
 * NDJSON bytes: this thread only hands them to ingest (the product's path:
 * parse, redact, normalise, commit), a few bodies at a time.
 */
import { Worker } from 'node:worker_threads';
import { Deliveries, summary, type NdjsonSink } from '../demo/demo-runner.ts';
import type { DemoShopWithIncidents } from '../demo/demo-shop.ts';
import type { FromHistoryWorker, HistoryCredit, HistoryWorkerData } from './demo-history-worker.ts';

const ENTRY = new URL('./demo-history-worker-entry.mjs', import.meta.url);

/** A window of history still to store, epoch ms, [fromMs, toMs). */
export interface HistoryGap {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * Splits the missing windows at `readyFromMs`: what lies after it is stored
 * before live traffic starts, the rest in the background. Both lists are
 * newest first.
 */
export function splitHistory(
  gaps: readonly HistoryGap[],
  readyFromMs: number,
): { readonly ready: HistoryGap[]; readonly background: HistoryGap[] } {
  const ready: HistoryGap[] = [];
  const background: HistoryGap[] = [];
  for (const gap of [...gaps].sort((a, b) => b.toMs - a.toMs)) {
    if (gap.toMs > readyFromMs) ready.push({ fromMs: Math.max(gap.fromMs, readyFromMs), toMs: gap.toMs });
    if (gap.fromMs < readyFromMs) background.push({ fromMs: gap.fromMs, toMs: Math.min(gap.toMs, readyFromMs) });
  }
  return { ready, background };
}

export interface HistoryRunOptions {
  readonly signal: AbortSignal;
  /** One line per message. */
  readonly log: (line: string) => void;
  /** A progress line to redraw in place (a terminal); without it, `log` gets one every `reportEvery`. */
  readonly progress?: ((line: string) => void) | undefined;
  /** Share of a window between two progress lines sent to `log` (default 0.1). */
  readonly reportEvery?: number;
  /** Names the part in its lines, e.g. "recent history". */
  readonly label: string;
  /** Simulated time per chunk (default one hour) and events per body (default 5,000). */
  readonly chunkMs?: number;
  readonly batchSize?: number;
  /** Bodies on their way to the store at once (default 4). */
  readonly maxInFlight?: number;
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const minuteOf = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** The worker's messages in order; ends after 'done', throws on 'error' or a dead worker. */
class HistoryWorker {
  readonly #worker: Worker;
  readonly #queue: FromHistoryWorker[] = [];
  #wake: (() => void) | undefined;
  #failure: Error | undefined;

  constructor(data: HistoryWorkerData) {
    this.#worker = new Worker(ENTRY, { workerData: data });
    this.#worker.on('message', (message: FromHistoryWorker) => this.#push(message));
    this.#worker.on('error', (err) => this.#fail(err));
    this.#worker.on('exit', (code) => this.#fail(new Error(`the history worker stopped (exit code ${code})`)));
  }

  #push(message: FromHistoryWorker): void {
    if (message.type === 'error') return this.#fail(new Error(`the history worker failed: ${message.message}`));
    this.#queue.push(message);
    this.#wake?.();
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    this.#wake?.();
  }

  async next(): Promise<FromHistoryWorker> {
    for (;;) {
      const message = this.#queue.shift();
      if (message) return message;
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }

  /** One more body may be made. */
  credit(): void {
    this.#worker.postMessage({ type: 'credit' } satisfies HistoryCredit);
  }

  async stop(): Promise<void> {
    this.#worker.removeAllListeners('exit');
    await this.#worker.terminate();
  }
}

/** Stores the windows newest first; resolves with the events stored (stops early when aborted). */
export async function fillHistory(
  shop: DemoShopWithIncidents,
  sink: NdjsonSink,
  gaps: readonly HistoryGap[],
  options: HistoryRunOptions,
): Promise<number> {
  if (gaps.length === 0 || options.signal.aborted) return 0;
  const reportEvery = options.reportEvery ?? 0.1;
  const maxInFlight = options.maxInFlight ?? 4;
  const worker = new HistoryWorker({
    shop,
    gaps,
    ...(options.chunkMs === undefined ? {} : { chunkMs: options.chunkMs }),
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ahead: maxInFlight,
  });
  let stored = 0;
  try {
    for (let gap = 0; gap < gaps.length && !options.signal.aborted; gap++) {
      stored += await fillGap(worker, sink, gaps[gap] as HistoryGap, options, { reportEvery, maxInFlight });
    }
  } finally {
    await worker.stop();
  }
  return stored;
}

async function fillGap(
  worker: HistoryWorker,
  sink: NdjsonSink,
  gap: HistoryGap,
  options: HistoryRunOptions,
  settings: { readonly reportEvery: number; readonly maxInFlight: number },
): Promise<number> {
  const started = performance.now();
  const deliveries = new Deliveries(
    (batch: { body: Uint8Array; events: number }) => sink.sendNdjson(batch.body, batch.events),
    settings.maxInFlight,
  );
  const spanDeliveries = new Deliveries(
    (batch: { body: Uint8Array; spans: number }) =>
      sink.sendOtlpTraces?.(batch.body, batch.spans) ?? Promise.resolve({ accepted: 0, rejected: 0 }),
    settings.maxInFlight,
  );
  let sent = 0;
  let nextReport = settings.reportEvery;
  for (;;) {
    const message = await worker.next();
    if (message.type === 'gap') {
      options.log(
        `Backfilling the ${options.label}: ${minuteOf(gap.fromMs)} → ${minuteOf(gap.toMs)} UTC, newest first…`,
      );
      continue;
    }
    if (message.type !== 'batch') break;
    if (message.events > 0) await deliveries.send(message);
    if (message.spans && sink.sendOtlpTraces) await spanDeliveries.send(message.spans);
    worker.credit();
    sent += message.events;
    if (message.chunk) {
      const { fraction, reachedMs } = message.chunk;
      const elapsedMs = performance.now() - started;
      const line = `backfill ${String(Math.floor(fraction * 100)).padStart(3)}% | back to ${minuteOf(reachedMs)} | ${count(sent)} events | ${count(sent / Math.max(elapsedMs / 1000, 0.001))} events/s`;
      if (options.progress) options.progress(line);
      else if (fraction >= nextReport) {
        options.log(line);
        // The epsilon keeps 0.6 / 0.1 = 5.999… from reporting the same tenth twice.
        nextReport = (Math.floor(fraction / settings.reportEvery + 1e-9) + 1) * settings.reportEvery;
      }
      // The last chunk of this window: the next message is the next window's (or 'done').
      if (fraction >= 1 || options.signal.aborted) break;
    }
  }
  await deliveries.drain();
  await spanDeliveries.drain();
  // Backfilled means on the dashboards: the last rows are made visible now rather than within a second.
  await sink.flush?.();
  const result = summary(deliveries, started);
  options.log(
    `Backfilled ${count(result.accepted)} events` +
      (spanDeliveries.accepted > 0 ? ` and ${count(spanDeliveries.accepted)} spans` : '') +
      ` of the ${options.label} in ${(result.elapsedMs / 1000).toFixed(1)} s` +
      (result.rejected > 0 ? `; ${result.rejected} rejected, first: ${result.firstRejection}` : ''),
  );
  return result.accepted;
}
