/**
 * The load generator (`shoplens demo --rate N --url URL`): drives a running
 * Shoplens server with realistic demo-shop events at a fixed rate (or as fast
 * as possible) for benchmarks. The events come from a pool generated once
 * from the simulated shop (src/demo/load-pool.ts); worker threads re-stamp
 * them to now and send NDJSON batches, so the generator's capacity does not
 * depend on the simulator's cost per event. `--dry-run` builds and paces the
 * batches without sending them: the generator's own capacity.
 */
import { InvalidArgumentError } from 'commander';
import { Worker } from 'node:worker_threads';
import { buildLoadPool } from '../demo/load-pool.ts';
import type { FromLoadWorker, LoadStats, LoadWorkerData, StatusClass, ToLoadWorker } from './load-generator-worker.ts';

const ENTRY = new URL('./load-generator-worker-entry.mjs', import.meta.url);

export interface LoadGeneratorOptions {
  /** Base URL of the server to drive (required unless dryRun). */
  readonly url?: string;
  /** Target events/s; 0 = as fast as possible. */
  readonly rate: number;
  /** Events per request (default 500). */
  readonly batch?: number;
  /** Requests in flight at most, over all threads (default 8). */
  readonly connections?: number;
  /** Stop after this long, ms (default: until the signal). */
  readonly durationMs?: number;
  /** Build and pace batches but do not send them. */
  readonly dryRun?: boolean;
  /** Seed of the simulated shop the pool is cut from. */
  readonly seed: number;
  /** Worker threads (default 1). */
  readonly threads?: number;
}

export interface LoadSummary {
  readonly elapsedMs: number;
  readonly poolEvents: number;
  readonly sentEvents: number;
  readonly sentBytes: number;
  readonly ackedEvents: number;
  readonly rejectedEvents: number;
  readonly statuses: Record<StatusClass, number>;
  readonly sentPerSec: number;
  readonly ackedPerSec: number;
  readonly mbPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly firstFailure?: string;
}

export const DEFAULT_BATCH = 500;
export const DEFAULT_CONNECTIONS = 8;

/** `--rate`: a number of events per second, or `max` (= 0) for as fast as possible. */
export function parseRate(value: string): number {
  if (value.trim().toLowerCase() === 'max') return 0;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected events per second (e.g. 5000), or max');
  return n;
}

/** Nearest-rank percentile of unsorted samples; NaN when empty. */
function percentile(samples: Float64Array, p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

class Totals {
  sentEvents = 0;
  sentBytes = 0;
  ackedEvents = 0;
  rejectedEvents = 0;
  statuses: Record<StatusClass, number> = { '200': 0, '429': 0, '503': 0, other: 0, error: 0 };
  latencies: Float64Array[] = [];

  add(s: LoadStats): void {
    this.sentEvents += s.sentEvents;
    this.sentBytes += s.sentBytes;
    this.ackedEvents += s.ackedEvents;
    this.rejectedEvents += s.rejectedEvents;
    for (const key of Object.keys(this.statuses) as StatusClass[]) this.statuses[key] += s.statuses[key];
    if (s.latenciesMs.length > 0) this.latencies.push(s.latenciesMs);
  }

  allLatencies(): Float64Array {
    const out = new Float64Array(this.latencies.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of this.latencies) {
      out.set(a, at);
      at += a.length;
    }
    return out;
  }
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => (Number.isNaN(n) ? '-' : `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`);
const statusText = (s: Record<StatusClass, number>): string =>
  `200:${s['200']} 429:${s['429']} 503:${s['503']} other:${s.other} err:${s.error}`;

/** Checks the options; throws InvalidArgumentError with a clear message. */
export function checkLoadOptions(options: LoadGeneratorOptions): void {
  if (!options.dryRun && !options.url) {
    throw new InvalidArgumentError(
      '--rate drives a running Shoplens server: give its --url (e.g. --url http://127.0.0.1:8080), or --dry-run to measure the generator alone',
    );
  }
  const batch = options.batch ?? DEFAULT_BATCH;
  const connections = options.connections ?? DEFAULT_CONNECTIONS;
  if (!Number.isInteger(batch) || batch < 1) throw new InvalidArgumentError('--batch must be a whole number above 0');
  if (!Number.isInteger(connections) || connections < 1) {
    throw new InvalidArgumentError('--connections must be a whole number above 0');
  }
  if (!(options.rate >= 0)) throw new InvalidArgumentError('--rate must be 0 (max) or more');
}

/** Runs the load generator until the duration ends or `signal` aborts; logs progress every second. */
export async function runLoadGenerator(
  options: LoadGeneratorOptions,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<LoadSummary> {
  checkLoadOptions(options);
  const batch = options.batch ?? DEFAULT_BATCH;
  const connections = options.connections ?? DEFAULT_CONNECTIONS;
  const threads = Math.max(1, Math.min(options.threads ?? 1, connections));

  const t0 = performance.now();
  const pool = buildLoadPool({ seed: options.seed });
  const types = Object.entries(pool.types)
    .sort((a, b) => b[1] - a[1])
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  log(
    `Load generator: pool of ${count(pool.tails.length)} demo-shop events (seed ${options.seed}, ~${Math.round(pool.avgLineBytes)} B each; ${types}) ` +
      `built in ${Math.round(performance.now() - t0)} ms`,
  );
  const target = options.rate === 0 ? 'max' : `${count(options.rate)} events/s`;
  log(
    `${options.dryRun ? 'Dry run (nothing sent)' : `→ ${options.url}/api/v1/events`}: target ${target}, batches of ${batch}, ` +
      `${connections} connections, ${threads} thread${threads > 1 ? 's' : ''}, ` +
      (options.durationMs === undefined ? 'until Ctrl-C' : `for ${options.durationMs / 1000} s`),
  );

  const totals = new Totals();
  let window = new Totals();
  let firstFailure: string | undefined;
  const workers: Worker[] = [];
  const finished: Promise<void>[] = [];
  const ready: Promise<void>[] = [];
  let doneThreads = 0;
  for (let i = 0; i < threads; i++) {
    const share = Math.floor(connections / threads) + (i < connections % threads ? 1 : 0);
    const data: LoadWorkerData = {
      ...(options.url === undefined || options.dryRun ? {} : { url: options.url }),
      tails: pool.tails,
      rate: options.rate / threads,
      batch,
      connections: share,
      ...(options.durationMs === undefined ? {} : { durationMs: options.durationMs }),
      dryRun: options.dryRun ?? false,
      startIndex: Math.floor((pool.tails.length * i) / threads),
    };
    const worker = new Worker(ENTRY, { workerData: data });
    workers.push(worker);
    let onReady = (): void => {};
    ready.push(new Promise<void>((resolve) => (onReady = resolve)));
    finished.push(
      new Promise<void>((resolve, reject) => {
        let done = false;
        worker.on('message', (s: FromLoadWorker) => {
          if (s.type === 'ready') {
            onReady();
            return;
          }
          totals.add(s);
          window.add(s);
          firstFailure ??= s.firstFailure;
          if (s.type === 'stats') onStats();
          if (s.type === 'done') {
            doneThreads++;
            done = true;
            resolve();
          }
        });
        worker.once('error', reject);
        worker.once('exit', (code) => {
          if (!done) reject(new Error(`load generator thread exited with code ${code} before finishing`));
        });
      }),
    );
  }

  let started = performance.now();
  let windowStart = started;
  let reports = 0;
  /** One progress line per second: when every running thread has sent its counters for the second. */
  const onStats = (): void => {
    if (++reports < workers.length - doneThreads) return;
    reports = 0;
    const now = performance.now();
    const seconds = (now - windowStart) / 1000;
    const lat = window.allLatencies();
    log(
      `load ${((now - started) / 1000).toFixed(0).padStart(4)} s | target ${target} | sent ${count(window.sentEvents / seconds)} ev/s` +
        (options.dryRun
          ? ` (${(window.sentBytes / 1e6 / seconds).toFixed(1)} MB/s)`
          : ` | acked ${count(window.ackedEvents / seconds)} ev/s | ${statusText(window.statuses)} | p50 ${ms(percentile(lat, 50))} p99 ${ms(percentile(lat, 99))}`),
    );
    window = new Totals();
    windowStart = now;
  };
  const stop = (): void => {
    for (const worker of workers) worker.postMessage({ type: 'stop' } satisfies ToLoadWorker);
  };
  signal.addEventListener('abort', stop, { once: true });
  try {
    // Threads start together once all have loaded; a failed thread rejects `finished` instead.
    await Promise.race([Promise.all(ready), Promise.all(finished)]);
    for (const worker of workers) worker.postMessage({ type: 'start' } satisfies ToLoadWorker);
    if (signal.aborted) stop();
    started = windowStart = performance.now();
    await Promise.all(finished);
  } finally {
    signal.removeEventListener('abort', stop);
    await Promise.all(workers.map((w) => w.terminate()));
  }

  const elapsedMs = performance.now() - started;
  const seconds = elapsedMs / 1000;
  const latencies = totals.allLatencies();
  const summary: LoadSummary = {
    elapsedMs,
    poolEvents: pool.tails.length,
    sentEvents: totals.sentEvents,
    sentBytes: totals.sentBytes,
    ackedEvents: totals.ackedEvents,
    rejectedEvents: totals.rejectedEvents,
    statuses: totals.statuses,
    sentPerSec: totals.sentEvents / seconds,
    ackedPerSec: totals.ackedEvents / seconds,
    mbPerSec: totals.sentBytes / 1e6 / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
  log(
    `Load run ${seconds.toFixed(1)} s: ${options.dryRun ? 'generated' : 'sent'} ${count(summary.sentEvents)} events ` +
      `(${count(summary.sentPerSec)} events/s, ${summary.mbPerSec.toFixed(1)} MB/s)` +
      (options.dryRun
        ? ''
        : `; acknowledged ${count(summary.ackedEvents)} (${count(summary.ackedPerSec)} events/s), ` +
          `${count(summary.rejectedEvents)} rejected; answers ${statusText(summary.statuses)}; ` +
          `latency p50 ${ms(summary.p50Ms)} p99 ${ms(summary.p99Ms)}` +
          (firstFailure === undefined ? '' : `; first failure: ${firstFailure}`)),
  );
  return summary;
}
