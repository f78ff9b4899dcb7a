/**
 * The embedded store: one DuckDB file under the data directory. One writer
 * connection appends whole batches inside a transaction
 * (duckdb-batch-writer.ts); a small pool of connections serves queries
 * concurrently; a background job keeps the rollups current (rollUp).
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import duckdb from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { AppError } from '../../errors.ts';
import { EVENT_FIELDS } from '../../schema/fields.ts';
import type { StoredEvent } from '../../schema/record.ts';
import { buildSource } from '../event-source.ts';
import { attributeSampleSql, fieldPresenceSql } from '../sql/field-presence.ts';
import { compileFunnel, type FunnelRequest, type FunnelResult } from '../sql/funnel-compiler.ts';
import {
  compileErrorGroups,
  compileErrorImpact,
  compileErrorTrends,
  shapeGroups,
  shapeImpact,
  type ErrorGroupsRequest,
} from '../sql/error-groups-compiler.ts';
import { QueryCompiler, type CompiledQuery } from '../sql/query-compiler.ts';
import type {
  AttributeFields,
  AttributeFieldsRequest,
  CompiledSql,
  CustomerMatch,
  ErasureResult,
  ErrorGroupsResult,
  QueryRequest,
  QueryResult,
  ResultColumn,
  StoreCapabilities,
} from '../store.ts';
import { duckdbDialect } from './duckdb-dialect.ts';
import {
  runCompiled,
  ConnectionPool,
  type Database,
  inTransaction,
  openInstance,
  readWithDeadline,
  toJsonValue,
} from './duckdb-driver.ts';
import { DuckDBDocumentStore } from './duckdb-documents.ts';
import { deleteExpired, eraseCustomer, exportCustomerSql, rolledUntilMs } from './duckdb-maintenance.ts';
import { DUCKDB_MIGRATIONS } from './duckdb-migrations.ts';
import { insertSpans, readTrace, searchTraces, serviceMap } from './duckdb-spans.ts';
import type {
  ServiceMap,
  ServiceMapRequest,
  SpanRecord,
  SpanView,
  TraceSearchRequest,
  TraceSummary,
} from '../spans.ts';
import { lastVersions, StagingFiles, writeBatch, type EventsTableLayout } from './duckdb-batch-writer.ts';
import { firstEventMinuteMs, minuteWatermarkMs, rollUpMinutes } from './duckdb-rollups.ts';
import { trimBufferPool } from './duckdb-memory.ts';
import { loadedSegment, loadSegment, LoadThreads } from './duckdb-segment-load.ts';
import { segmentKpis } from './duckdb-kpis.ts';
import type { Logger } from 'pino';
import type { KpiDefinitions } from '../kpis.ts';
import type { SegmentLoadOutcome } from '../log-loader.ts';
import type { SegmentInfo } from '../segment-log.ts';
import type { SegmentLoadingStore } from '../logged-store.ts';

const { listValue } = duckdb;

/** Summary columns of an event search, by EVENT_FIELDS index. */
const SUMMARY_INDEXES = ['@timestamp', 'service.name', 'event.type', 'event.outcome', 'message'].map((name) =>
  EVENT_FIELDS.findIndex((f) => f.name === name),
);

export interface DuckDBStoreOptions {
  readonly dataDir: string;
  readonly threads?: number;
  readonly memoryLimit?: string;
  /** WAL size that triggers a checkpoint, e.g. "256MB" (DuckDB's default is 16MB). */
  readonly checkpointThreshold?: string;
  readonly defaultLimit: number;
  readonly maxRows: number;
  /** Default query timeout, ms. */
  readonly queryTimeoutMs: number;
  /** Read connections (default 4). */
  readonly readers?: number;
  /** Most time one `rollUp` call folds into the minute rollups, ms (default 6 hours). */
  readonly rollupSliceMs?: number;
  /** DuckDB threads while an ingest log segment loads (default 1; 0: as for queries). */
  readonly loadThreads?: number;
  /** Rows per row group of new data, a multiple of 2048 (default 0: DuckDB's 122,880). */
  readonly rowGroupRows?: number;
  /** Quiet time after the last segment load before the queries' threads and the memory are handed back, ms (default 5 s). */
  readonly idleAfterMs?: number;
  /** Compute the business KPIs of each loaded segment (for /metrics), with these definitions; undefined: don't. */
  readonly kpis?: KpiDefinitions;
  /** Where the store logs what it recovers from. */
  readonly logger?: Logger;
}

export class DuckDBStore implements SegmentLoadingStore {
  readonly engine = 'duckdb';
  readonly capabilities: StoreCapabilities = Object.freeze({ supportsDelete: true, supportsTtl: false });
  readonly #options: DuckDBStoreOptions;
  readonly path: string;
  #instance?: Database;
  #writer?: DuckDBConnection;
  #documentWriter?: DuckDBConnection;
  #readers?: ConnectionPool;
  readonly documents = new DuckDBDocumentStore(
    () => {
      if (!this.#documentWriter) throw new AppError(503, 'store.closed', 'The store is not open');
      return this.#documentWriter;
    },
    (fn) => this.#read(fn),
  );
  #layout: EventsTableLayout = { names: [], types: [] };
  readonly #staging: StagingFiles;
  /** Raw events before this instant (epoch ms) have been rolled up (for some data class). */
  #rolledUntilMs = 0;
  /** Minutes before this instant (epoch ms) are in the minute rollups; 0: none yet. */
  #minutesUntilMs = 0;
  /** Serialises writes on the one writer connection. */
  #writeChain: Promise<void> = Promise.resolve();
  readonly #loadThreads: LoadThreads;
  /** Span batches waiting for the next group commit (appendSpans). */
  readonly #spanQueue: { spans: readonly SpanRecord[]; resolve: () => void; reject: (err: unknown) => void }[] = [];
  #spanFlushQueued = false;
  /** Memory trims done since open (duckdb-memory.ts). */
  #trims = 0;

  constructor(options: DuckDBStoreOptions) {
    this.#options = options;
    this.path = join(resolve(options.dataDir), 'shoplens.duckdb');
    this.#staging = new StagingFiles(this.path);
    // Once loads stop: the queries' threads back, then the buffer pool's memory (duckdb-memory.ts).
    this.#loadThreads = new LoadThreads(
      options.threads ?? 0,
      options.loadThreads ?? 1,
      (restore) => {
        this.#writeChain = this.#writeChain
          .then(async () => {
            const writer = this.#writer;
            const readers = this.#readers;
            if (!writer || !readers || !(await restore(writer))) return;
            const trimmed = await trimBufferPool({
              writer,
              readers,
              exclusiveDocuments: (fn) => this.documents.exclusive(fn),
              memoryLimit: this.#options.memoryLimit ?? '',
            });
            if (trimmed) this.#trims++;
            else this.#loadThreads.loaded(); // a query was running: again after another quiet spell
          })
          .catch(() => undefined);
      },
      options.idleAfterMs,
    );
  }

  async open(): Promise<void> {
    mkdirSync(this.#options.dataDir, { recursive: true });
    this.#instance = await openInstance({
      path: this.path,
      threads: this.#options.threads ?? 0,
      memoryLimit: this.#options.memoryLimit ?? '',
      rowGroupRows: this.#options.rowGroupRows ?? 0,
    });
    this.#writer = await this.#instance.connect();
    // The file's lock is ours now: staging files of this store that exist were left by a killed process.
    this.#staging.removeStale();
    // Fewer, larger checkpoints: each one rewrites the last, partly filled row
    // group, so checkpointing every 16 MB of WAL costs far more in total.
    if (this.#options.checkpointThreshold) {
      await this.#writer.run(
        `SET checkpoint_threshold = '${this.#options.checkpointThreshold.replace(/[^0-9A-Za-z.]/g, '')}'`,
      );
    }
    await this.#migrate(this.#writer);
    const probe = await this.#writer.runAndReadAll('SELECT * FROM events LIMIT 0');
    this.#layout = { names: probe.columnNames(), types: probe.columnTypes() };
    this.#readers = await ConnectionPool.create(this.#instance, this.#options.readers ?? 4);
    this.#documentWriter = await this.#instance.connect();
    this.#rolledUntilMs = await rolledUntilMs(this.#writer);
    this.#minutesUntilMs = await minuteWatermarkMs(this.#writer);
  }

  async #migrate(c: DuckDBConnection): Promise<void> {
    await c.run(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)',
    );
    const applied = new Set(
      (await c.runAndReadAll('SELECT version FROM schema_migrations')).getRows().map((r) => Number(r[0])),
    );
    for (const m of DUCKDB_MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await c.run('BEGIN TRANSACTION');
      try {
        for (const statement of m.statements) await c.run(statement);
        await c.run('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await c.run('COMMIT');
      } catch (err) {
        await c.run('ROLLBACK');
        throw new Error(`Migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  #connection(): DuckDBConnection {
    if (!this.#writer) throw new AppError(503, 'store.closed', 'The store is not open');
    return this.#writer;
  }

  appendEvents(events: readonly StoredEvent[]): Promise<void> {
    const run = this.#writeChain.then(() => this.#append(events));
    this.#writeChain = run.catch(() => undefined);
    return run;
  }

  async #append(batch: readonly StoredEvent[]): Promise<void> {
    const events = lastVersions(batch);
    if (events.length === 0) return;
    try {
      await writeBatch(this.#connection(), events, this.#layout, this.#minutesUntilMs, this.#staging);
    } catch (err) {
      throw new AppError(
        503,
        'store.write_failed',
        `Writing ${events.length} events failed: ${(err as Error).message}`,
        {
          cause: err,
          headers: { 'Retry-After': '1' },
        },
      );
    }
  }

  /** Loads one sealed ingest log segment in one transaction that records it as loaded (duckdb-segment-load.ts). */
  loadSegment(segment: SegmentInfo): Promise<SegmentLoadOutcome> {
    const run = this.#writeChain.then(async (): Promise<SegmentLoadOutcome> => {
      let c: DuckDBConnection;
      try {
        c = this.#connection();
        await this.#loadThreads.narrow(c);
        await loadSegment(c, segment, {
          layout: this.#layout,
          watermarkMs: this.#minutesUntilMs,
          staging: this.#staging,
        });
      } catch (err) {
        this.#loadThreads.loaded();
        throw new AppError(
          503,
          'store.write_failed',
          `Loading ${segment.rows} events of ingest log segment ${segment.id} failed: ${(err as Error).message}`,
          { cause: err, headers: { 'Retry-After': '1' } },
        );
      }
      try {
        // Committed: the KPIs count it now (a failure here loses a few counts, never the rows).
        const defs = this.#options.kpis;
        return defs ? { kpis: await segmentKpis(c, segment.path, defs) } : {};
      } catch (err) {
        this.#options.logger?.warn(
          { err, segment: segment.id },
          'the business KPIs of a loaded segment could not be computed',
        );
        return {};
      } finally {
        this.#loadThreads.loaded();
      }
    });
    this.#writeChain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * What DuckDB holds now: bytes of its buffer pool and allocations by its count (duckdb_memory()), its
   * thread count, and how often the memory was trimmed after loads stopped.
   */
  async engineMemory(): Promise<{ bytes: number; threads: number; trims: number }> {
    const row = await this.#read(
      async (c) =>
        (
          await c.runAndReadAll(
            "SELECT (SELECT sum(memory_usage_bytes) FROM duckdb_memory()), current_setting('threads')",
          )
        ).getRows()[0],
    );
    return { bytes: Number(row?.[0] ?? 0), threads: Number(row?.[1] ?? 0), trims: this.#trims };
  }

  /** The id of the last ingest log segment loaded (0: none). */
  loadedSegment(): Promise<number> {
    return loadedSegment(this.#connection());
  }

  /** Writes are visible when they are committed: nothing to wait for. */
  async refresh(): Promise<void> {}

  async existingEventIds(tenant: string, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.#read((c) =>
      c.runAndReadAll(
        'SELECT DISTINCT event_id FROM events WHERE tenant = $1 AND event_id IN (SELECT unnest($2::VARCHAR[]))',
        [tenant, listValue([...ids])],
      ),
    );
    return new Set(rows.getRows().map((r) => String(r[0])));
  }

  #compile(request: QueryRequest): CompiledQuery {
    const compiler = new QueryCompiler(duckdbDialect, {
      defaultLimit: this.#options.defaultLimit,
      maxRows: this.#options.maxRows,
      nowMs: Date.now(),
    });
    if (request.range.fromMs < this.#rolledUntilMs) return compiler.compile({ ...request, useRollups: true });
    // Whole minutes of the range up to the watermark; worth it from an hour of them on.
    const span = (slotMs: number, untilMs: number) => ({
      fromMs: Math.ceil(request.range.fromMs / slotMs) * slotMs,
      toMs: Math.min(Math.floor(request.range.toMs / slotMs) * slotMs, Math.floor(untilMs / slotMs) * slotMs),
    });
    const minutes = span(MINUTE_MS, this.#minutesUntilMs);
    // Whole hours of latency histograms (complete before the watermark's hour): from a day of them on, so
    // that percentiles over short ranges stay exact.
    const hours = span(HOUR_MS, this.#minutesUntilMs);
    return compiler.compile({
      ...request,
      ...(minutes.toMs - minutes.fromMs >= MINUTE_ROLLUP_MIN_SPAN_MS ? { minuteRollups: minutes } : {}),
      ...(hours.toMs - hours.fromMs >= LATENCY_ROLLUP_MIN_SPAN_MS ? { latencyRollups: hours } : {}),
    });
  }

  /**
   * Brings the minute rollups up to `nowMs` minus a short lateness, one
   * slice (`rollupSliceMs`) per call (between ingest
   * batches, in its own transaction); call again while `caughtUp` is false.
   */
  async rollUp(nowMs: number = Date.now()): Promise<{ untilMs: number; caughtUp: boolean }> {
    return this.#onWriter(async (c) => {
      const target = Math.floor((nowMs - MINUTE_ROLLUP_LATENESS_MS) / MINUTE_MS) * MINUTE_MS;
      const fromMs = this.#minutesUntilMs > 0 ? this.#minutesUntilMs : await firstEventMinuteMs(c);
      if (fromMs === undefined || fromMs >= target) return { untilMs: this.#minutesUntilMs, caughtUp: true };
      const toMs = Math.min(target, fromMs + (this.#options.rollupSliceMs ?? MINUTE_ROLLUP_SLICE_MS));
      await rollUpMinutes(c, fromMs, toMs);
      return { untilMs: toMs, caughtUp: toMs === target };
    }).then((r) => {
      // Only once committed do queries read the new minutes from the rollups.
      this.#minutesUntilMs = r.untilMs;
      return r;
    });
  }

  explain(request: QueryRequest): CompiledSql {
    const compiled = this.#compile(request);
    return { sql: compiled.sql, params: compiled.params.map((p) => p.value) };
  }

  async query(request: QueryRequest): Promise<QueryResult> {
    const compiled = this.#compile(request);
    const started = performance.now();
    const timeoutMs = request.timeoutMs ?? this.#options.queryTimeoutMs;
    const [result, scanned] = await Promise.all([
      this.#read((c) => runCompiled(c, compiled), timeoutMs),
      this.#read((c) => runCompiled(c, compiled.scanned), timeoutMs),
    ]);
    const rows = result.getRows();
    const shaped = shapeRows(compiled, rows);
    return {
      ...shaped,
      stats: {
        elapsedMs: Math.round((performance.now() - started) * 10) / 10,
        rowsScanned: Number(scanned.getRows()[0]?.[0] ?? 0),
      },
    };
  }

  async attributeFields(request: AttributeFieldsRequest): Promise<AttributeFields> {
    if (request.names.length === 0) return { present: new Set(), seen: [] };
    const timeoutMs = request.timeoutMs ?? this.#options.queryTimeoutMs;
    const presence = fieldPresenceSql(duckdbDialect, request.tenant, request.range, request.names);
    const reader = await this.#read((c) => runCompiled(c, presence), timeoutMs);
    const row = reader.getRows()[0] ?? [];
    const present = new Set(request.names.filter((_, i) => Number(row[i] ?? 0) > 0));
    if (present.size === request.names.length) return { present, seen: [] };
    const sample = attributeSampleSql(duckdbDialect, request.tenant, request.range);
    const names = await this.#read((c) => runCompiled(c, sample), timeoutMs);
    return { present, seen: names.getRows().map((r) => String(r[0])) };
  }

  async funnel(request: FunnelRequest): Promise<FunnelResult> {
    const compiled = compileFunnel(duckdbDialect, request, Date.now());
    const timeoutMs = request.timeoutMs ?? this.#options.queryTimeoutMs;
    const result = await this.#read((c) => runCompiled(c, compiled), timeoutMs);
    return compiled.shape(result.getRows().map((r) => r.map(toJsonValue)));
  }

  /** The request with the whole hours of its range that the hourly error rollup holds (complete before the watermark's hour). */
  #withErrorRollup(request: ErrorGroupsRequest): ErrorGroupsRequest {
    const rolled = {
      fromMs: Math.ceil(request.range.fromMs / HOUR_MS) * HOUR_MS,
      toMs: Math.min(
        Math.floor(request.range.toMs / HOUR_MS) * HOUR_MS,
        Math.floor(this.#minutesUntilMs / HOUR_MS) * HOUR_MS,
      ),
    };
    return rolled.toMs > rolled.fromMs ? { ...request, rollupHours: rolled } : request;
  }

  /** The SQL of errorGroups' figures for this request (what it reads). */
  explainErrorGroups(request: ErrorGroupsRequest): string {
    return compileErrorGroups(duckdbDialect, this.#withErrorRollup(request)).sql;
  }

  async errorGroups(request: ErrorGroupsRequest): Promise<ErrorGroupsResult> {
    const started = performance.now();
    const timeoutMs = request.timeoutMs ?? this.#options.queryTimeoutMs;
    const withRollup = this.#withErrorRollup(request);
    const groups = compileErrorGroups(duckdbDialect, withRollup);
    const rows = (r: { getRows(): DuckDBValue[][] }) => r.getRows().map((row) => row.map(toJsonValue));
    const bucketMs = request.trendBucketMs;
    const [stats, impact, trendRows] = await Promise.all([
      this.#read((c) => runCompiled(c, groups), timeoutMs).then(rows),
      request.impact
        ? this.#read((c) => runCompiled(c, compileErrorImpact(duckdbDialect, request)), timeoutMs).then(rows)
        : Promise.resolve([]),
      bucketMs
        ? this.#read((c) => runCompiled(c, compileErrorTrends(duckdbDialect, withRollup, bucketMs)), timeoutMs).then(
            rows,
          )
        : Promise.resolve(undefined),
    ]);
    let trends: Map<string, [number, number][]> | undefined;
    if (trendRows) {
      trends = new Map();
      for (const [g, t, n] of trendRows) {
        const list = trends.get(String(g)) ?? [];
        list.push([Number(t), Number(n)]);
        trends.set(String(g), list);
      }
    }
    return {
      groups: shapeGroups(stats),
      impact: [...shapeImpact(impact).values()],
      ...(trends ? { trends } : {}),
      elapsedMs: Math.round((performance.now() - started) * 10) / 10,
    };
  }

  /** Runs a read on a pooled connection, within `timeoutMs` (see readWithDeadline). */
  async #read<T>(fn: (c: DuckDBConnection) => Promise<T>, timeoutMs?: number): Promise<T> {
    const readers = this.#readers;
    if (!readers) throw new AppError(503, 'store.closed', 'The store is not open');
    try {
      return await readWithDeadline(readers, fn, timeoutMs);
    } catch (err) {
      throw mapQueryError(err);
    }
  }

  eraseCustomer(tenant: string, match: CustomerMatch): Promise<ErasureResult> {
    return this.#onWriter((c) => eraseCustomer(c, tenant, match, this.#minutesUntilMs));
  }

  async exportCustomer(tenant: string, match: CustomerMatch, limit: number): Promise<Record<string, unknown>[]> {
    const { sql, params } = exportCustomerSql(match, limit);
    const reader = await this.#read((c) => c.runAndReadAll(sql, params(tenant)));
    const nTyped = EVENT_FIELDS.length;
    return reader.getRows().map((r) => {
      const attrsText = r[nTyped];
      const attributes = typeof attrsText === 'string' ? (JSON.parse(attrsText) as Record<string, unknown>) : null;
      return buildSource(r.slice(0, nTyped).map(toJsonValue), attributes);
    });
  }

  async deleteExpired(
    cutoffs: Readonly<Record<string, number>>,
    rollupCutoffMs: number,
  ): Promise<Record<string, number>> {
    const { deleted, rolledUntil } = await this.#onWriter((c) => deleteExpired(c, cutoffs, rollupCutoffMs));
    this.#rolledUntilMs = Math.max(this.#rolledUntilMs, ...Object.values(rolledUntil));
    return deleted;
  }

  /** Runs a deletion on the writer connection, in its own transaction, between ingest batches. */
  #onWriter<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = this.#writeChain.then(() => inTransaction(this.#connection(), fn));
    this.#writeChain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Spans go straight into their table, committed (so durable) when the
   * promise resolves. Group commit: the batches that arrive while the writer
   * is busy are written together in one transaction, one WAL sync for all.
   */
  appendSpans(spans: readonly SpanRecord[]): Promise<void> {
    if (spans.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#spanQueue.push({ spans, resolve, reject });
      if (this.#spanFlushQueued) return;
      this.#spanFlushQueued = true;
      const run = this.#writeChain.then(async () => {
        this.#spanFlushQueued = false;
        const group = this.#spanQueue.splice(0);
        const all = group.flatMap((g) => g.spans);
        try {
          await inTransaction(this.#connection(), (c) => insertSpans(c, all));
          for (const g of group) g.resolve();
        } catch (err) {
          const failed = new AppError(
            503,
            'store.write_failed',
            `Writing ${all.length} spans failed: ${(err as Error).message}`,
            {
              cause: err,
              headers: { 'Retry-After': '1' },
            },
          );
          for (const g of group) g.reject(failed);
        }
      });
      this.#writeChain = run.catch(() => undefined);
    });
  }

  trace(tenant: string, traceId: string): Promise<SpanView[]> {
    return this.#read((c) => readTrace(c, tenant, traceId), this.#options.queryTimeoutMs);
  }

  searchTraces(request: TraceSearchRequest): Promise<TraceSummary[]> {
    return this.#read((c) => searchTraces(c, request), this.#options.queryTimeoutMs);
  }

  serviceMap(request: ServiceMapRequest): Promise<ServiceMap> {
    return this.#read((c) => serviceMap(c, request), this.#options.queryTimeoutMs);
  }

  async checkWritable(): Promise<void> {
    accessSync(this.#options.dataDir, constants.W_OK);
    await this.#connection().run('SELECT 1');
  }

  async close(): Promise<void> {
    await this.#writeChain;
    this.#loadThreads.dispose();
    await this.documents.drain();
    this.#readers?.closeAll();
    this.#documentWriter?.closeSync();
    this.#documentWriter = undefined;
    this.#writer?.closeSync();
    this.#instance?.closeSync();
    this.#writer = undefined;
    this.#readers = undefined;
    this.#instance = undefined;
  }
}

const MINUTE_MS = 60_000;
/** Events of the last minutes are not rolled up yet: most late events arrive within this. */
const MINUTE_ROLLUP_LATENESS_MS = 2 * MINUTE_MS;
/** Most time one `rollUp` call folds (catching up on a large store goes slice by slice). */
const MINUTE_ROLLUP_SLICE_MS = 6 * 3_600_000;
/** Shorter spans of rolled-up minutes are read from raw events (fast anyway). */
const MINUTE_ROLLUP_MIN_SPAN_MS = 3_600_000;
const HOUR_MS = 3_600_000;
/** Percentiles over fewer whole hours are computed exactly from raw events. */
const LATENCY_ROLLUP_MIN_SPAN_MS = 24 * HOUR_MS;

function shapeRows(compiled: CompiledQuery, rows: readonly DuckDBValue[][]): Pick<QueryResult, 'columns' | 'rows'> {
  if (compiled.shape.kind === 'table') {
    return { columns: compiled.shape.columns, rows: rows.map((r) => r.map(toJsonValue)) };
  }
  const extra = compiled.shape.extra;
  const columns: ResultColumn[] = [
    { name: '@timestamp', type: 'timestamp' },
    { name: 'service.name', type: 'string' },
    { name: 'event.type', type: 'string' },
    { name: 'event.outcome', type: 'string' },
    { name: 'message', type: 'string' },
    { name: '_source', type: 'json' },
    ...extra,
  ];
  const nTyped = EVENT_FIELDS.length;
  return {
    columns,
    rows: rows.map((r) => {
      const values = r.slice(0, nTyped).map(toJsonValue);
      const attrsText = r[nTyped];
      const attributes = typeof attrsText === 'string' ? (JSON.parse(attrsText) as Record<string, unknown>) : null;
      return [
        ...SUMMARY_INDEXES.map((i) => values[i] ?? null),
        buildSource(values, attributes),
        ...r.slice(nTyped + 1).map(toJsonValue),
      ];
    }),
  };
}

function mapQueryError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const message = (err as Error).message ?? String(err);
  // Conversion and binder errors come from what the query asked for (e.g. a
  // computed value of the wrong type), not from a fault of the store.
  if (/^(Conversion|Binder|Invalid Input|Out of Range) Error/i.test(message)) {
    return new AppError(400, 'query.invalid', `The query cannot run: ${message}`, { cause: err });
  }
  // A long chain of operators (a + b + ... within the term limit) can still pass the engine's own bound.
  if (/Max expression depth limit/i.test(message)) {
    return new AppError(400, 'query.too_complex', 'The query nests expressions deeper than the engine allows (1000)', {
      cause: err,
    });
  }
  return err;
}
