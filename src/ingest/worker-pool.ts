/**
 * A small pool of ingest worker threads (src/ingest/ingest-worker.ts). Tasks
 * go to the worker with the fewest in flight. A worker that dies fails its
 * tasks with 503 (the client retries) and is replaced. Workers start with
 * the first task and stop after `idleMs` without one, so that an idle server
 * does not hold their memory (about 20 MB each at start, 50 MB or more once
 * they have parsed a few hundred MB: V8 grows a busy heap before collecting
 * it). Starting one again costs about a tenth of a second.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import type { RowLine } from '../schema/record.ts';
import type { LogRecord } from '../store/segment-log.ts';
import type { ItemRejection, PreparedEvents } from './events-ndjson.ts';
import type { WorkerAnswer, WorkerTask } from './ingest-worker.ts';
import type { IngestContext } from './normalizer.ts';

/** A body prepared into one block of rows ready for the ingest log. */
export interface PreparedRows {
  readonly record: LogRecord;
  readonly rejected: ItemRejection[];
  readonly redactions: Record<string, number>;
}

interface Pending {
  readonly resolve: (prepared: PreparedEvents & { block?: LogRecord }) => void;
  readonly reject: (err: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  dead: boolean;
  /** Stopped for being idle: its exit is no failure. */
  retired: boolean;
}

/** Workers stop after this long without a task. */
const IDLE_MS = 5_000;

const ENTRY = new URL('./ingest-worker-entry.mjs', import.meta.url);

export class IngestWorkerPool {
  readonly #config: Config['ingest'];
  readonly #privacy: Config['privacy'] | undefined;
  readonly #logger: Logger | undefined;
  readonly #size: number;
  readonly #idleMs: number;
  #slots: Slot[] = [];
  #nextId = 0;
  #closed = false;
  #idleTimer: NodeJS.Timeout | undefined;

  /**
   * Hears the time each task took in its worker and the CPU time its thread spent on it, s (for
   * `shoplens_ingest_stage_seconds_total` and `shoplens_ingest_stage_cpu_seconds_total`).
   */
  onBusy: ((seconds: number, cpuSeconds: number | undefined) => void) | undefined;

  constructor(
    size: number,
    config: Config['ingest'],
    logger?: Logger,
    privacy?: Config['privacy'],
    idleMs: number = IDLE_MS,
  ) {
    this.#config = config;
    this.#privacy = privacy;
    this.#logger = logger;
    this.#size = size;
    this.#idleMs = idleMs;
  }

  get size(): number {
    return this.#size;
  }

  /** Workers running now (0 until the first task, and again after `idleMs` without one). */
  get running(): number {
    return this.#slots.length;
  }

  #idleCheck(): void {
    if (this.#idleTimer || this.#closed) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#slots.some((s) => s.pending.size > 0)) return this.#idleCheck();
      const slots = this.#slots;
      this.#slots = [];
      for (const s of slots) {
        s.retired = true;
        void s.worker.terminate();
      }
    }, this.#idleMs);
    this.#idleTimer.unref();
  }

  #spawn(): Slot {
    const slot: Slot = {
      worker: new Worker(ENTRY, { workerData: { ingest: this.#config, privacy: this.#privacy } }),
      pending: new Map(),
      dead: false,
      retired: false,
    };
    slot.worker.on('message', (answer: WorkerAnswer) => {
      const p = slot.pending.get(answer.id);
      if (!p) return;
      slot.pending.delete(answer.id);
      if (slot.pending.size === 0) this.#idleCheck();
      if (answer.ok) {
        this.onBusy?.(answer.seconds, answer.cpuSeconds);
        const b = answer.block;
        p.resolve({
          ...(b
            ? {
                block: {
                  body: Buffer.from(b.body.buffer, b.body.byteOffset, b.body.byteLength),
                  rows: b.rows,
                  minTsUs: b.minTsUs,
                  maxTsUs: b.maxTsUs,
                  crc: b.crc,
                },
              }
            : {}),
          rows: answer.rows as RowLine[],
          rejected: answer.rejected as ItemRejection[],
          redactions: answer.redactions,
          eventTypes: answer.eventTypes,
        });
      } else {
        const e = answer.error;
        p.reject(new AppError(e.status, e.code, e.message, { details: e.details, headers: e.headers }));
      }
    });
    const fail = (reason: string) => {
      if (slot.dead || slot.retired) return; // 'error' is followed by 'exit'
      slot.dead = true;
      for (const p of slot.pending.values()) {
        p.reject(
          new AppError(503, 'ingest.worker_failed', `An ingest worker stopped (${reason}); retry the request`, {
            headers: { 'Retry-After': '1' },
          }),
        );
      }
      slot.pending.clear();
      if (this.#closed) return;
      this.#logger?.error({ reason }, 'ingest worker stopped; starting a new one');
      const at = this.#slots.indexOf(slot);
      if (at !== -1) this.#slots[at] = this.#spawn();
    };
    slot.worker.on('error', (err) => fail(err.message));
    slot.worker.on('exit', (code) => {
      if (!this.#closed) fail(`exit code ${code}`);
    });
    return slot;
  }

  /** Reads, normalises and serialises a decoded body in a worker. */
  run(body: Buffer, contentType: string | undefined, ctx: IngestContext): Promise<PreparedEvents> {
    return this.#run(body, contentType, ctx, false);
  }

  /** As run, answering the rows as one block ready for the ingest log. */
  async runEncoded(body: Buffer, contentType: string | undefined, ctx: IngestContext): Promise<PreparedRows> {
    const { block, rejected, redactions, eventTypes } = await this.#run(body, contentType, ctx, true);
    if (!block) throw new Error('the ingest worker answered no block');
    return { record: { ...block, summary: { tenant: ctx.tenant, eventTypes } }, rejected, redactions };
  }

  #run(
    body: Buffer,
    contentType: string | undefined,
    ctx: IngestContext,
    encode: boolean,
  ): Promise<PreparedEvents & { block?: LogRecord }> {
    if (this.#closed)
      return Promise.reject(new AppError(503, 'ingest.shutting_down', 'Shoplens is shutting down; retry shortly'));
    while (this.#slots.length < this.#size) this.#slots.push(this.#spawn());
    let slot = this.#slots[0] as Slot;
    for (const s of this.#slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.#nextId++;
    const task: WorkerTask = {
      id,
      body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
      contentType,
      ctx,
      encode,
    };
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      // The body is copied, not transferred: it may share its memory with other buffers.
      slot.worker.postMessage(task);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
