/**
 * The embedded store: one DuckDB file under the data directory. One writer
 * connection appends whole batches as columnar data chunks inside a
 * transaction; a small pool of connections serves queries concurrently.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import duckdb from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBInstance, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { AppError } from '../../errors.ts';
import { EVENT_FIELDS } from '../../schema/fields.ts';
import type { EventRecord } from '../../schema/record.ts';
import { buildSource } from '../event-source.ts';
import { QueryCompiler, type CompiledQuery } from '../sql/query-compiler.ts';
import type { CompiledSql, QueryRequest, QueryResult, ResultColumn, Store, StoreCapabilities } from '../store.ts';
import { duckdbDialect } from './duckdb-dialect.ts';
import { bindParams, ConnectionPool, openInstance, toJsonValue } from './duckdb-driver.ts';
import { DUCKDB_MIGRATIONS } from './duckdb-migrations.ts';

const { DuckDBDataChunk, listValue, timestampValue } = duckdb;

/** DuckDB's vector size: the most rows one data chunk holds. */
const CHUNK_ROWS = 2048;
/** Summary columns of an event search, by EVENT_FIELDS index. */
const SUMMARY_INDEXES = ['@timestamp', 'service.name', 'event.type', 'event.outcome', 'message'].map((name) =>
  EVENT_FIELDS.findIndex((f) => f.name === name),
);

export interface DuckDBStoreOptions {
  readonly dataDir: string;
  readonly threads?: number;
  readonly memoryLimit?: string;
  readonly defaultLimit: number;
  readonly maxRows: number;
  /** Default query timeout, ms. */
  readonly queryTimeoutMs: number;
  /** Read connections (default 4). */
  readonly readers?: number;
}

export class DuckDBStore implements Store {
  readonly engine = 'duckdb';
  readonly capabilities: StoreCapabilities = Object.freeze({ supportsDelete: true, supportsTtl: false });
  readonly #options: DuckDBStoreOptions;
  readonly path: string;
  #instance?: DuckDBInstance;
  #writer?: DuckDBConnection;
  #readers?: ConnectionPool;
  #columnTypes: DuckDBType[] = [];
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
    await this.#migrate(this.#writer);
    const probe = await this.#writer.runAndReadAll('SELECT * FROM events LIMIT 0');
    this.#columnTypes = probe.columnTypes();
    this.#readers = await ConnectionPool.create(this.#instance, this.#options.readers ?? 4);
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

  appendEvents(events: readonly EventRecord[]): Promise<void> {
    const run = this.#writeChain.then(() => this.#append(events));
    this.#writeChain = run.catch(() => undefined);
    return run;
  }

  async #append(batch: readonly EventRecord[]): Promise<void> {
    const events = lastVersions(batch);
    if (events.length === 0) return;
    const c = this.#connection();
    await c.run('BEGIN TRANSACTION');
    try {
      await this.#deleteReplaced(c, events);
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
      await c.run('COMMIT');
    } catch (err) {
      await c.run('ROLLBACK').catch(() => undefined);
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

  /** Elasticsearch `index` with an existing `_id` replaces the stored event. */
  async #deleteReplaced(c: DuckDBConnection, events: readonly EventRecord[]): Promise<void> {
    const byTenant = new Map<string, string[]>();
    for (const e of events) {
      const id = e.columns['event_id'];
      if (!e.replaceExisting || typeof id !== 'string') continue;
      const list = byTenant.get(e.tenant) ?? [];
      list.push(id);
      byTenant.set(e.tenant, list);
    }
    for (const [tenant, ids] of byTenant) {
      await c.run('DELETE FROM events WHERE tenant = $1 AND list_contains($2::VARCHAR[], event_id)', [
        tenant,
        listValue(ids),
      ]);
    }
  }

  async existingEventIds(tenant: string, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.#read((c) =>
      c.runAndReadAll(
        'SELECT DISTINCT event_id FROM events WHERE tenant = $1 AND list_contains($2::VARCHAR[], event_id)',
        [tenant, listValue([...ids])],
      ),
    );
    return new Set(rows.getRows().map((r) => String(r[0])));
  }

  #compile(request: QueryRequest): CompiledQuery {
    return new QueryCompiler(duckdbDialect, {
      defaultLimit: this.#options.defaultLimit,
      maxRows: this.#options.maxRows,
      nowMs: Date.now(),
    }).compile(request);
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

  async checkWritable(): Promise<void> {
    accessSync(this.#options.dataDir, constants.W_OK);
    await this.#connection().run('SELECT 1');
  }

  async close(): Promise<void> {
    await this.#writeChain;
    this.#readers?.closeAll();
    this.#writer?.closeSync();
    this.#instance?.closeSync();
    this.#writer = undefined;
    this.#readers = undefined;
    this.#instance = undefined;
  }
}

/**
 * Of several events in one batch that replace the same `event.id` of a
 * tenant (concurrent `_bulk` index calls), only the last is kept.
 */
function lastVersions(events: readonly EventRecord[]): readonly EventRecord[] {
  if (!events.some((e) => e.replaceExisting)) return events;
  const seen = new Set<string>();
  const kept: EventRecord[] = [];
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i] as EventRecord;
    const id = e.columns['event_id'];
    if (e.replaceExisting && typeof id === 'string') {
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
