/** The SQL of `stats` keys and aggregations over events, through the dialect's hooks. */
import { QueryError } from '../../errors.ts';
import type { Aggregation, GroupKey } from '../../query/ir.ts';
import type { ResultType } from '../store.ts';
import { fieldTypeToResult } from './expr-compiler.ts';
import { compileFilter, type CompileContext } from './filter-compiler.ts';
import type { ColumnRef, Scope } from './scope.ts';
import type { SqlDialect } from './sql-dialect.ts';

/** A `by` key: the SQL shown, its type, and (for time bins, when the dialect prefers) the SQL grouped on. */
export function groupKeySql(
  d: SqlDialect,
  key: GroupKey,
  scope: Scope,
): { sql: string; type: ResultType; groupSql?: string } {
  const ref = scope.resolve(key.field, 0);
  if (key.kind === 'bin') {
    if (ref.type === 'timestamp') {
      const groupSql = d.timeBucketGroupKey?.(ref.sql, key.intervalMs);
      return {
        sql: d.timeBucket(ref.sql, key.intervalMs),
        type: 'timestamp',
        ...(groupSql === undefined ? {} : { groupSql }),
      };
    }
    throw new QueryError('query.invalid', `bin() needs a time field; "${key.field}" is not one`, 0);
  }
  return { sql: ref.sql, type: fieldTypeToResult(ref.type) };
}

/** One aggregation of a `stats` stage over raw events. */
export function aggregationSql(
  d: SqlDialect,
  agg: Aggregation,
  scope: Scope,
  ctx: CompileContext,
): { sql: string; type: ResultType } {
  const field = (): ColumnRef => {
    if (agg.field === undefined) throw new QueryError('query.invalid', `${agg.fn}() needs a field`, 0);
    return scope.resolve(agg.field, 0);
  };
  switch (agg.fn) {
    case 'count':
      return { sql: 'count(*)', type: 'integer' };
    case 'countif':
      // A condition on an absent field is NULL on every row, and a count over
      // only NULLs is NULL in DuckDB: no match counts 0, as on the rollup path.
      return {
        sql: `coalesce(${d.countIf(compileFilter(agg.filter ?? { kind: 'all' }, scope, ctx))}, 0)`,
        type: 'integer',
      };
    case 'sum':
      return { sql: `sum(${field().numberSql})`, type: 'double' };
    case 'avg':
      return { sql: `avg(${field().numberSql})`, type: 'double' };
    case 'min':
    case 'max': {
      const ref = field();
      const keepType = ref.type === 'timestamp' || ref.type === 'keyword';
      return {
        sql: `${agg.fn}(${keepType ? ref.sql : ref.numberSql})`,
        type: keepType ? fieldTypeToResult(ref.type) : 'double',
      };
    }
    case 'dc':
      return { sql: d.distinctCount(field().sql), type: 'integer' };
    case 'percentile':
      return { sql: d.quantile(field().numberSql, (agg.percentile ?? 50) / 100), type: 'double' };
  }
}
