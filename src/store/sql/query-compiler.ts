/**
 * The one query compiler: query IR → `{ sql, params }` for any engine, via
 * the small hooks of a `SqlDialect` (Kysely `DefaultQueryCompiler`).
 *
 * Shape of the SQL:
 * - an event search selects whole events from `events`, scoped to the
 *   tenant and time range, newest first, limited;
 * - a `stats` stage groups those events; every later stage wraps the
 *   previous one in a sub-select over its named output columns.
 */
import type { SortKey, Stage } from '../../query/ir.ts';
import { ATTRIBUTES_COLUMN, EVENT_FIELDS } from '../../schema/fields.ts';
import type { QueryRequest, ResultColumn, ResultType } from '../store.ts';
import { compileExpr, fieldTypeToResult, type CompiledExpr } from './expr-compiler.ts';
import { compileFilter, type CompileContext } from './filter-compiler.ts';
import { ParamList } from './param-list.ts';
import { aggregationSql, groupKeySql } from './aggregations.ts';
import { latencyStatsTable } from './latency-compiler.ts';
import {
  LATENCY_TABLE,
  latencyRollupsCanAnswer,
  MINUTE_MS,
  MINUTE_ROLLUP_TABLE,
  ROLLUP_TABLE,
  rollupAggregationSql,
  rollupCountSql,
  rollupsCanAnswer,
  rollupUnionSql,
  type UnionPart,
} from './rollups.ts';
import { EventScope, TableScope, type ColumnRef, type Scope } from './scope.ts';
import type { SqlDialect, SqlParam } from './sql-dialect.ts';

/** Name of the events table in every engine. */
export const EVENTS_TABLE = 'events';

/** Columns shown for an event search without `| fields` (besides `_source`). */
export const EVENT_SUMMARY_FIELDS = ['@timestamp', 'service.name', 'event.type', 'event.outcome', 'message'] as const;

export interface CompilerOptions {
  /** Rows of an event search without `| limit`. */
  readonly defaultLimit: number;
  /** Most rows any query returns. */
  readonly maxRows: number;
  /** "now" for relative times inside filters, ms. */
  readonly nowMs: number;
}

/**
 * How the store turns result rows into the answer:
 * - `events`: the SQL selects every typed column (EVENT_FIELDS order), then
 *   `attributes`, then `extra` columns; the store builds summary columns
 *   and `_source` from them.
 * - `table`: rows are the answer as they are.
 */
export type ResultShape =
  | { readonly kind: 'events'; readonly extra: readonly ResultColumn[] }
  | { readonly kind: 'table'; readonly columns: readonly ResultColumn[] };

export interface CompiledQuery {
  readonly sql: string;
  readonly params: readonly SqlParam[];
  readonly shape: ResultShape;
  /** Counts the tenant's events in the time range (the rows the query considers). */
  readonly scanned: { readonly sql: string; readonly params: readonly SqlParam[] };
}

/** A relation under construction: FROM + WHERE + ORDER BY + LIMIT. */
interface Relation {
  from: string;
  where: string[];
  orderBy: string[];
  limit?: number;
}

export class QueryCompiler {
  readonly #dialect: SqlDialect;
  readonly #options: CompilerOptions;

  constructor(dialect: SqlDialect, options: CompilerOptions) {
    this.#dialect = dialect;
    this.#options = options;
  }

  compile(request: QueryRequest): CompiledQuery {
    const d = this.#dialect;
    const minutes = request.minuteRollups;
    if (minutes && !request.useRollups && rollupsCanAnswer(request.query, MINUTE_MS)) {
      return this.#compileFromMinuteRollups(request, minutes);
    }
    const hours = request.latencyRollups;
    if (hours && !request.useRollups && latencyRollupsCanAnswer(request.query)) {
      return this.#compileFromLatencyHistograms(request, hours);
    }
    const params = new ParamList(d);
    const ctx: CompileContext = { dialect: d, params, nowMs: this.#options.nowMs };
    const scope = new EventScope(d, params);
    const base = this.#baseConditions(request, params);
    const rel: Relation = { from: d.quoteIdent(EVENTS_TABLE), where: [...base], orderBy: [] };
    const filterSql = compileFilter(request.query.filter, scope, ctx);
    if (filterSql !== '1 = 1') rel.where.push(filterSql);

    const stages = request.query.stages;
    const quote = (n: string): string => d.quoteIdent(n);
    if (request.useRollups && rollupsCanAnswer(request.query)) {
      // Expired hours live on as rollups: read raw events and rollups as one relation.
      const where = rel.where.join(' AND ');
      const fromSql = rollupUnionSql(quote, [
        { table: EVENTS_TABLE, rollup: false, where },
        { table: ROLLUP_TABLE, rollup: true, where },
      ]);
      return this.#rollupStats(stages, fromSql, scope, ctx, this.#scannedQuery(request));
    }

    const extras: ResultColumn[] = [];
    const extraSql: string[] = [];
    let fields: readonly string[] | undefined;
    let i = 0;
    for (; i < stages.length; i++) {
      const stage = stages[i] as Stage;
      if (stage.kind === 'stats') break;
      switch (stage.kind) {
        case 'where':
          if (rel.limit !== undefined) this.#wrapEvents(rel);
          rel.where.push(compileExpr(stage.expr, scope, ctx).sql);
          break;
        case 'eval':
          for (const { name, expr } of stage.assignments) {
            const compiled = compileExpr(expr, scope, ctx);
            scope.define(name, exprToRef(compiled, name));
            const at = extras.findIndex((c) => c.name === name);
            if (at >= 0) {
              extras.splice(at, 1);
              extraSql.splice(at, 1);
            }
            extras.push({ name, type: compiled.type });
            extraSql.push(`${compiled.sql} AS ${d.quoteIdent(name)}`);
          }
          break;
        case 'sort':
          if (rel.limit !== undefined) this.#wrapEvents(rel);
          rel.orderBy = this.#orderBy(stage.keys, scope, ctx);
          break;
        case 'limit':
          rel.limit = Math.min(rel.limit ?? Infinity, stage.n);
          break;
        case 'fields':
          fields = stage.fields;
          break;
      }
    }

    const scanned = this.#scannedQuery(request);
    if (i === stages.length) {
      return { ...this.#eventSearch(rel, scope, fields, extras, extraSql, ctx), scanned };
    }

    // Aggregation and everything after it.
    let table = this.#stats(stages[i] as Extract<Stage, { kind: 'stats' }>, this.#relationSql(rel), scope, ctx);
    for (i++; i < stages.length; i++) table = this.#tableStage(stages[i] as Stage, table, ctx);
    const { columns } = table;
    const sql = `SELECT * FROM (${table.sql}) AS r${orderClause(table.order)} LIMIT ${this.#options.maxRows}`;
    return { sql, params: params.params, shape: { kind: 'table', columns }, scanned };
  }

  /**
   * What a query over a span read from a rollup table needs: the filter
   * compiled once, the parts (raw events before and after the span, rollup
   * rows inside it) and the count of the events they hold.
   */
  #spanQuery(request: QueryRequest, span: { readonly fromMs: number; readonly toMs: number }, rollupTable: string) {
    const d = this.#dialect;
    const quote = (n: string): string => d.quoteIdent(n);
    const params = new ParamList(d);
    const ctx: CompileContext = { dialect: d, params, nowMs: this.#options.nowMs };
    const scope = new EventScope(d, params);
    const filterSql = compileFilter(request.query.filter, scope, ctx);
    const parts = this.#spanParts(request, span, rollupTable, params, filterSql);
    const countParams = new ParamList(d);
    const scanned = {
      sql: rollupCountSql(quote, this.#spanParts(request, span, rollupTable, countParams)),
      params: countParams.params,
    };
    return { quote, ctx, scope, parts, scanned };
  }

  /** Whole minutes up to the watermark from the minute rollups, the rest of the range from raw events. */
  #compileFromMinuteRollups(
    request: QueryRequest,
    minutes: { readonly fromMs: number; readonly toMs: number },
  ): CompiledQuery {
    const { quote, ctx, scope, parts, scanned } = this.#spanQuery(request, minutes, MINUTE_ROLLUP_TABLE);
    return this.#rollupStats(request.query.stages, rollupUnionSql(quote, parts), scope, ctx, scanned);
  }

  /** Percentiles of durations: whole hours from the latency histograms, the rest from raw events. */
  #compileFromLatencyHistograms(
    request: QueryRequest,
    hours: { readonly fromMs: number; readonly toMs: number },
  ): CompiledQuery {
    const { quote, ctx, scope, parts, scanned } = this.#spanQuery(request, hours, LATENCY_TABLE);
    const stages = request.query.stages;
    const table: Table = latencyStatsTable({
      quote,
      stage: stages[0] as Extract<Stage, { kind: 'stats' }>,
      parts,
      groupKey: (key) => groupKeySql(this.#dialect, key, scope),
    });
    return this.#finish(stages, table, ctx, scanned);
  }

  /** Stats over a union relation of raw events and rollups, then the later stages. */
  #rollupStats(
    stages: readonly Stage[],
    fromSql: string,
    scope: EventScope,
    ctx: CompileContext,
    scanned: CompiledQuery['scanned'],
  ): CompiledQuery {
    const table = this.#stats(stages[0] as Extract<Stage, { kind: 'stats' }>, fromSql, scope, ctx, true);
    return this.#finish(stages, table, ctx, scanned);
  }

  /** The stages after the first `stats` over its table, then the ordered, limited answer. */
  #finish(
    stages: readonly Stage[],
    first: Table,
    ctx: CompileContext,
    scanned: CompiledQuery['scanned'],
  ): CompiledQuery {
    let table = first;
    for (let k = 1; k < stages.length; k++) table = this.#tableStage(stages[k] as Stage, table, ctx);
    const sql = `SELECT * FROM (${table.sql}) AS r${orderClause(table.order)} LIMIT ${this.#options.maxRows}`;
    return { sql, params: ctx.params.params, shape: { kind: 'table', columns: table.columns }, scanned };
  }

  /**
   * The parts of a range when [rolled.fromMs, rolled.toMs) is read from a
   * rollup table: raw events before and after it.
   */
  #spanParts(
    request: QueryRequest,
    rolled: { readonly fromMs: number; readonly toMs: number },
    rollupTable: string,
    params: ParamList,
    filterSql?: string,
  ): UnionPart[] {
    const { fromMs, toMs } = request.range;
    const part = (table: string, rollup: boolean, range: { fromMs: number; toMs: number }): UnionPart => {
      const where = this.#baseConditions(request, params, range);
      if (filterSql !== undefined && filterSql !== '1 = 1') where.push(filterSql);
      return { table, rollup, where: where.join(' AND ') };
    };
    const parts: UnionPart[] = [];
    if (rolled.fromMs > fromMs) parts.push(part(EVENTS_TABLE, false, { fromMs, toMs: rolled.fromMs }));
    parts.push(part(rollupTable, true, rolled));
    if (toMs > rolled.toMs) parts.push(part(EVENTS_TABLE, false, { fromMs: rolled.toMs, toMs }));
    return parts;
  }

  #baseConditions(request: QueryRequest, params: ParamList, range = request.range): string[] {
    const d = this.#dialect;
    const conditions = [
      `${d.quoteIdent('tenant')} = ${params.add(request.tenant, 'string')}`,
      `${d.quoteIdent('ts')} >= ${params.add(range.fromMs * 1000, 'timestamp')}`,
      `${d.quoteIdent('ts')} < ${params.add(range.toMs * 1000, 'timestamp')}`,
    ];
    for (const dataClass of request.excludeDataClasses ?? []) {
      conditions.push(`${d.quoteIdent('data_class')} <> ${params.add(dataClass, 'string')}`);
    }
    return conditions;
  }

  #scannedQuery(request: QueryRequest): CompiledQuery['scanned'] {
    const params = new ParamList(this.#dialect);
    const where = this.#baseConditions(request, params);
    return {
      sql: `SELECT count(*) AS n FROM ${this.#dialect.quoteIdent(EVENTS_TABLE)} WHERE ${where.join(' AND ')}`,
      params: params.params,
    };
  }

  /** Turns a limited relation into a sub-select so that later filters apply after the limit. */
  #wrapEvents(rel: Relation): void {
    rel.from = `(${this.#relationSql(rel)}) AS e`;
    rel.where = [];
    rel.orderBy = [];
    delete rel.limit;
  }

  #relationSql(rel: Relation, select = '*'): string {
    let sql = `SELECT ${select} FROM ${rel.from}`;
    if (rel.where.length > 0) sql += ` WHERE ${rel.where.join(' AND ')}`;
    if (rel.orderBy.length > 0) sql += ` ORDER BY ${rel.orderBy.join(', ')}`;
    if (rel.limit !== undefined) sql += ` LIMIT ${rel.limit}`;
    return sql;
  }

  #orderBy(keys: readonly SortKey[], scope: Scope, ctx: CompileContext): string[] {
    return keys.flatMap((k) => {
      const dir = k.desc ? 'DESC' : 'ASC';
      if (k.expr.kind === 'column' && scope.isEvents) {
        // An attribute has no declared type: numbers sort as numbers (2 before 10), then any
        // values that are not numbers, as text.
        const ref = scope.resolve(k.expr.name, k.expr.span?.start ?? 0);
        if (ref.type === 'attribute') return [`${ref.numberSql} ${dir}`, `${ref.sql} ${dir}`];
        return [`${ref.sql} ${dir}`];
      }
      return [`${compileExpr(k.expr, scope, ctx).sql} ${dir}`];
    });
  }

  #eventSearch(
    rel: Relation,
    scope: EventScope,
    fields: readonly string[] | undefined,
    extras: readonly ResultColumn[],
    extraSql: readonly string[],
    ctx: CompileContext,
  ): Omit<CompiledQuery, 'scanned'> {
    const d = this.#dialect;
    if (rel.orderBy.length === 0) rel.orderBy = [`${d.quoteIdent('ts')} DESC`];
    rel.limit = Math.min(rel.limit ?? this.#options.defaultLimit, this.#options.maxRows);
    if (fields) {
      const columns: ResultColumn[] = [];
      const select = fields.map((name) => {
        const ref = scope.resolve(name);
        columns.push({ name, type: fieldTypeToResult(ref.type) });
        return `${ref.sql} AS ${d.quoteIdent(name)}`;
      });
      return {
        sql: this.#relationSql(rel, select.join(', ')),
        params: ctx.params.params,
        shape: { kind: 'table', columns },
      };
    }
    const select = [...EVENT_FIELDS.map((f) => d.quoteIdent(f.column)), d.quoteIdent(ATTRIBUTES_COLUMN), ...extraSql];
    return {
      sql: this.#relationSql(rel, select.join(', ')),
      params: ctx.params.params,
      shape: { kind: 'events', extra: extras },
    };
  }

  #stats(
    stage: Extract<Stage, { kind: 'stats' }>,
    fromSql: string,
    scope: Scope,
    ctx: CompileContext,
    fromRollups = false,
  ): Table {
    const d = this.#dialect;
    const columns: ResultColumn[] = [];
    const keySql: string[] = [];
    const select: string[] = [];
    const timeKeys: string[] = [];
    for (const key of stage.by) {
      const { sql, type, groupSql } = groupKeySql(this.#dialect, key, scope);
      keySql.push(groupSql ?? sql);
      select.push(`${sql} AS ${d.quoteIdent(key.as)}`);
      columns.push({ name: key.as, type });
      if (key.kind === 'bin') timeKeys.push(d.quoteIdent(key.as));
    }
    for (const agg of stage.aggs) {
      const { sql, type } = fromRollups
        ? {
            sql: rollupAggregationSql(
              agg,
              (n) => d.quoteIdent(n),
              agg.fn === 'countif' ? compileFilter(agg.filter ?? { kind: 'all' }, scope, ctx) : undefined,
            ),
            // Rollups answer counts and numeric measures only.
            type: (agg.fn === 'count' || agg.fn === 'countif' ? 'integer' : 'double') as ResultType,
          }
        : aggregationSql(this.#dialect, agg, scope, ctx);
      select.push(`${sql} AS ${d.quoteIdent(agg.as)}`);
      columns.push({ name: agg.as, type });
    }
    let sql = `SELECT ${select.join(', ')} FROM (${fromSql}) AS e`;
    if (keySql.length > 0) sql += ` GROUP BY ${keySql.join(', ')}`;
    // Time series read left to right; other breakdowns biggest first.
    const first = stage.aggs[0];
    const order =
      timeKeys.length > 0
        ? [...timeKeys, ...stage.by.filter((k) => k.kind !== 'bin').map((k) => d.quoteIdent(k.as))]
        : keySql.length > 0 && first
          ? [`${d.quoteIdent(first.as)} DESC`, ...keySql.map((_, k) => d.quoteIdent(stage.by[k]?.as ?? ''))]
          : [];
    return { sql, columns, order };
  }

  /**
   * A stage after `stats`: wraps the previous SQL and works on its output
   * columns. The ordering is carried along and applied again by each
   * wrapper, because SQL does not keep a sub-select's order.
   */
  #tableStage(stage: Stage, previous: Table, ctx: CompileContext): Table {
    const d = this.#dialect;
    const { columns, order } = previous;
    const scope = new TableScope(d, columns);
    const from = `(${previous.sql}) AS t`;
    switch (stage.kind) {
      case 'stats':
        return this.#stats(stage, `SELECT * FROM ${from}`, scope, ctx);
      case 'where':
        return { sql: `SELECT * FROM ${from} WHERE ${compileExpr(stage.expr, scope, ctx).sql}`, columns, order };
      case 'eval': {
        let cols = [...columns];
        let sql = previous.sql;
        // Each assignment may use the ones before it, so each wraps once.
        for (const { name, expr } of stage.assignments) {
          const compiled: CompiledExpr = compileExpr(expr, new TableScope(d, cols), ctx);
          const kept = cols.filter((c) => c.name !== name);
          const select = [...kept.map((c) => d.quoteIdent(c.name)), `${compiled.sql} AS ${d.quoteIdent(name)}`];
          sql = `SELECT ${select.join(', ')} FROM (${sql}) AS t`;
          cols = [...kept, { name, type: compiled.type }];
        }
        return { sql, columns: cols, order };
      }
      case 'sort':
        // The order is applied by whatever wraps this next; no sub-select needed.
        return { sql: previous.sql, columns, order: this.#orderBy(stage.keys, scope, ctx) };
      case 'limit': {
        const n = Math.min(stage.n, this.#options.maxRows);
        return { sql: `SELECT * FROM ${from}${orderClause(order)} LIMIT ${n}`, columns, order };
      }
      case 'fields': {
        const kept = stage.fields.map((name) => {
          const col = columns.find((c) => c.name === name);
          if (!col) scope.resolve(name, 0);
          return col as ResultColumn;
        });
        const names = new Set(kept.map((c) => d.quoteIdent(c.name)));
        return {
          sql: `SELECT ${kept.map((c) => d.quoteIdent(c.name)).join(', ')} FROM ${from}${orderClause(order)}`,
          columns: kept,
          // Orderings on dropped columns cannot be applied again outside.
          order: order.filter((o) => names.has(o.replace(/ (ASC|DESC)$/, ''))),
        };
      }
    }
  }
}

/** A table-shaped intermediate result. */
interface Table {
  readonly sql: string;
  readonly columns: ResultColumn[];
  /** ORDER BY items over the output column names. */
  readonly order: string[];
}

function orderClause(order: readonly string[]): string {
  return order.length > 0 ? ` ORDER BY ${order.join(', ')}` : '';
}

function exprToRef(e: CompiledExpr, name: string): ColumnRef {
  const type: ColumnRef['type'] =
    e.type === 'double'
      ? 'double'
      : e.type === 'integer'
        ? 'integer'
        : e.type === 'timestamp'
          ? 'timestamp'
          : 'keyword';
  return { sql: e.sql, numberSql: e.numberSql, existsSql: `${e.sql} IS NOT NULL`, type, name };
}
