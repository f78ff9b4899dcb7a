/**
 * Group commit: requests that arrive while a commit runs (or within
 * `maxWaitMs` of the first) are appended to the store as one batch,
 * committed once, then all acknowledged. The queue is bounded: beyond
 * `maxQueuedEvents` a submit fails at once with 429 and Retry-After, so memory
 * stays bounded under overload and nothing is dropped silently. (Ingest
 * requests are refused earlier, by bytes and estimated commit delay:
 * ingest/back-pressure.ts; this bound is the last line.)
 */
import { AppError } from '../errors.ts';
import type { StoredEvent } from '../schema/record.ts';
import type { Store } from './store.ts';

export interface GroupCommitOptions {
  /** Most events in one commit (a single larger request still commits alone). */
  readonly maxBatchEvents: number;
  /** How long the first request of a batch waits for company, ms. */
  readonly maxWaitMs: number;
  /** Most events waiting for commit. */
  readonly maxQueuedEvents: number;
}

export interface GroupCommitObserver {
  /** After each commit attempt: events in the batch, seconds it took, whether it succeeded. */
  onCommit?(events: number, seconds: number, ok: boolean): void;
  /** Whenever the number of waiting events changes. */
  onQueueDepth?(events: number): void;
}

interface Pending {
  readonly events: readonly StoredEvent[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class GroupCommitWriter {
  readonly #store: Store;
  readonly #options: GroupCommitOptions;
  readonly #observer: GroupCommitObserver;
  #queue: Pending[] = [];
  #queued = 0;
  #committing = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(store: Store, options: GroupCommitOptions, observer: GroupCommitObserver = {}) {
    this.#store = store;
    this.#options = options;
    this.#observer = observer;
  }

  /** Events waiting for commit now. */
  get queuedEvents(): number {
    return this.#queued;
  }

  /** Resolves once `events` are durably committed; rejects (429) when the queue is full, (503) when the commit failed. */
  submit(events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    if (this.#closed) {
      return Promise.reject(
        new AppError(503, 'ingest.shutting_down', 'Shoplens is shutting down; retry shortly', {
          headers: { 'Retry-After': '5' },
        }),
      );
    }
    if (this.#queued + events.length > this.#options.maxQueuedEvents && this.#queued > 0) {
      return Promise.reject(
        new AppError(
          429,
          'ingest.overloaded',
          `The ingest queue is full (${this.#queued} events waiting for commit, limit ${this.#options.maxQueuedEvents}); retry after a second`,
          { headers: { 'Retry-After': '1' } },
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      this.#queued += events.length;
      this.#observer.onQueueDepth?.(this.#queued);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#committing || this.#timer) return;
    if (this.#queued >= this.#options.maxBatchEvents || this.#options.maxWaitMs <= 0) {
      this.#timer = setTimeout(() => void this.#commit(), 0);
    } else {
      this.#timer = setTimeout(() => void this.#commit(), this.#options.maxWaitMs);
    }
  }

  async #commit(): Promise<void> {
    this.#timer = undefined;
    if (this.#committing || this.#queue.length === 0) return;
    this.#committing = true;
    const batch: Pending[] = [];
    let count = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0] as Pending;
      if (batch.length > 0 && count + next.events.length > this.#options.maxBatchEvents) break;
      batch.push(next);
      count += next.events.length;
      this.#queue.shift();
    }
    const events = batch.length === 1 ? (batch[0] as Pending).events : batch.flatMap((p) => p.events);
    const started = performance.now();
    try {
      await this.#store.appendEvents(events);
      this.#observer.onCommit?.(count, (performance.now() - started) / 1000, true);
      for (const p of batch) p.resolve();
    } catch (err) {
      this.#observer.onCommit?.(count, (performance.now() - started) / 1000, false);
      for (const p of batch) p.reject(err);
    } finally {
      this.#queued -= count;
      this.#observer.onQueueDepth?.(this.#queued);
      this.#committing = false;
      // What arrived during the commit goes next, without waiting: that is the group.
      if (this.#queue.length > 0) this.#timer = setTimeout(() => void this.#commit(), 0);
    }
  }

  /** Commits everything queued, then refuses new work. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#queue.length > 0 || this.#committing) {
      if (!this.#committing && !this.#timer) this.#schedule();
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
