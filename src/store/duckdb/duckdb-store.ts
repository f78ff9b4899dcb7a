/**
 * The embedded store: one DuckDB file under the data directory. One writer
 * connection appends whole batches inside a transaction; a small pool of
 * connections serves queries concurrently.
 *
 * Batches go in through DuckDB's own NDJSON reader: the batch is written as
 * one staging file in memory (/dev/shm) and inserted with one statement, so
 * parsing and columnar conversion run in DuckDB's threads rather than as one
 * native call per value on the JavaScript thread (about 3x the throughput).
 * A batch the JSON reader refuses (e.g. a lone UTF-16 surrogate) is redone
 * through the appender with data chunks, which takes any string.
 */
import { randomUUID } from 'node:crypto';
import { accessSync, constants, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import duckdb from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBInstance, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { AppError } from '../../errors.ts';
import { EVENT_FIELDS } from '../../schema/fields.ts';
import { fromRowLine, toRowLine, type EventRecord, type StoredEvent } from '../../schema/record.ts';
import { buildSource } from '../event-source.ts';
import { compileFunnel, type FunnelRequest, type FunnelResult } from '../sql/funnel-compiler.ts';
import { QueryCompiler, type CompiledQuery } from '../sql/query-compiler.ts';
import type {
  CompiledSql,
  CustomerMatch,
  ErasureResult,
  QueryRequest,
  QueryResult,
  ResultColumn,
  Store,
  StoreCapabilities,
} from '../store.ts';
import { duckdbDialect } from './duckdb-dialect.ts';
import { bindParams, ConnectionPool, inTransaction, openInstance, toJsonValue } from './duckdb-driver.ts';
import { DuckDBDocumentStore } from './duckdb-documents.ts';
import { deleteExpired, eraseCustomer, exportCustomerSql, rolledUntilMs } from './duckdb-maintenance.ts';
import { DUCKDB_MIGRATIONS } from './duckdb-migrations.ts';
import {
  addLateRollups,
  firstEventMinuteMs,
  MINUTE_US,
  minutesOfEvents,
  minuteWatermarkMs,
  rerollMinutes,
  rollUpMinutes,
} from './duckdb-rollups.ts';

const { DuckDBDataChunk, listValue, timestampValue } = duckdb;

/** DuckDB's vector size: the most rows one data chunk holds. */
const CHUNK_ROWS = 2048;
/** Where staging files go: memory-backed when the system has it. */
const STAGING_DIR = (() => {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
})();
/** DuckDB type of each typed column as read from a staging line. */
const JSON_COLUMN_TYPES: Record<string, string> = {
  timestamp: 'BIGINT',
  keyword: 'VARCHAR',
  text: 'VARCHAR',
  double: 'DOUBLE',
  integer: 'INTEGER',
  'keyword[]': 'VARCHAR[]',
};
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
}

export class DuckDBStore implements Store {
  readonly engine = 'duckdb';
  readonly capabilities: StoreCapabilities = Object.freeze({ supportsDelete: true, supportsTtl: false });
  readonly #options: DuckDBStoreOptions;
  readonly path: string;
  #instance?: DuckDBInstance;
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
  #columnTypes: DuckDBType[] = [];
  /** Raw events before this instant (epoch ms) have been rolled up (for some data class). */
  #rolledUntilMs = 0;
  /** Minutes before this instant (epoch ms) are in the minute rollups; 0: none yet. */
  #minutesUntilMs = 0;
  /** Serialises writes on the one writer connection. */
  #writeChain: Promise<void> = Promise.resolve();

  constructor(options: DuckDBStoreOptions) {
    this.#options = options;
    this.path = join(resolve(options.dataDir), 'shoplens.duckdb');
  }

  async open(): Promise<void> {
    mkdirSync(this.#options.dataDir, { recursive: true });
    this.#instance = await openInstance({
      path: this.path,
      threads: this.#options.threads ?? 0,
      memoryLimit: this.#options.memoryLimit ?? '',
    });
    this.#writer = await this.#instance.connect();
    // Fewer, larger checkpoints: each one rewrites the last, partly filled row
    // group, so checkpointing every 16 MB of WAL costs far more in total.
    if (this.#options.checkpointThreshold) {
      await this.#writer.run(
        `SET checkpoint_threshold = '${this.#options.checkpointThreshold.replace(/[^0-9A-Za-z.]/g, '')}'`,
      );
    }
    await this.#migrate(this.#writer);
    const probe = await this.#writer.runAndReadAll('SELECT * FROM events LIMIT 0');
    this.#columnTypes = probe.columnTypes();
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
    const c = this.#connection();
    try {
      try {
        await this.#inTransaction(c, events, (e, lateFrom) => this.#insertViaJson(c, e, lateFrom));
      } catch (err) {
        if (!/Invalid Input Error|Malformed JSON|Conversion Error/i.test((err as Error).message)) throw err;
        await this.#inTransaction(c, events, (e) => this.#insertViaAppender(c, e));
      }
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

  /**
   * One batch in one transaction: replaced events out, the batch in, and the
   * rollups of minutes already rolled up brought along (see #insertViaJson).
   */
  async #inTransaction(
    c: DuckDBConnection,
    events: readonly StoredEvent[],
    insert: (events: readonly StoredEvent[], lateFrom: number) => Promise<boolean>,
  ): Promise<void> {
    await c.run('BEGIN TRANSACTION');
    try {
      const rebuild = await this.#deleteReplaced(c, events);
      const watermarkUs = this.#minutesUntilMs * 1000;
      let late = false;
      if (watermarkUs > 0) for (const e of events) if (eventTimeUs(e) < watermarkUs) late = true;
      // With nothing replaced, the insert adds the late events' own rollup rows (cheap); after a
      // replacement, the touched minutes are rebuilt from the raw events instead.
      const added = await insert(events, late && rebuild.size === 0 ? this.#minutesUntilMs : 0);
      if (late && !added) {
        for (const e of events) {
          const ts = eventTimeUs(e);
          if (ts < watermarkUs) rebuild.add(Math.floor(ts / MINUTE_US));
        }
      }
      await rerollMinutes(c, rebuild, this.#minutesUntilMs);
      await c.run('COMMIT');
    } catch (err) {
      await c.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /**
   * Inserts the batch from a staging file. With `lateFrom` (the minute
   * watermark) the rollup rows of the batch's events before it are added
   * from the same file, as extra rows (queries sum rollup rows); answers
   * whether it did.
   */
  async #insertViaJson(c: DuckDBConnection, events: readonly StoredEvent[], lateFrom: number): Promise<boolean> {
    const path = join(STAGING_DIR, `shoplens-${process.pid}-${randomUUID()}.ndjson`);
    const lines = new Array<string>(events.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as StoredEvent;
      lines[i] = typeof e === 'string' ? e : toRowLine(e);
    }
    // Synchronous on purpose: it is a memory copy into tmpfs (about 1 ms per MB), and an
    // await here would wait behind every request the event loop is parsing.
    writeFileSync(path, lines.join('\n'), { mode: 0o600 });
    try {
      const source = jsonSourceSql(path);
      await c.run(`INSERT INTO events ${source}`);
      if (lateFrom > 0) await addLateRollups(c, source, lateFrom);
      return lateFrom > 0;
    } finally {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  }

  async #insertViaAppender(c: DuckDBConnection, stored: readonly StoredEvent[]): Promise<boolean> {
    const events = stored.map((e) => (typeof e === 'string' ? fromRowLine(e) : e));
    const appender = await c.createAppender('events');
    try {
      for (let offset = 0; offset < events.length; offset += CHUNK_ROWS) {
        const slice = events.slice(offset, offset + CHUNK_ROWS);
        const chunk = DuckDBDataChunk.create(this.#columnTypes, slice.length);
        chunk.setColumns(toColumns(slice));
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    return false; // late events' minutes are rebuilt from the raw events
  }

  /**
   * Elasticsearch `index` with an existing `_id` replaces the stored event.
   * `IN (SELECT unnest(...))` is a hash semi-join: 37 ms for 5k ids over 250k
   * rows, where `list_contains` compared every row with every id (6 s).
   */
  async #deleteReplaced(c: DuckDBConnection, events: readonly StoredEvent[]): Promise<Set<number>> {
    const rolledMinutes = new Set<number>();
    const byTenant = new Map<string, string[]>();
    for (const e of events) {
      if (typeof e === 'string') continue;
      const id = e.columns['event_id'];
      if (!e.replaceExisting || typeof id !== 'string') continue;
      const list = byTenant.get(e.tenant) ?? [];
      list.push(id);
      byTenant.set(e.tenant, list);
    }
    for (const [tenant, ids] of byTenant) {
      const where = 'tenant = $1 AND event_id IN (SELECT unnest($2::VARCHAR[]))';
      const params = [tenant, listValue(ids)];
      // The replaced events leave the minute rollups they were counted in.
      if (this.#minutesUntilMs > 0) {
        for (const m of await minutesOfEvents(c, where, params, this.#minutesUntilMs)) rolledMinutes.add(m);
      }
      await c.run(`DELETE FROM events WHERE ${where}`, params);
    }
    return rolledMinutes;
  }

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
      this.#read((c) => c.runAndReadAll(compiled.sql, bindParams(compiled.params)), timeoutMs),
      this.#read((c) => c.runAndReadAll(compiled.scanned.sql, bindParams(compiled.scanned.params)), timeoutMs),
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

  async funnel(request: FunnelRequest): Promise<FunnelResult> {
    const compiled = compileFunnel(duckdbDialect, request, Date.now());
    const timeoutMs = request.timeoutMs ?? this.#options.queryTimeoutMs;
    const result = await this.#read((c) => c.runAndReadAll(compiled.sql, bindParams(compiled.params)), timeoutMs);
    return compiled.shape(result.getRows().map((r) => r.map(toJsonValue)));
  }

  /** Runs a read on a pooled connection, cancelling it after `timeoutMs`. */
  async #read<T>(fn: (c: DuckDBConnection) => Promise<T>, timeoutMs?: number): Promise<T> {
    if (!this.#readers) throw new AppError(503, 'store.closed', 'The store is not open');
    const c = await this.#readers.acquire();
    let timedOut = false;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            c.interrupt();
          }, timeoutMs);
    try {
      return await fn(c);
    } catch (err) {
      if (timedOut) {
        throw new AppError(
          504,
          'query.timeout',
          `The query was cancelled after ${timeoutMs} ms; narrow the time range or the filter`,
          {
            cause: err,
          },
        );
      }
      throw mapQueryError(err);
    } finally {
      if (timer) clearTimeout(timer);
      this.#readers.release(c);
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

  async checkWritable(): Promise<void> {
    accessSync(this.#options.dataDir, constants.W_OK);
    await this.#connection().run('SELECT 1');
  }

  async close(): Promise<void> {
    await this.#writeChain;
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

/** An event's time, µs (row lines start with `{"ts":<µs>,`). */
function eventTimeUs(e: StoredEvent): number {
  if (typeof e !== 'string') return e.ts;
  return Number(e.slice(6, e.indexOf(',', 6)));
}

/** The rows of a staging file as the columns of `events`, in order; the path is ours (never user text). */
function jsonSourceSql(path: string): string {
  const spec = EVENT_FIELDS.map(
    (f) =>
      `${f.column}: '${f.column === 'tenant' || f.column === 'data_class' ? 'VARCHAR' : JSON_COLUMN_TYPES[f.type]}'`,
  );
  const select = EVENT_FIELDS.map((f) => (f.column === 'ts' ? 'make_timestamp(ts) AS ts' : f.column));
  return (
    `SELECT ${select.join(', ')}, attributes FROM read_ndjson('${path.replace(/'/g, "''")}', ` +
    `columns = {${spec.join(', ')}, attributes: 'JSON'}, format = 'newline_delimited', maximum_object_size = 268435456)`
  );
}

/**
 * Of several events in one batch that replace the same `event.id` of a
 * tenant (concurrent `_bulk` index calls), only the last is kept.
 */
function lastVersions(events: readonly StoredEvent[]): readonly StoredEvent[] {
  if (!events.some((e) => typeof e !== 'string' && e.replaceExisting)) return events;
  const seen = new Set<string>();
  const kept: StoredEvent[] = [];
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i] as StoredEvent;
    const id = typeof e === 'string' ? undefined : e.columns['event_id'];
    if (typeof e !== 'string' && e.replaceExisting && typeof id === 'string') {
      const key = `${e.tenant}\u0000${id}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    kept.push(e);
  }
  return kept.reverse();
}

/** Column-major DuckDB values for one chunk of events, in table column order. */
function toColumns(events: readonly EventRecord[]): DuckDBValue[][] {
  const n = events.length;
  const columns: DuckDBValue[][] = [];
  for (const field of EVENT_FIELDS) {
    const col = new Array<DuckDBValue>(n);
    const name = field.column;
    for (let i = 0; i < n; i++) {
      const e = events[i] as EventRecord;
      if (name === 'ts') col[i] = timestampValue(BigInt(Math.round(e.ts)));
      else if (name === 'tenant') col[i] = e.tenant;
      else if (name === 'data_class') col[i] = e.dataClass;
      else {
        const v = e.columns[name];
        col[i] =
          v === undefined || v === null ? null : Array.isArray(v) ? listValue(v as string[]) : (v as string | number);
      }
    }
    columns.push(col);
  }
  columns.push(events.map((e) => (e.attributes ? JSON.stringify(e.attributes) : null)));
  return columns;
}

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
  return err;
}
