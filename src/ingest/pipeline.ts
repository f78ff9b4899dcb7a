/**
 * The shared ingest pipeline: redact → normalize → batch → store (the
 * Normalizer redacts every raw event first, src/privacy/redactor.ts). Protocol adapters parse their wire format into raw items, run each
 * through `normalize` (or hand whole bodies to `prepareEvents`, which uses
 * the worker threads), then `commit` the good ones; the promise resolves only
 * after the store committed them.
 */
import type { Config } from '../config.ts';
import type { StoredEvent } from '../schema/record.ts';
import type { Store } from '../store/store.ts';
import type { SelfMetrics } from '../telemetry/self-metrics.ts';
import { BackPressure, type Admission } from './back-pressure.ts';
import { prepareEvents, type PreparedEvents } from './events-ndjson.ts';
import type { NormalizeResult } from './normalize.ts';
import { Normalizer, type IngestContext } from './normalizer.ts';
import type { IngestWorkerPool, PreparedRows } from './worker-pool.ts';
import { recordOf, type LogRecord } from '../store/segment-log.ts';
import type { RowLine } from '../schema/record.ts';
import { threadCpuSeconds } from '../telemetry/thread-cpu.ts';

export type { IngestContext };

/** Less than this waiting is never refused for ingest.maxQueueDelay (see BackPressureOptions.minQueueBytes). */
const MIN_QUEUE_BYTES = 1024 * 1024;

export class IngestPipeline {
  readonly #store: Store;
  readonly #normalizer: Normalizer;
  readonly #metrics: SelfMetrics;
  readonly #workers: IngestWorkerPool | undefined;
  /** Bodies admitted and not yet answered (in workers, queued for commit, committing). */
  readonly backPressure: BackPressure;

  constructor(
    store: Store,
    config: Config['ingest'],
    metrics: SelfMetrics,
    workers?: IngestWorkerPool,
    privacy?: Config['privacy'],
  ) {
    this.#store = store;
    this.#normalizer = new Normalizer(config, privacy);
    this.#metrics = metrics;
    this.#workers = workers;
    this.backPressure = new BackPressure({
      maxPendingBytes: config.maxPendingBytes,
      maxQueueDelayMs: config.maxQueueDelay,
      minQueueBytes: MIN_QUEUE_BYTES,
    });
  }

  /**
   * Runs the ingest of one request body of `bytes` under back-pressure:
   * refused at once (429 `ingest.overloaded`, Retry-After) when too much is
   * waiting, else counted until `ingest` settles.
   */
  async admitted<T>(bytes: number, ingest: (admission: Admission) => Promise<T>): Promise<T> {
    let admission: Admission;
    try {
      this.#store.admit?.();
      admission = this.backPressure.admit(bytes);
    } catch (err) {
      this.#metrics.rateLimited.inc({ kind: 'overload' });
      throw err;
    }
    let committed = false;
    try {
      const result = await ingest(admission);
      committed = true;
      return result;
    } finally {
      admission.done(committed);
    }
  }

  get config(): Config['ingest'] {
    return this.#normalizer.config;
  }

  /** Redacts and normalises one raw event (see Normalizer.normalize) and counts the redactions. */
  normalize(raw: unknown, ctx: IngestContext, indexName?: string, marker?: readonly string[]): NormalizeResult {
    const result = this.#normalizer.normalize(raw, ctx, indexName, marker);
    this.countRedactions(this.#normalizer.takeRedactionCounts());
    return result;
  }

  /**
   * Redacts client text that is stored or echoed outside an event (an
   * Elasticsearch action, `_index` or `_id`); adds what it found to `marker`.
   */
  redactText(text: string, marker?: string[]): string {
    const out = this.#normalizer.redactor.redactText(text, marker);
    this.countRedactions(this.#normalizer.takeRedactionCounts());
    return out;
  }

  /**
   * Redacts a value stored outside the events table (a span: its name,
   * attributes, events) as an event is redacted, in place; answers the
   * redacted value and what was redacted, or the rejection (nested too deep).
   */
  redactValue<T>(
    value: T,
  ): { ok: true; value: T; marker: string[] | undefined } | { ok: false; code: string; message: string } {
    const result = this.#normalizer.redactor.redactEvent(value, this.#normalizer.config.maxDepth);
    this.countRedactions(this.#normalizer.takeRedactionCounts());
    return result.ok ? { ok: true, value: result.value as T, marker: result.marker } : result;
  }

  /** Adds redaction counts by kind to `shoplens_redactions_total`. */
  countRedactions(counts: Readonly<Record<string, number>>): void {
    for (const [kind, n] of Object.entries(counts)) if (n > 0) this.#metrics.redactions.inc({ kind }, n);
  }

  /** Reads, normalises and serialises an events body: in a worker thread when there are any. */
  prepareEvents(body: Buffer, contentType: string | undefined, ctx: IngestContext): Promise<PreparedEvents> {
    if (this.#workers) return this.#workers.run(body, contentType, ctx);
    return Promise.resolve().then(() => {
      const started = performance.now();
      const cpuStarted = threadCpuSeconds();
      try {
        return prepareEvents(this.#normalizer, body, contentType, ctx);
      } finally {
        this.#metrics.ingestStageSeconds.inc({ stage: 'prepare' }, (performance.now() - started) / 1000);
        const cpu = threadCpuSeconds();
        if (cpu !== undefined && cpuStarted !== undefined)
          this.#metrics.ingestStageCpuSeconds.inc({ stage: 'prepare' }, cpu - cpuStarted);
      }
    });
  }

  /** As prepareEvents, answering the accepted rows as one block ready for the ingest log. */
  prepareRows(body: Buffer, contentType: string | undefined, ctx: IngestContext): Promise<PreparedRows> {
    if (this.#workers) return this.#workers.runEncoded(body, contentType, ctx);
    return this.prepareEvents(body, contentType, ctx).then(({ rows, rejected, redactions, eventTypes }) => ({
      record: { ...recordOf(rows as string[]), summary: { tenant: ctx.tenant, eventTypes } },
      rejected,
      redactions,
    }));
  }

  /** As commit, for a block of rows from prepareRows. */
  async commitRows(endpoint: string, record: LogRecord, rejectedCodes: readonly string[]): Promise<void> {
    if (this.#store.appendRows) await this.#store.appendRows(record);
    else await this.#store.appendEvents(splitRows(record));
    if (record.rows > 0) this.#metrics.ingestedEvents.inc({ endpoint, outcome: 'accepted' }, record.rows);
    this.countRejected(endpoint, rejectedCodes);
  }

  /**
   * Commits the accepted events of one request (durable in the ingest log
   * when it resolves; visible within the refresh interval) and counts the
   * outcome.
   */
  async commit(endpoint: string, events: readonly StoredEvent[], rejectedCodes: readonly string[]): Promise<void> {
    await this.#store.appendEvents(events);
    if (events.length > 0) this.#metrics.ingestedEvents.inc({ endpoint, outcome: 'accepted' }, events.length);
    this.countRejected(endpoint, rejectedCodes);
  }

  /** Makes everything committed so far visible to queries now (see Store.refresh). */
  refresh(): Promise<void> {
    return this.#store.refresh(true);
  }

  countRejected(endpoint: string, codes: readonly string[]): void {
    if (codes.length === 0) return;
    this.#metrics.ingestedEvents.inc({ endpoint, outcome: 'rejected' }, codes.length);
    const byCode = new Map<string, number>();
    for (const code of codes) byCode.set(code, (byCode.get(code) ?? 0) + 1);
    for (const [code, n] of byCode) this.#metrics.rejectedItems.inc({ endpoint, code }, n);
  }

  /** Counts items accepted outside the events table (spans). */
  countAccepted(endpoint: string, n: number): void {
    if (n > 0) this.#metrics.ingestedEvents.inc({ endpoint, outcome: 'accepted' }, n);
  }

  countBytes(endpoint: string, bytes: number): void {
    this.#metrics.ingestedBytes.inc({ endpoint }, bytes);
  }
}

/** The row lines of a block (for a store without an ingest log). */
function splitRows(record: LogRecord): RowLine[] {
  const text = record.body.toString('utf8');
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n').filter((l) => l !== '') as RowLine[];
}
