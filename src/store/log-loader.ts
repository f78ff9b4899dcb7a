/**
 * The loader: moves sealed log segments into the store, oldest first, one
 * transaction each (the store records the segment id in the same
 * transaction, so a crash between the load and the file's deletion replays
 * nothing twice), then deletes the file. A failed load is retried with
 * backoff; the rows stay in the log meanwhile, so nothing is lost.
 */
import type { Logger } from 'pino';
import type { KpiDelta } from './kpis.ts';
import type { SegmentInfo } from './segment-log.ts';

/** What a load tells besides its success. */
export interface SegmentLoadOutcome {
  /** The business KPIs of the segment's rows, when the store computes them (kpis.ts). */
  readonly kpis?: readonly KpiDelta[];
}

/** What the loader needs of a store. */
export interface SegmentTarget {
  /** Loads a sealed segment in one transaction that also records `segment.id` as loaded. */
  loadSegment(segment: SegmentInfo): Promise<SegmentLoadOutcome | void>;
}

export interface LoaderObserver {
  /** After a segment was loaded: its rows and bytes, how long the load took, and what the store told of it. */
  onLoaded?(segment: SegmentInfo, seconds: number, outcome?: SegmentLoadOutcome): void;
  onFailed?(segment: SegmentInfo, err: unknown): void;
  /** Bytes of the file are no longer in the log. */
  onReleased?(bytes: number): void;
}

interface Waiter {
  readonly segment: number;
  readonly resolve: () => void;
}

const MAX_BACKOFF_MS = 5_000;

export class LogLoader {
  readonly #target: SegmentTarget;
  readonly #observer: LoaderObserver;
  readonly #logger: Logger | undefined;
  readonly #remove: (path: string) => Promise<void>;
  #queue: SegmentInfo[] = [];
  #running = false;
  #stopped = false;
  /** Every segment with an id up to this one is loaded. */
  #loadedThrough: number;
  #waiters: Waiter[] = [];
  #retryTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #lastError: unknown;
  #idle: (() => void)[] = [];

  constructor(
    target: SegmentTarget,
    loadedThrough: number,
    remove: (path: string) => Promise<void>,
    observer: LoaderObserver = {},
    logger?: Logger,
  ) {
    this.#target = target;
    this.#loadedThrough = loadedThrough;
    this.#remove = remove;
    this.#observer = observer;
    this.#logger = logger;
  }

  /** Every segment up to this id is in the store. */
  get loadedThrough(): number {
    return this.#loadedThrough;
  }

  /** Why the last load failed, while loads are failing (undefined once one succeeds). */
  get failing(): unknown {
    return this.#failures > 0 ? this.#lastError : undefined;
  }

  /** A load runs or waits. */
  get busy(): boolean {
    return this.#running || this.#queue.length > 0 || this.#retryTimer !== undefined;
  }

  /** Segments waiting for their load. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queues a sealed segment (ids arrive in ascending order). */
  enqueue(segment: SegmentInfo): void {
    this.#queue.push(segment);
    void this.#run();
  }

  /**
   * Resolves once segment `id` (and every one before it) is loaded. An id
   * that was never sealed with rows (a write that failed before any row)
   * counts as loaded once a later segment is.
   */
  loaded(id: number): Promise<void> {
    if (id <= this.#loadedThrough) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ segment: id, resolve }));
  }

  /** Resolves once nothing is loading (everything queued loaded, or a load failed). */
  idle(): Promise<void> {
    if (!this.#running && this.#queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  async #run(): Promise<void> {
    if (this.#running || this.#stopped || this.#retryTimer) return;
    this.#running = true;
    try {
      while (this.#queue.length > 0 && !this.#stopped) {
        const segment = this.#queue[0] as SegmentInfo;
        const started = performance.now();
        let outcome: SegmentLoadOutcome | void;
        try {
          outcome = await this.#target.loadSegment(segment);
        } catch (err) {
          this.#failures++;
          this.#lastError = err;
          this.#observer.onFailed?.(segment, err);
          const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(this.#failures, 6));
          this.#logger?.error(
            { err, segment: segment.id, rows: segment.rows, retryInMs: delay },
            'loading an ingest log segment into the store failed; its rows stay in the log and the load is retried',
          );
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = undefined;
            void this.#run();
          }, delay);
          this.#retryTimer.unref();
          return;
        }
        this.#failures = 0;
        this.#queue.shift();
        this.#loadedThrough = segment.id;
        this.#observer.onLoaded?.(segment, (performance.now() - started) / 1000, outcome ?? undefined);
        try {
          // Off the event loop: deleting a file of 100 MB takes milliseconds.
          await this.#remove(segment.path);
        } catch (err) {
          // Recorded as loaded: the next open deletes it without loading it again.
          this.#logger?.warn({ err, path: segment.path }, 'a loaded ingest log segment could not be deleted');
        }
        this.#observer.onReleased?.(segment.bytes);
        this.#wake();
      }
    } finally {
      this.#running = false;
      // Also after a failure: `drain` answers, and the caller sees what is still queued.
      for (const r of this.#idle.splice(0)) r();
    }
  }

  #wake(): void {
    const ready = this.#waiters.filter((w) => w.segment <= this.#loadedThrough);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.segment > this.#loadedThrough);
    for (const w of ready) w.resolve();
  }

  /** Loads what is queued (retrying failures now), then stops. */
  async drain(): Promise<void> {
    if (this.#retryTimer) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
    }
    await this.#run();
    await this.idle();
  }

  /** Stops after the load in progress; queued segments stay in the log for the next open. */
  stop(): void {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }
}
