/**
 * The per-engine hooks of the query compiler (Kysely's dialect adapter,
 * Cube's DuckDBQuery vs ClickHouseQuery). Everything engine-specific about
 * SQL text lives in an implementation of this interface under
 * `src/store/<engine>/`.
 */

/** Engine-neutral parameter types; each dialect maps them to its own. */
export type ParamType = 'string' | 'double' | 'integer' | 'timestamp';

export interface SqlParam {
  readonly value: string | number;
  readonly type: ParamType;
}

export interface SqlDialect {
  /** Quotes an identifier (column name or alias). */
  quoteIdent(name: string): string;
  /** The placeholder text for parameter number `index` (1-based). */
  placeholder(index: number, type: ParamType): string;
  /** Start of the time bucket of `intervalMs` that `tsSql` falls in. */
  timeBucket(tsSql: string, intervalMs: number): string;
  /**
   * Optional: a cheaper expression to GROUP BY for the same buckets (e.g. an
   * integer bucket number). `timeBucket` must contain it verbatim, so that the
   * engine sees the selected bucket as a function of the group key.
   */
  timeBucketGroupKey?(tsSql: string, intervalMs: number): string;
  /** Continuous quantile, `fraction` in (0, 1). */
  quantile(exprSql: string, fraction: number): string;
  distinctCount(exprSql: string): string;
  countIf(condSql: string): string;
  /** The attribute's value as text (NULL when absent). `pathSql` is a placeholder from `attributePath`. */
  attrString(pathSql: string): string;
  /** The attribute's value as a double (NULL when absent or not numeric). */
  attrDouble(pathSql: string): string;
  /** True when the attribute is present and not an empty array. */
  attrExists(pathSql: string): string;
  /**
   * A SELECT of the distinct attribute names (one per row, column `name`)
   * held by the rows of `rowsSql`, a SELECT with an `attributes` column.
   */
  attributeNames(rowsSql: string): string;
  /** The parameter value that addresses attribute `name` for the functions above. */
  attributePath(name: string): string;
  /** `exprSql LIKE patternSql` where the pattern escapes with backslash. */
  like(exprSql: string, patternSql: string): string;
  /** Case-insensitive substring test; `needleSql` is already lower-case. */
  containsLower(exprSql: string, needleSql: string): string;
  arrayContains(arraySql: string, valueSql: string): string;
  arrayNotEmpty(arraySql: string): string;
  /** True when any element of the array matches the LIKE pattern. */
  arrayAnyLike(arraySql: string, patternSql: string): string;
  /** Casts to a double, NULL when not convertible. */
  toDouble(exprSql: string): string;
  /** Scalar functions of the expression language (abs, round, ...), by name. */
  scalarFunction(name: string, argsSql: readonly string[]): string;
  /** `IF(cond, a, b)`. */
  ifThenElse(condSql: string, thenSql: string, elseSql: string): string;
  /** Milliseconds since the epoch of a timestamp expression, as an integer. */
  epochMs(tsSql: string): string;
  /** Aggregate: the value of `valueSql` in the row where `bySql` is largest. */
  argMax(valueSql: string, bySql: string): string;
  /** Aggregate: up to `limit` distinct non-null values of `exprSql`, as an array. */
  distinctValues(exprSql: string, limit: number): string;
}
