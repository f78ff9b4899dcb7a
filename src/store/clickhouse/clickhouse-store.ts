/**
 * The ClickHouse store (first increment, docs/clickhouse.md): events and
 * documents in a ClickHouse server through the official client, queries
 * through the shared compiler with the ClickHouse dialect.
 *
 * Writes: appends that arrive while an insert is running are gathered and
 * sent as one insert when it ends (group commit), so concurrent requests
 * make large batches without waiting on a timer; each append resolves once
 * the insert that holds it has been acknowledged by the server (the rows
 * are in a part on disk, not fsynced unless the server is configured so).
 *
 * `_bulk` index with an existing `_id` replaces the stored event: the
 * batch's replaced ids are deleted (a mutation, waited for) before the
 * batch is inserted (clickhouse-maintenance.ts). GDPR erasure deletes the
 * same way; retention drops whole day partitions.
 *
 * Not yet: rollups (every query reads raw events), spans, clusters.
 */
import { AppError } from '../../errors.ts';
import { EVENT_FIELDS } from '../../schema/fields.ts';
import { fromRowLine, type EventRecord, type StoredEvent } from '../../schema/record.ts';
import { buildSource } from '../event-source.ts';
import { attributeSampleSql, fieldPresenceSql } from '../sql/field-presence.ts';
import { compileFunnel, type FunnelRequest, type FunnelResult } from '../sql/funnel-compiler.ts';
import { compileErrorGroups, shapeGroups, shapeImpact, type ErrorGroupsRequest } from '../sql/error-groups-compiler.ts';
import { QueryCompiler, type CompiledQuery } from '../sql/query-compiler.ts';
import type { SqlDialect, SqlParam } from '../sql/sql-dialect.ts';
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
  ResultType,
  Store,
  StoreCapabilities,
} from '../store.ts';
import type { ClickHouseCapabilities } from './clickhouse-capabilities.ts';
import { clickhouseDialect, stringLiteral as sqlString } from './clickhouse-dialect.ts';
import { ClickHouseDocumentStore } from './clickhouse-documents.ts';
import { ClickHouseConnection, type CompactResult, type ClickHouseConnectionOptions } from './clickhouse-driver.ts';
import { customerCondition, deleteRows, dropExpiredPartitions } from './clickhouse-maintenance.ts';
import { CLICKHOUSE_MIGRATIONS } from './clickhouse-migrations.ts';

export interface ClickHouseStoreOptions extends ClickHouseConnectionOptions {
  readonly defaultLimit: number;
  readonly maxRows: number;
  /** Default query timeout, ms. */
  readonly queryTimeoutMs: number;
  /** Most rows one insert carries (default 100,000); more pending rows go in the next. */
  readonly maxBatchRows?: number;
}

/** Summary columns of an event search, by EVENT_FIELDS index. */
const SUMMARY_INDEXES = ['@timestamp', 'service.name', 'event.type', 'event.outcome', 'message'].map((name) =>
  EVENT_FIELDS.findIndex((f) => f.name === name),
);
const TYPED_COLUMNS = EVENT_FIELDS.map((f) => f.column);
const ARRAY_COLUMNS = new Set(EVENT_FIELDS.filter((f) => f.type === 'keyword[]').map((f) => f.column));

interface PendingAppend {
  readonly rows: Record<string, unknown>[];
  /** Per row: `[tenant, event_id]` as JSON when the row replaces a stored event of that id (an id may hold any byte, NUL too). */
  readonly replaces: (string | undefined)[];
  resolve(): void;
  reject(err: unknown): void;
}

export class ClickHouseStore implements Store {
  readonly engine = 'clickhouse';
  // Deletes are mutations the store waits for (clickhouse-maintenance.ts); the TTL clause comes later.
  readonly capabilities: StoreCapabilities = Object.freeze({ supportsDelete: true, supportsTtl: false });
  readonly #options: ClickHouseStoreOptions;
  #connection?: ClickHouseConnection;
  #dialect?: SqlDialect;
  readonly documents = new ClickHouseDocumentStore(() => this.#conn());
  #pending: PendingAppend[] = [];
  #inserting: Promise<void> | undefined;

  constructor(options: ClickHouseStoreOptions) {
    this.#options = options;
  }

  /** What the connected server can do (after open). */
  get serverCapabilities(): ClickHouseCapabilities {
    return this.#conn().caps;
  }

  async open(): Promise<void> {
    const connection = await ClickHouseConnection.open(this.#options);
    try {
      await migrate(connection);
    } catch (err) {
      await connection.close();
      throw err;
    }
    this.#connection = connection;
    this.#dialect = clickhouseDialect(connection.caps);
  }

  #conn(): ClickHouseConnection {
    if (!this.#connection) throw new AppError(503, 'store.closed', 'The store is not open');
    return this.#connection;
  }

  #d(): SqlDialect {
    if (!this.#dialect) throw new AppError(503, 'store.closed', 'The store is not open');
    return this.#dialect;
  }

  appendEvents(events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    let rows: Record<string, unknown>[];
    const replaces: (string | undefined)[] = [];
    try {
      rows = events.map((e) => {
        const row = toInsertRow(e);
        const id = row['event_id'];
        replaces.push(
          typeof e !== 'string' && e.replaceExisting && typeof id === 'string'
            ? JSON.stringify([e.tenant, id])
            : undefined,
        );
        return row;
      });
    } catch (err) {
      return Promise.reject(err);
    }
    this.#conn();
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ rows, replaces, resolve, reject });
      if (!this.#inserting) this.#inserting = this.#drainPending();
    });
  }

  /** Inserts what is pending, batch after batch, until nothing is. */
  async #drainPending(): Promise<void> {
    const maxRows = this.#options.maxBatchRows ?? 100_000;
    try {
      while (this.#pending.length > 0) {
        const batch: PendingAppend[] = [];
        let n = 0;
        while (
          this.#pending.length > 0 &&
          (batch.length === 0 || n + (this.#pending[0]?.rows.length ?? 0) <= maxRows)
        ) {
          const next = this.#pending.shift() as PendingAppend;
          batch.push(next);
          n += next.rows.length;
        }
        try {
          const { rows, replaced } = lastVersions(batch);
          const connection = this.#conn();
          for (const [tenant, ids] of replaced) {
            await deleteRows(
              connection,
              'events',
              `tenant = ${sqlString(tenant)} AND event_id IN (${[...ids].map(sqlString).join(', ')})`,
            );
          }
          await connection.insert('events', rows);
          for (const p of batch) p.resolve();
        } catch (err) {
          const error = new AppError(
            503,
            'store.write_failed',
            `Writing ${n} events failed: ${(err as Error).message}`,
            {
              cause: err,
              headers: { 'Retry-After': '1' },
            },
          );
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.#inserting = undefined;
    }
  }

  /** Inserts are visible once acknowledged: only the ones in flight are waited for. */
  async refresh(): Promise<void> {
    while (this.#inserting) await this.#inserting;
  }

  async existingEventIds(tenant: string, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const params: SqlParam[] = [{ value: tenant, type: 'string' }];
    const d = this.#d();
    const list = ids.map((id) => {
      params.push({ value: id, type: 'string' });
      return d.placeholder(params.length, 'string');
    });
    const result = await this.#read(
      `SELECT DISTINCT event_id FROM events WHERE tenant = ${d.placeholder(1, 'string')} AND event_id IN (${list.join(', ')})`,
      params,
    );
    return new Set(result.data.map((r) => String(r[0])));
  }

  #compile(request: QueryRequest): CompiledQuery {
    const compiler = new QueryCompiler(this.#d(), {
      defaultLimit: this.#options.defaultLimit,
      maxRows: this.#options.maxRows,
      nowMs: Date.now(),
    });
    // No rollups yet: every query reads raw events.
    const { useRollups: _u, minuteRollups: _m, latencyRollups: _l, ...raw } = request;
    return compiler.compile(raw);
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
      this.#read(compiled.sql, compiled.params, timeoutMs),
      this.#read(compiled.scanned.sql, compiled.scanned.params, timeoutMs),
    ]);
    return {
      ...shapeRows(compiled, result),
      stats: {
        elapsedMs: Math.round((performance.now() - started) * 10) / 10,
        rowsScanned: Number(scanned.data[0]?.[0] ?? 0),
      },
    };
  }

  async attributeFields(request: AttributeFieldsRequest): Promise<AttributeFields> {
    if (request.names.length === 0) return { present: new Set(), seen: [] };
    const timeoutMs = request.timeoutMs ?? this.#options.queryTimeoutMs;
    const d = this.#d();
    const presence = fieldPresenceSql(d, request.tenant, request.range, request.names);
    const row = (await this.#read(presence.sql, presence.params, timeoutMs)).data[0] ?? [];
    const present = new Set(request.names.filter((_, i) => Number(row[i] ?? 0) > 0));
    if (present.size === request.names.length) return { present, seen: [] };
    const sample = attributeSampleSql(d, request.tenant, request.range);
    const names = await this.#read(sample.sql, sample.params, timeoutMs);
    return { present, seen: names.data.map((r) => String(r[0])) };
  }

  async funnel(request: FunnelRequest): Promise<FunnelResult> {
    const compiled = compileFunnel(this.#d(), request, Date.now());
    const result = await this.#read(compiled.sql, compiled.params, request.timeoutMs ?? this.#options.queryTimeoutMs);
    return compiled.shape(result.data.map((r) => [...r]));
  }

  async errorGroups(request: ErrorGroupsRequest): Promise<ErrorGroupsResult> {
    // The impact query joins common table expressions, which this store does not translate yet.
    if (request.impact) throw notYet('Revenue at risk of error groups (impact)');
    const started = performance.now();
    const timeoutMs = request.timeoutMs ?? this.#options.queryTimeoutMs;
    const d = this.#d();
    const groups = compileErrorGroups(d, request);
    const rows = (r: CompactResult) => r.data.map((row) => [...row]);
    const [stats, impact] = await Promise.all([
      this.#read(groups.sql, groups.params, timeoutMs).then(rows),
      Promise.resolve([] as unknown[][]),
    ]);
    return {
      groups: shapeGroups(stats),
      impact: [...shapeImpact(impact).values()],
      elapsedMs: Math.round((performance.now() - started) * 10) / 10,
    };
  }

  async #read(sql: string, params: readonly SqlParam[], timeoutMs?: number): Promise<CompactResult> {
    const connection = this.#conn();
    if (timeoutMs === undefined)
      return connection.query(sql, params).catch((err: unknown) => Promise.reject(mapQueryError(err)));
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    try {
      return await connection.query(sql, params, { timeoutMs, signal: deadline.signal });
    } catch (err) {
      if (deadline.signal.aborted || /TIMEOUT_EXCEEDED|Timeout exceeded/i.test((err as Error).message ?? '')) {
        throw new AppError(
          504,
          'query.timeout',
          `The query was cancelled after ${timeoutMs} ms (query.timeout); narrow the time range or the filter`,
          { cause: err },
        );
      }
      throw mapQueryError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Counts the customer's events per data class, then deletes them (a mutation, waited for). */
  async eraseCustomer(tenant: string, match: CustomerMatch): Promise<ErasureResult> {
    await this.refresh();
    const condition = customerCondition(tenant, match);
    const connection = this.#conn();
    const counts = await connection.query(
      `SELECT data_class, count() FROM events WHERE ${condition} GROUP BY data_class ORDER BY data_class`,
    );
    const byDataClass: Record<string, number> = {};
    let deleted = 0;
    for (const [dataClass, n] of counts.data) {
      byDataClass[String(dataClass)] = Number(n);
      deleted += Number(n);
    }
    if (deleted > 0) await deleteRows(connection, 'events', condition);
    return { deleted, byDataClass };
  }

  async exportCustomer(tenant: string, match: CustomerMatch, limit: number): Promise<Record<string, unknown>[]> {
    await this.refresh();
    const result = await this.#read(
      `SELECT ${[...TYPED_COLUMNS, 'attributes'].join(', ')} FROM events WHERE ${customerCondition(tenant, match)} ` +
        `ORDER BY ts LIMIT ${Math.max(1, Math.trunc(limit))}`,
      [],
    );
    return result.data.map((r) => sourceOf(r));
  }

  /**
   * Retention by dropping the day partitions (per data class) that end
   * before the class's cutoff: whole days, so an event stays up to a day
   * past its retention. No hourly rollups yet (`rollupCutoffMs` unused).
   */
  async deleteExpired(
    cutoffs: Readonly<Record<string, number>>,
    _rollupCutoffMs: number,
  ): Promise<Record<string, number>> {
    await this.refresh();
    return dropExpiredPartitions(this.#conn(), cutoffs);
  }

  /** No rollups yet, so nothing to keep up. */
  async rollUp(nowMs: number = Date.now()): Promise<{ untilMs: number; caughtUp: boolean }> {
    return { untilMs: nowMs, caughtUp: true };
  }

  async checkWritable(): Promise<void> {
    let ok = false;
    try {
      ok = await this.#conn().ping();
    } catch (err) {
      throw new AppError(503, 'store.unreachable', `ClickHouse does not answer: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (!ok) throw new AppError(503, 'store.unreachable', 'ClickHouse does not answer /ping');
  }

  async close(): Promise<void> {
    await this.refresh();
    await this.documents.drain();
    const connection = this.#connection;
    this.#connection = undefined;
    this.#dialect = undefined;
    await connection?.close();
  }
}

/**
 * The rows of a batch, of several that replace the same `event.id` of a
 * tenant (concurrent `_bulk` index calls) only the last; and the ids to
 * delete first, per tenant.
 */
function lastVersions(batch: readonly PendingAppend[]): {
  rows: Record<string, unknown>[];
  replaced: Map<string, Set<string>>;
} {
  const replaced = new Map<string, Set<string>>();
  if (!batch.some((p) => p.replaces.some((k) => k !== undefined))) {
    return { rows: batch.flatMap((p) => p.rows), replaced };
  }
  const seen = new Set<string>();
  const kept: Record<string, unknown>[] = [];
  for (let b = batch.length - 1; b >= 0; b--) {
    const p = batch[b] as PendingAppend;
    for (let i = p.rows.length - 1; i >= 0; i--) {
      const key = p.replaces[i];
      if (key !== undefined) {
        if (seen.has(key)) continue;
        seen.add(key);
        const [tenant, id] = JSON.parse(key) as [string, string];
        const ids = replaced.get(tenant) ?? new Set<string>();
        ids.add(id);
        replaced.set(tenant, ids);
      }
      kept.push(p.rows[i] as Record<string, unknown>);
    }
  }
  return { rows: kept.reverse(), replaced };
}

function notYet(what: string): AppError {
  return new AppError(
    501,
    'store.unsupported',
    `${what} is not available on the ClickHouse store yet (docs/clickhouse.md)`,
  );
}

/** Applies the migrations not yet recorded in `schema_migrations`, in order. */
async function migrate(c: ClickHouseConnection): Promise<void> {
  await c.command(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version',
  );
  const applied = new Set(
    (await c.query('SELECT DISTINCT version FROM schema_migrations')).data.map((r) => Number(r[0])),
  );
  for (const m of CLICKHOUSE_MIGRATIONS) {
    if (applied.has(m.version)) continue;
    try {
      for (const statement of m.statements) await c.command(statement);
      await c.insert('schema_migrations', [{ version: m.version, name: m.name }]);
    } catch (err) {
      throw new Error(`ClickHouse migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

/** One event as a JSONEachRow object: attributes as JSON text, arrays never null. */
function toInsertRow(event: StoredEvent): Record<string, unknown> {
  const e: EventRecord = typeof event === 'string' ? fromRowLine(event) : event;
  const row: Record<string, unknown> = {
    ts: Math.round(e.ts),
    tenant: e.tenant,
    data_class: e.dataClass,
    attributes: e.attributes ? JSON.stringify(e.attributes) : '{}',
  };
  for (const [column, value] of Object.entries(e.columns)) {
    if (ARRAY_COLUMNS.has(column)) row[column] = value ?? [];
    else if (value !== null && value !== undefined) row[column] = value;
  }
  return row;
}

function isoOfMicros(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const us = Number(value);
  if (!Number.isFinite(us)) return null;
  return new Date(Math.floor(us / 1000)).toISOString();
}

/** A result value as the answer's type says (timestamps are epoch µs in ClickHouse). */
function convert(value: unknown, type: ResultType): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'timestamp':
      return isoOfMicros(value);
    case 'integer':
    case 'double': {
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(n) ? n : null;
    }
    case 'boolean':
      return value === true || value === 1 || value === '1';
    default:
      return value;
  }
}

function shapeRows(compiled: CompiledQuery, result: CompactResult): Pick<QueryResult, 'columns' | 'rows'> {
  if (compiled.shape.kind === 'table') {
    const { columns } = compiled.shape;
    return { columns, rows: result.data.map((r) => r.map((v, i) => convert(v, columns[i]?.type ?? 'string'))) };
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
  const nTyped = TYPED_COLUMNS.length;
  return {
    columns,
    rows: result.data.map((r) => {
      const values = typedValues(r);
      return [
        ...SUMMARY_INDEXES.map((i) => values[i] ?? null),
        sourceOf(r, values),
        ...r.slice(nTyped + 1).map((v, i) => convert(v, extra[i]?.type ?? 'string')),
      ];
    }),
  };
}

/** The typed values of a row that starts with TYPED_COLUMNS, as the answers write them. */
function typedValues(r: readonly unknown[]): unknown[] {
  return EVENT_FIELDS.map((f, i) => {
    const v = r[i];
    if (f.type === 'timestamp') return isoOfMicros(v);
    // Array columns cannot be NULL in ClickHouse: an empty one is an absent field.
    if (f.type === 'keyword[]') return Array.isArray(v) && v.length > 0 ? v : null;
    return v ?? null;
  });
}

/** The `_source` object of a row of TYPED_COLUMNS then the attributes' JSON text (`values`: its typedValues). */
function sourceOf(r: readonly unknown[], values = typedValues(r)): Record<string, unknown> {
  const attrsText = r[TYPED_COLUMNS.length];
  const parsed = typeof attrsText === 'string' && attrsText !== '' ? (JSON.parse(attrsText) as unknown) : null;
  const attributes =
    parsed && typeof parsed === 'object' && Object.keys(parsed).length > 0 ? (parsed as Record<string, unknown>) : null;
  return buildSource(values, attributes);
}

function mapQueryError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const message = (err as Error).message ?? String(err);
  // Type and argument errors come from what the query asked for, not from a fault of the store.
  if (
    /ILLEGAL_TYPE_OF_ARGUMENT|NO_COMMON_TYPE|CANNOT_PARSE|TYPE_MISMATCH|Illegal type|no supertype|Cannot convert/i.test(
      message,
    )
  ) {
    return new AppError(400, 'query.invalid', `The query cannot run: ${message}`, { cause: err });
  }
  // 18.16 resolves a name to an output alias before a column (`stats count() as service by service.name`).
  if (/Unknown identifier/i.test(message)) {
    return new AppError(
      400,
      'query.invalid',
      `The query cannot run on this ClickHouse server: ${message.split(', e.what()')[0]}; ` +
        'an output name equal to a field it groups by is not supported here: rename it (e.g. "as n")',
      { cause: err },
    );
  }
  if (/TOO_DEEP_AST|TOO_BIG_AST|AST is too (deep|big)/i.test(message)) {
    return new AppError(400, 'query.too_complex', 'The query nests expressions deeper than the engine allows', {
      cause: err,
    });
  }
  return err;
}
