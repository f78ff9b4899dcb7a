/**
 * Kusto (Application Insights / Azure Monitor) table names at the start of a
 * query, so that the queries of seed 003 §8 run as written:
 *
 * ```
 * exceptions | summarize count() by type, outerMessage | top 10 by count_ desc
 * ```
 *
 * `exceptions` selects the error events (those with an `exception.type`),
 * and inside the stages its column names stand for Shoplens fields
 * (`type` → `exception.type`, `outerMessage` → `exception.message`,
 * `problemId` → `error.fingerprint`, ...). Output columns keep the names as
 * written (`type`, `outerMessage`), as Kusto names them.
 */
import type { Expr, Filter, Query, Stage } from './ir.ts';

interface KustoTable {
  readonly filter: Filter;
  readonly fields: Readonly<Record<string, string>>;
}

const TABLES: Readonly<Record<string, KustoTable>> = {
  exceptions: {
    filter: { kind: 'exists', field: 'exception.type' },
    fields: {
      type: 'exception.type',
      outerType: 'exception.type',
      innermostType: 'exception.type',
      outerMessage: 'exception.message',
      innermostMessage: 'exception.message',
      problemId: 'error.fingerprint',
      timestamp: '@timestamp',
      cloud_RoleName: 'service.name',
      appVersion: 'service.version',
      operation_Id: 'trace_id',
      user_Id: 'user.id',
      session_Id: 'user.session_id',
      severityLevel: 'log.level',
      client_Browser: 'session.browser',
    },
  },
};

/** The table a query starts with (`exceptions | ...`) and where its stages start; undefined when none. */
export function kustoTableAt(text: string): { table: KustoTable; stagesAt: number } | undefined {
  const m = /^\s*([A-Za-z]+)\s*(?=\||$)/.exec(text);
  const table = m && Object.hasOwn(TABLES, m[1] as string) ? TABLES[m[1] as string] : undefined;
  return table && m ? { table, stagesAt: m[0].length } : undefined;
}

function renameExpr(e: Expr, f: (name: string) => string): Expr {
  switch (e.kind) {
    case 'column':
      return { ...e, name: f(e.name) };
    case 'unary':
      return { ...e, arg: renameExpr(e.arg, f) };
    case 'binary':
      return { ...e, left: renameExpr(e.left, f), right: renameExpr(e.right, f) };
    case 'call':
      return { ...e, args: e.args.map((a) => renameExpr(a, f)) };
    default:
      return e;
  }
}

function renameFilter(filter: Filter, f: (name: string) => string): Filter {
  switch (filter.kind) {
    case 'and':
    case 'or':
      return { ...filter, items: filter.items.map((i) => renameFilter(i, f)) };
    case 'not':
      return { ...filter, item: renameFilter(filter.item, f) };
    case 'match':
    case 'range':
    case 'exists':
      return { ...filter, field: f(filter.field) };
    default:
      return filter;
  }
}

/** The query over the table: its filter added, its column names turned into fields up to the first stats. */
export function overTable(table: KustoTable, stages: readonly Stage[]): Query {
  const f = (name: string) => (Object.hasOwn(table.fields, name) ? (table.fields[name] as string) : name);
  let events = true;
  const renamed = stages.map((stage): Stage => {
    if (!events) return stage;
    switch (stage.kind) {
      case 'where':
        return { ...stage, expr: renameExpr(stage.expr, f) };
      case 'eval':
        return { ...stage, assignments: stage.assignments.map((a) => ({ ...a, expr: renameExpr(a.expr, f) })) };
      case 'sort':
        return { ...stage, keys: stage.keys.map((k) => ({ ...k, expr: renameExpr(k.expr, f) })) };
      case 'fields':
        events = false;
        return stage;
      case 'stats':
        events = false;
        return {
          ...stage,
          aggs: stage.aggs.map((a) => ({
            ...a,
            ...(a.field === undefined ? {} : { field: f(a.field) }),
            ...(a.filter === undefined ? {} : { filter: renameFilter(a.filter, f) }),
          })),
          by: stage.by.map((k) => ({ ...k, field: f(k.field) })),
        };
      default:
        return stage;
    }
  });
  return { filter: table.filter, stages: renamed };
}
