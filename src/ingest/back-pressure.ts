/**
 * Back-pressure for ingest: every request body is admitted before it is
 * read into events, and counted until its answer (in a worker thread,
 * waiting for the group commit, being committed). A new body is refused
 * with 429 and Retry-After when
 * - the bodies admitted and not yet answered would pass `maxPendingBytes`
 *   (memory), or
 * - committing the bodies already waiting, at the rate recent requests
 *   were committed, would take longer than `maxQueueDelayMs` (latency).
 * Nothing of a refused request is read or stored, so the client retries it
 * whole. A body is always admitted when nothing else is pending, so that
 * one large request still goes through and the server never refuses
 * forever.
 *
 * The commit rate is the bytes of requests answered per second of busy time
 * (time with at least one request pending), both decayed with a 5 s time
 * constant of busy time: idle time does not change it, and under load it
 * follows within seconds.
 */
import { AppError } from '../errors.ts';

export interface BackPressureOptions {
  /** Most bytes of ingest request bodies admitted and not yet answered; 0 = no bound. */
  readonly maxPendingBytes: number;
  /** Longest the admitted work may be estimated to take to commit, ms; 0 = no bound. */
  readonly maxQueueDelayMs: number;
  /**
   * Fewer bytes than this waiting are never refused for the delay bound
   * (default 0): so little work is no queue, and a rate measured over a few
   * small requests (while a worker starts, or beside one refused for its
   * content) says nothing about how long it takes.
   */
  readonly minQueueBytes?: number;
}

/** One admitted body: call `done` exactly once, when its answer is known. */
export interface Admission {
  /** The body grew when it was decompressed: count `bytes` from now on (never refused). */
  resize(bytes: number): void;
  /** `committed`: the body's events are committed (counts towards the commit rate). */
  done(committed: boolean): void;
}

/** Time constant of the commit rate's decay, ms. */
const DECAY_MS = 5_000;
/** Less busy time than this says too little about the rate: the latency bound waits for more. */
const MIN_BUSY_MS = 20;
/** Longest Retry-After answered, s. */
const MAX_RETRY_AFTER_S = 60;

export class BackPressure {
  readonly #options: BackPressureOptions;
  readonly #now: () => number;
  #pendingBytes = 0;
  #pendingRequests = 0;
  /** Decayed bytes answered and busy time, ms: their ratio is the commit rate. */
  #doneBytes = 0;
  #busyMs = 0;
  #lastMs: number;

  constructor(options: BackPressureOptions, now: () => number = () => performance.now()) {
    this.#options = options;
    this.#now = now;
    this.#lastMs = now();
  }

  /** Bytes of bodies admitted and not yet answered. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Bytes per second committed recently; undefined before enough was measured. */
  get commitRate(): number | undefined {
    this.#advance();
    if (this.#doneBytes <= 0 || this.#busyMs < MIN_BUSY_MS) return undefined;
    return (this.#doneBytes / this.#busyMs) * 1000;
  }

  /** Admits a body of `bytes`, or throws 429 `ingest.overloaded` with Retry-After. */
  admit(bytes: number): Admission {
    this.check(bytes);
    this.#advance();
    let counted = Math.max(0, bytes);
    this.#pendingBytes += counted;
    this.#pendingRequests++;
    let finished = false;
    return {
      resize: (next) => {
        if (finished) return;
        this.#pendingBytes += Math.max(0, next) - counted;
        counted = Math.max(0, next);
      },
      done: (committed) => {
        if (finished) return;
        finished = true;
        this.#advance();
        this.#pendingBytes -= counted;
        this.#pendingRequests--;
        if (committed) this.#doneBytes += counted;
      },
    };
  }

  /** Throws what `admit` would throw for a body of `bytes`, without admitting it. */
  check(bytes: number): void {
    if (this.#pendingRequests === 0) return;
    const { maxPendingBytes, maxQueueDelayMs } = this.#options;
    const after = this.#pendingBytes + Math.max(0, bytes);
    const rate = this.commitRate;
    // The work ahead of this request: at light load this is about one request's own latency.
    const drainMs = rate === undefined ? undefined : (this.#pendingBytes / rate) * 1000;
    if (maxPendingBytes > 0 && after > maxPendingBytes) {
      throw overloaded(
        `${mib(this.#pendingBytes)} of requests are waiting to be committed and this one would pass the limit of ${mib(maxPendingBytes)} (ingest.maxPendingBytes)`,
        drainMs,
      );
    }
    const queued = this.#pendingBytes >= (this.#options.minQueueBytes ?? 0);
    if (maxQueueDelayMs > 0 && queued && drainMs !== undefined && drainMs > maxQueueDelayMs) {
      throw overloaded(
        `the ${mib(this.#pendingBytes)} of requests waiting would take about ${seconds(drainMs)} to commit, longer than the limit of ${seconds(maxQueueDelayMs)} (ingest.maxQueueDelay)`,
        drainMs,
      );
    }
  }

  /** Brings the decayed totals to now, counting busy time while anything was pending. */
  #advance(): void {
    const now = this.#now();
    const dt = now - this.#lastMs;
    if (dt <= 0) return;
    this.#lastMs = now;
    // Decayed over busy time only: after a quiet hour the last measured rate still holds.
    if (this.#pendingRequests === 0) return;
    const keep = Math.exp(-dt / DECAY_MS);
    this.#doneBytes *= keep;
    this.#busyMs = this.#busyMs * keep + dt;
  }
}

function overloaded(why: string, drainMs: number | undefined): AppError {
  const retryAfter = Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil((drainMs ?? 1000) / 1000)));
  return new AppError(
    429,
    'ingest.overloaded',
    `Shoplens is receiving more than it can commit: ${why}; nothing of this request was stored, retry it after ${retryAfter} s`,
    { headers: { 'Retry-After': String(retryAfter) } },
  );
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.ceil(ms)} ms`;
}
