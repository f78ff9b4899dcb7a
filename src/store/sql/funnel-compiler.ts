/**
 * Conversion funnels → SQL: how many visitors (sessions by default) reach
 * each step of an ordered list of filters, optionally split by a field
 * (device, segment). The pipe language cannot express this (it needs one
 * row per visitor with the first time of every step), so it has its own
 * compiler, built on the same filter compiler, scope and dialect hooks.
 *
 * A visitor reaches step i when it matched steps 1..i at non-decreasing
 * times (first occurrence of each step). User text only ever becomes
 * parameters.
 */
import { QueryError } from '../../errors.ts';
import { parseFilter } from '../../query/index.ts';
import type { TimeRange } from '../../query/ir.ts';
import { compileFilter, type CompileContext } from './filter-compiler.ts';
import { ParamList } from './param-list.ts';
import { EVENTS_TABLE } from './query-compiler.ts';
import { EventScope } from './scope.ts';
import type { SqlDialect, SqlParam } from './sql-dialect.ts';

/** One step of a funnel. */
export interface FunnelStep {
  /** Shown to the user, e.g. `Add to cart`. */
  readonly name: string;
  /** A filter in the query language, e.g. `event.type:add_to_cart`. */
  readonly filter: string;
}

export interface FunnelRequest {
  readonly tenant: string;
  readonly range: TimeRange;
  /** 2–10 steps, in order. */
  readonly steps: readonly FunnelStep[];
  /** Field that identifies a visitor (default `user.session_id`). */
  readonly key?: string;
  /** Split the funnel by this field (e.g. `session.device_type`); at most `maxGroups` groups. */
  readonly by?: string;
  readonly maxGroups?: number;
  readonly timeoutMs?: number;
}

/** Counts of one funnel (overall or for one group). */
export interface FunnelCounts {
  /** The value of `by` for this group (absent for the overall funnel). */
  readonly group?: string | null;
  readonly steps: readonly {
    readonly name: string;
    /** Visitors that reached this step. */
    readonly count: number;
    /** Share of the first step's visitors, percent (0–100). */
    readonly conversion: number;
    /** Share of the previous step's visitors, percent (100 for the first step). */
    readonly stepConversion: number;
    /** Visitors lost since the previous step. */
    readonly dropOff: number;
  }[];
}

export interface FunnelResult {
  readonly total: FunnelCounts;
  /** One funnel per value of `by`, biggest first (empty without `by`). */
  readonly groups: readonly FunnelCounts[];
}

export interface CompiledFunnel {
  readonly sql: string;
  readonly params: readonly SqlParam[];
  /** Turns the result rows (group, count per step) into the answer. */
  shape(rows: readonly (readonly unknown[])[]): FunnelResult;
}

export function compileFunnel(dialect: SqlDialect, request: FunnelRequest, nowMs: number): CompiledFunnel {
  const d = dialect;
  const params = new ParamList(d);
  const ctx: CompileContext = { dialect: d, params, nowMs };
  const scope = new EventScope(d, params);
  const n = request.steps.length;
  if (n < 2 || n > 10) throw new QueryError('query.invalid', `A funnel needs 2 to 10 steps, got ${n}`, 0);

  const conditions = request.steps.map((step, i) => {
    try {
      return compileFilter(parseFilter(step.filter), scope, ctx);
    } catch (err) {
      if (err instanceof QueryError) {
        throw new QueryError(
          err.code as 'query.syntax',
          `Step ${i + 1} ("${step.name}"): ${err.message}`,
          err.position,
        );
      }
      throw err;
    }
  });
  const key = scope.resolve(request.key ?? 'user.session_id');
  const group = request.by ? scope.resolve(request.by) : undefined;
  const ts = d.quoteIdent('ts');
  const where = [
    `${d.quoteIdent('tenant')} = ${params.add(request.tenant, 'string')}`,
    `${ts} >= ${params.add(request.range.fromMs * 1000, 'timestamp')}`,
    `${ts} < ${params.add(request.range.toMs * 1000, 'timestamp')}`,
    key.existsSql,
    `(${conditions.map((c) => `(${c})`).join(' OR ')})`,
  ];
  const firstTimes = conditions.map((c, i) => `min(CASE WHEN ${c} THEN ${ts} END) AS t${i}`);
  const groupSelect = group ? `${group.sql} AS g` : 'NULL AS g';
  const inner =
    `SELECT ${key.sql} AS k, ${groupSelect}, ${firstTimes.join(', ')} FROM ${d.quoteIdent(EVENTS_TABLE)}` +
    ` WHERE ${where.join(' AND ')} GROUP BY ${key.sql}${group ? `, ${group.sql}` : ''}`;
  // Step i counts when every step up to i happened, in order.
  const reached = conditions.map((_, i) => {
    const parts = ['t0 IS NOT NULL'];
    for (let j = 1; j <= i; j++) parts.push(`t${j} >= t${j - 1}`);
    return `sum(CASE WHEN ${parts.join(' AND ')} THEN 1 ELSE 0 END) AS s${i}`;
  });
  const maxGroups = request.maxGroups ?? 20;
  const sql = `SELECT g, ${reached.join(', ')} FROM (${inner}) AS v GROUP BY g ORDER BY s0 DESC LIMIT 1000`;

  return {
    sql,
    params: params.params,
    shape(rows) {
      const names = request.steps.map((s) => s.name);
      const groups = rows.map((r) =>
        counts(names, r.slice(1).map(Number), group ? (r[0] as string | null) : undefined),
      );
      const totals = names.map((_, i) => rows.reduce((sum, r) => sum + Number(r[i + 1] ?? 0), 0));
      return { total: counts(names, totals, undefined), groups: group ? groups.slice(0, maxGroups) : [] };
    },
  };
}

function counts(names: readonly string[], values: readonly number[], group: string | null | undefined): FunnelCounts {
  const first = values[0] ?? 0;
  const pct = (a: number, b: number) => (b > 0 ? Math.round((a * 10000) / b) / 100 : 0);
  return {
    ...(group === undefined ? {} : { group }),
    steps: names.map((name, i) => {
      const count = values[i] ?? 0;
      const previous = i === 0 ? count : (values[i - 1] ?? 0);
      return {
        name,
        count,
        conversion: pct(count, first),
        stepConversion: i === 0 ? 100 : pct(count, previous),
        dropOff: previous - count,
      };
    }),
  };
}
