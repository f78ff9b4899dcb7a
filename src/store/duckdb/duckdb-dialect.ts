/**
 * DuckDB's SQL hooks for the shared query compiler.
 */
import type { ParamType, SqlDialect } from '../sql/sql-dialect.ts';

const SCALAR_FUNCTIONS: Record<string, (args: readonly string[]) => string> = {
  abs: (a) => `abs(${a[0]})`,
  round: (a) => (a.length > 1 ? `round(${a[0]}, CAST(${a[1]} AS INTEGER))` : `round(${a[0]})`),
  floor: (a) => `floor(${a[0]})`,
  ceil: (a) => `ceil(${a[0]})`,
  coalesce: (a) => `coalesce(${a.join(', ')})`,
  lower: (a) => `lower(${a[0]})`,
  upper: (a) => `upper(${a[0]})`,
};

export const duckdbDialect: SqlDialect = {
  quoteIdent: (name) => `"${name.replace(/"/g, '""')}"`,
  placeholder: (index: number, _type: ParamType) => `$${index}`,
  timeBucket: (tsSql, intervalMs) => {
    if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) throw new Error(`bad interval ${intervalMs}`);
    // Integer arithmetic on epoch microseconds: about twice as fast as time_bucket()
    // in DuckDB. Buckets align to the epoch (UTC midnight for whole days), like
    // ClickHouse's toStartOfInterval.
    const us = intervalMs * 1000;
    return `make_timestamp((epoch_us(${tsSql}) // ${us}) * ${us})`;
  },
  // Grouping on the integer bucket number, then turning only the groups into
  // timestamps, saves a timestamp conversion per row.
  timeBucketGroupKey: (tsSql, intervalMs) => `(epoch_us(${tsSql}) // ${intervalMs * 1000})`,
  quantile: (exprSql, fraction) => `quantile_cont(${exprSql}, ${fraction})`,
  distinctCount: (exprSql) => `count(DISTINCT ${exprSql})`,
  countIf: (condSql) => `count_if(${condSql})`,
  attrString: (pathSql) => `json_extract_string("attributes", ${pathSql})`,
  attrDouble: (pathSql) => `TRY_CAST(json_extract_string("attributes", ${pathSql}) AS DOUBLE)`,
  attrExists: (pathSql) =>
    `(json_extract("attributes", ${pathSql}) IS NOT NULL AND json_extract_string("attributes", ${pathSql}) NOT IN ('[]', 'null'))`,
  attributeNames: (rowsSql) => `SELECT DISTINCT unnest(json_keys("attributes")) AS "name" FROM (${rowsSql}) AS s`,
  // Attributes are stored flat under their dotted names, so the JSON path quotes the whole name.
  attributePath: (name) => `$."${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
  like: (exprSql, patternSql) => `(${exprSql} LIKE ${patternSql} ESCAPE '\\')`,
  containsLower: (exprSql, needleSql) => `contains(lower(${exprSql}), ${needleSql})`,
  arrayContains: (arraySql, valueSql) => `list_contains(${arraySql}, ${valueSql})`,
  arrayNotEmpty: (arraySql) => `(len(${arraySql}) > 0)`,
  arrayAnyLike: (arraySql, patternSql) => `(len(list_filter(${arraySql}, x -> x LIKE ${patternSql} ESCAPE '\\')) > 0)`,
  toDouble: (exprSql) => `TRY_CAST(${exprSql} AS DOUBLE)`,
  scalarFunction: (name, args) => {
    const fn = Object.hasOwn(SCALAR_FUNCTIONS, name) ? SCALAR_FUNCTIONS[name] : undefined;
    if (!fn) throw new Error(`unknown function ${name}`);
    return fn(args);
  },
  ifThenElse: (c, a, b) => `(CASE WHEN ${c} THEN ${a} ELSE ${b} END)`,
  epochMs: (tsSql) => `epoch_ms(${tsSql})`,
  argMax: (valueSql, bySql) => `arg_max(${valueSql}, ${bySql})`,
  distinctValues: (exprSql, limit) =>
    `list_slice(list(DISTINCT ${exprSql}) FILTER (WHERE ${exprSql} IS NOT NULL), 1, ${Math.trunc(limit)})`,
};
