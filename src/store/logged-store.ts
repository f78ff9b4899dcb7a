/**
 * A store whose writes go through the ingest log (segment-log.ts): an append
 * is acknowledged once it is durable in the log, and becomes visible to
 * queries when the loader (log-loader.ts) has moved its segment into the
 * engine, within `refreshIntervalMs`. Everything else goes to the engine
 * store, after a refresh where it must see every acknowledged write (GDPR
 * erasure and export, `_create` conflict checks).
 *
 * At open, segments a crash left behind are checked (a torn tail is cut
 * and logged) and loaded before anything else; segments the engine had
 * already loaded (it records the last one in the same transaction) are
 * deleted without loading them again.
 */
import { unlinkSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Logger } from 'pino';
import { AppError } from '../errors.ts';
import type { StoredEvent } from '../schema/record.ts';
import { toRowLine } from '../schema/record.ts';
import { LogLoader, type SegmentLoadOutcome } from './log-loader.ts';
import {
  recordOf,
  scanSegment,
  segmentIds,
  segmentPath,
  SegmentLog,
  type LogPosition,
  type LogRecord,
  type SegmentInfo,
} from './segment-log.ts';
import type {
  IngestLogObserver,
  AttributeFields,
  AttributeFieldsRequest,
  CompiledSql,
  CustomerMatch,
  ErasureResult,
  ErrorGroupsResult,
  QueryRequest,
  QueryResult,
  Store,
} from './store.ts';
import type { FunnelRequest, FunnelResult } from './sql/funnel-compiler.ts';
import type { ErrorGroupsRequest } from './sql/error-groups-compiler.ts';
import { VisibleRowsLedger, type VisibleRowsListener } from './visible-rows.ts';
import type { ServiceMap, ServiceMapRequest, SpanRecord, SpanView, TraceSearchRequest, TraceSummary } from './spans.ts';

/** A segment filling fast enough to be full by this share of the refresh interval is left to fill. */
const FILL_WAIT = 0.8;

/** An engine store that can load log segments. */
export interface SegmentLoadingStore extends Store {
  loadSegment(segment: SegmentInfo): Promise<SegmentLoadOutcome | void>;
  /** The id of the last segment loaded (0: none). */
  loadedSegment(): Promise<number>;
}

export interface LoggedStoreOptions {
  /** Where the segments go (`<dataDir>/log`). */
  readonly dir: string;
  /** Data is visible within this long of its acknowledgement, ms. */
  readonly refreshIntervalMs: number;
  readonly segmentRows: number;
  /** Most bytes of log not yet loaded; appends beyond answer 429. */
  readonly maxLogBytes: number;
  /**
   * Most time loading what the log holds may take at the recent load rate,
   * ms; appends beyond answer 429 (0: no bound). This keeps visibility near
   * the refresh interval when ingest outruns the store.
   */
  readonly maxLoadLagMs?: number;
}

export type LoggedStoreObserver = IngestLogObserver;

/** Longest a refresh (`?refresh=wait_for`, erasure, export) waits for the loader before it answers 503. */
const REFRESH_TIMEOUT_MS = 30_000;

export class LoggedStore implements Store {
  readonly #inner: SegmentLoadingStore;
  readonly #options: LoggedStoreOptions;
  #observer: LoggedStoreObserver;
  readonly #logger: Logger | undefined;
  #log: SegmentLog | undefined;
  #loader: LogLoader | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Acknowledgement times of the appends of each segment not yet visible. */
  readonly #acks = new Map<number, number[]>();
  /** `tenant\0id` → appends not yet loaded that replace that id (for `_create` conflict checks). */
  readonly #pendingIds = new Map<string, number>();
  readonly #pendingIdsBySegment = new Map<number, string[]>();
  /** Recent load rate: bytes loaded and seconds spent loading, decayed per load. */
  #loadedBytes = 0;
  #loadSeconds = 0;
  /** What each segment not yet visible holds, for who listens (the alert engine). */
  readonly #visibleRows = new VisibleRowsLedger();

  constructor(
    inner: SegmentLoadingStore,
    options: LoggedStoreOptions,
    observer: LoggedStoreObserver = {},
    logger?: Logger,
  ) {
    this.#inner = inner;
    this.#options = options;
    this.#observer = observer;
    this.#logger = logger;
  }

  /** Sets who hears of log writes, loads and visibility (the server's metrics). */
  observe(observer: LoggedStoreObserver): void {
    this.#observer = observer;
  }

  get engine(): string {
    return this.#inner.engine;
  }

  get capabilities(): Store['capabilities'] {
    return this.#inner.capabilities;
  }

  get documents(): Store['documents'] {
    return this.#inner.documents;
  }

  /** Hears, per loaded segment, whose rows of which event types became visible (see visible-rows.ts). */
  onVisibleRows(listener: VisibleRowsListener): () => void {
    return this.#visibleRows.listen(listener);
  }

  /** Bytes of the log not yet loaded. */
  get logBytes(): number {
    return this.#log?.bytes ?? 0;
  }

  async open(): Promise<void> {
    await this.#inner.open();
    const loaded = await this.#inner.loadedSegment();
    const dir = this.#options.dir;
    const ids = segmentIds(dir);
    const loader = new LogLoader(
      this.#inner,
      loaded,
      (path) => unlink(path),
      {
        onFailed: (segment, err) => this.#observer.onFailed?.(segment, err),
        onLoaded: (segment, seconds, outcome) => {
          if (outcome?.kpis && outcome.kpis.length > 0) this.#observer.onKpis?.(outcome.kpis);
          // Weighted towards the last few loads: the rate follows the machine's load within seconds.
          this.#loadedBytes = this.#loadedBytes * 0.7 + segment.bytes;
          this.#loadSeconds = this.#loadSeconds * 0.7 + seconds;
          this.#observer.onLoaded?.(segment, seconds);
          this.#visible(segment.id);
          this.#visibleRows.visible(segment.id);
          // The loader is free again: the rows that waited meanwhile go next, without waiting for a tick.
          setImmediate(() => this.#maybeSeal());
        },
        onReleased: (bytes) => {
          this.#log?.released(bytes);
          this.#observer.onLogBytes?.(this.logBytes);
        },
      },
      this.#logger,
    );
    this.#loader = loader;
    const log = new SegmentLog(
      { dir, segmentRows: this.#options.segmentRows, maxBytes: this.#options.maxLogBytes },
      Math.max(loaded, ...ids) + 1,
      {
        onSealed: (segment) => loader.enqueue(segment),
        onQueue: (rows) => this.#observer.onQueue?.(rows),
        onWrite: (records, rows, bytes, seconds) => {
          this.#observer.onWrite?.(records, rows, bytes, seconds);
          this.#observer.onLogBytes?.(this.logBytes);
        },
      },
    );
    this.#log = log;
    // Replay: what a crash left in the log goes into the store before anything new.
    for (const id of ids) {
      if (id <= loaded) {
        unlinkSync(segmentPath(dir, id));
        continue;
      }
      const scanned = scanSegment(dir, id);
      if (scanned.droppedBytes > 0) {
        this.#logger?.warn(
          { segment: id, droppedBytes: scanned.droppedBytes, reason: scanned.droppedReason },
          'dropped the torn tail of an ingest log segment (a write cut short by a crash; it was never acknowledged)',
        );
      }
      if (scanned.rows === 0) {
        unlinkSync(scanned.path);
        continue;
      }
      log.adopt(scanned.bytes);
      loader.enqueue(scanned);
    }
    if (ids.some((id) => id > loaded)) {
      this.#logger?.info({ segments: loader.queued }, 'replaying the ingest log into the store');
      await loader.drain();
      if (loader.queued > 0)
        throw new Error(`Replaying the ingest log failed: ${loader.queued} segments could not be loaded`);
    }
    const interval = this.#options.refreshIntervalMs;
    if (interval > 0) {
      this.#timer = setInterval(() => this.#maybeSeal(), Math.max(10, interval / 10));
      this.#timer.unref();
    }
  }

  /**
   * Durable once it resolves (in the log); visible within the refresh
   * interval. Events marked `replaceExisting` replace stored events of their
   * tenant with the same `event.id` when their segment is loaded.
   */
  async appendEvents(events: readonly StoredEvent[]): Promise<void> {
    await this.append(events);
  }

  /** Appends rows already serialised (by an ingest worker) as they are. */
  async appendRows(record: LogRecord): Promise<void> {
    if (record.rows === 0) return;
    const position = await this.#requireLog().append(record);
    this.#acked(position);
    this.#visibleRows.add(position.segment, record);
  }

  /** Seconds loading what the log holds would take at the recent rate (undefined before a load was measured). */
  get loadLagSeconds(): number | undefined {
    if (this.#loadSeconds <= 0 || this.#loadedBytes <= 0) return undefined;
    return this.logBytes / (this.#loadedBytes / this.#loadSeconds);
  }

  /** 429 when the store is further behind the log than `maxLoadLagMs` (see Store.admit). */
  admit(): void {
    const bound = this.#options.maxLoadLagMs ?? 0;
    const lag = this.loadLagSeconds;
    if (bound <= 0 || lag === undefined || lag * 1000 <= bound) return;
    const retry = Math.max(1, Math.ceil(lag));
    throw new AppError(
      429,
      'ingest.overloaded',
      `Shoplens is receiving more than the store loads: loading the ${(this.logBytes / 1048576).toFixed(1)} MiB waiting in the ingest log would take about ${lag.toFixed(1)} s, longer than the limit of ${(bound / 1000).toFixed(1)} s (store.maxLoadLag); nothing of this request was stored, retry it after ${retry} s`,
      { headers: { 'Retry-After': String(retry) } },
    );
  }

  #acked(position: LogPosition): void {
    const acks = this.#acks.get(position.segment);
    if (acks) acks.push(position.ackedAt);
    else this.#acks.set(position.segment, [position.ackedAt]);
  }

  /** As appendEvents, answering where the events are in the log. */
  async append(events: readonly StoredEvent[]): Promise<LogPosition | undefined> {
    const log = this.#requireLog();
    if (events.length === 0) return undefined;
    const lines: string[] = new Array<string>(events.length);
    let replace: string[] | undefined;
    // Tenant and event types of records (not of row lines), for the visible-rows ledger, so that it need
    // not read the rows again; undefined once a row line or a second tenant comes.
    const first = events[0] as StoredEvent;
    let summary: { tenant: string; types: Set<string> } | undefined =
      this.#visibleRows.active && typeof first !== 'string' ? { tenant: first.tenant, types: new Set() } : undefined;
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as StoredEvent;
      if (typeof e === 'string') {
        lines[i] = e;
        summary = undefined;
        continue;
      }
      lines[i] = toRowLine(e);
      const id = e.columns['event_id'];
      if (e.replaceExisting && typeof id === 'string') (replace ??= []).push(`${e.tenant}\u0000${id}`);
      if (summary && e.tenant !== summary.tenant) summary = undefined;
      const type = e.columns['event_type'];
      summary?.types.add(typeof type === 'string' ? type : '');
    }
    const record: LogRecord = {
      ...recordOf(lines, replace),
      ...(summary ? { summary: { tenant: summary.tenant, eventTypes: [...summary.types] } } : {}),
    };
    const position = await log.append(record);
    this.#acked(position);
    this.#visibleRows.add(position.segment, record);
    if (replace) {
      for (const key of replace) this.#pendingIds.set(key, (this.#pendingIds.get(key) ?? 0) + 1);
      const list = this.#pendingIdsBySegment.get(position.segment);
      if (list) list.push(...replace);
      else this.#pendingIdsBySegment.set(position.segment, replace);
    }
    return position;
  }

  /**
   * Waits until every append acknowledged so far is visible. `force` seals
   * the segment being written now (Elasticsearch `refresh=true`); otherwise
   * it is sealed at the next refresh interval (`refresh=wait_for`).
   */
  async refresh(force = false): Promise<void> {
    const log = this.#requireLog();
    const loader = this.#loader as LogLoader;
    const target = log.lastId;
    if (force || this.#options.refreshIntervalMs <= 0) log.seal();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), REFRESH_TIMEOUT_MS);
      timer.unref();
    });
    try {
      if ((await Promise.race([loader.loaded(target), timedOut])) !== 'timeout') return;
    } finally {
      clearTimeout(timer);
    }
    const failing = loader.failing;
    throw new AppError(
      503,
      'store.refresh_timeout',
      `The events are durable but not visible yet after ${REFRESH_TIMEOUT_MS / 1000} s` +
        (failing === undefined
          ? ''
          : `: loading the ingest log fails (${(failing as Error).message ?? String(failing)})`) +
        '; they stay in the log and the load is retried',
      { headers: { 'Retry-After': '5' } },
    );
  }

  /**
   * Seals the segment being written once its oldest row has waited half the
   * refresh interval, so that the other half is left for its load (what was
   * acknowledged is visible within the interval, as Elasticsearch's refresh
   * promises) — but not while the loader is still busy: it could not load
   * the segment sooner, and a segment that keeps growing meanwhile loads in
   * fewer, larger transactions. Nor while rows arrive fast enough to fill it
   * by `FILL_WAIT` of the interval: a whole segment is a whole row group,
   * which DuckDB writes once, where a smaller one goes through its WAL and is
   * compressed again at the next checkpoint (about twice the CPU per row).
   */
  #maybeSeal(): void {
    const log = this.#log;
    const interval = this.#options.refreshIntervalMs;
    if (!log || interval <= 0 || this.#loader?.busy) return;
    const age = log.activeAgeMs;
    if (age < interval / 2) return;
    const fullAtAge = (age * this.#options.segmentRows) / Math.max(1, log.activeRows);
    if (age < interval * FILL_WAIT && fullAtAge <= interval * FILL_WAIT) return;
    log.seal();
  }

  #visible(segment: number): void {
    const now = performance.now();
    for (const [id, acks] of this.#acks) {
      if (id > segment) continue;
      this.#acks.delete(id);
      for (const at of acks) this.#observer.onVisible?.((now - at) / 1000, 1);
    }
    for (const [id, keys] of this.#pendingIdsBySegment) {
      if (id > segment) continue;
      this.#pendingIdsBySegment.delete(id);
      for (const key of keys) {
        const n = (this.#pendingIds.get(key) ?? 1) - 1;
        if (n <= 0) this.#pendingIds.delete(key);
        else this.#pendingIds.set(key, n);
      }
    }
  }

  #requireLog(): SegmentLog {
    if (!this.#log) throw new Error('The store is not open');
    return this.#log;
  }

  async existingEventIds(tenant: string, ids: readonly string[]): Promise<Set<string>> {
    // The log first: an id loaded meanwhile has left it only after its load committed.
    const found = new Set(ids.filter((id) => this.#pendingIds.has(`${tenant}\u0000${id}`)));
    const rest = ids.filter((id) => !found.has(id));
    for (const id of await this.#inner.existingEventIds(tenant, rest)) found.add(id);
    return found;
  }

  query(request: QueryRequest): Promise<QueryResult> {
    return this.#inner.query(request);
  }

  explain(request: QueryRequest): CompiledSql {
    return this.#inner.explain(request);
  }

  attributeFields(request: AttributeFieldsRequest): Promise<AttributeFields> {
    return this.#inner.attributeFields(request);
  }

  errorGroups(request: ErrorGroupsRequest): Promise<ErrorGroupsResult> {
    return this.#inner.errorGroups(request);
  }

  funnel(request: FunnelRequest): Promise<FunnelResult> {
    return this.#inner.funnel(request);
  }

  /** Erasure reaches rows still in the log: they are loaded (and their files deleted) first. */
  async eraseCustomer(tenant: string, match: CustomerMatch): Promise<ErasureResult> {
    await this.refresh(true);
    return this.#inner.eraseCustomer(tenant, match);
  }

  async exportCustomer(tenant: string, match: CustomerMatch, limit: number): Promise<Record<string, unknown>[]> {
    await this.refresh(true);
    return this.#inner.exportCustomer(tenant, match, limit);
  }

  deleteExpired(cutoffs: Readonly<Record<string, number>>, rollupCutoffMs: number): Promise<Record<string, number>> {
    return this.#inner.deleteExpired(cutoffs, rollupCutoffMs);
  }

  rollUp(nowMs?: number): Promise<{ readonly untilMs: number; readonly caughtUp: boolean }> {
    return this.#inner.rollUp(nowMs);
  }

  /** Spans do not go through the ingest log: the engine commits them before the answer (see DuckDBStore.appendSpans). */
  async appendSpans(spans: readonly SpanRecord[]): Promise<void> {
    if (!this.#inner.appendSpans) throw noSpans();
    await this.#inner.appendSpans(spans);
  }

  async trace(tenant: string, traceId: string): Promise<SpanView[]> {
    if (!this.#inner.trace) throw noSpans();
    return this.#inner.trace(tenant, traceId);
  }

  async searchTraces(request: TraceSearchRequest): Promise<TraceSummary[]> {
    if (!this.#inner.searchTraces) throw noSpans();
    return this.#inner.searchTraces(request);
  }

  async serviceMap(request: ServiceMapRequest): Promise<ServiceMap> {
    if (!this.#inner.serviceMap) throw noSpans();
    return this.#inner.serviceMap(request);
  }

  async checkWritable(): Promise<void> {
    await this.#inner.checkWritable();
    const failing = this.#loader?.failing;
    if (failing !== undefined) {
      throw new Error(
        `loading the ingest log into the store fails (${(failing as Error).message ?? String(failing)}); acknowledged data stays in the log and the load is retried`,
      );
    }
  }

  /** Refuses new appends, loads what the log holds, and closes the engine. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#log) await this.#log.close();
    if (this.#loader) {
      await this.#loader.drain();
      this.#loader.stop();
      if (this.#loader.queued > 0) {
        this.#logger?.warn(
          { segments: this.#loader.queued },
          'ingest log segments stay in the log; they are loaded at the next start',
        );
      }
    }
    await this.#inner.close();
  }
}

function noSpans(): AppError {
  return new AppError(501, 'store.no_spans', 'This store does not keep spans (traces)');
}
