/**
 * SQL for the unknown-field check of a query: which attribute names (fields
 * without a typed column) some event of the tenant in the range holds, and
 * a sample of the attribute names events hold (for suggestions). Each
 * presence test stops at the first event that has the field (`LIMIT 1`),
 * so a field in use costs almost nothing; only a name no event has scans
 * the range.
 */
import type { TimeRange } from '../../query/ir.ts';
import { ParamList } from './param-list.ts';
import { EVENTS_TABLE } from './query-compiler.ts';
import type { SqlDialect, SqlParam } from './sql-dialect.ts';

/** Rows read for the sample of attribute names. */
const SAMPLE_ROWS = 2_000;
/** Most attribute names the sample returns. */
const SAMPLE_NAMES = 500;

function scopeWhere(d: SqlDialect, params: ParamList, tenant: string, range: TimeRange): string {
  return [
    `${d.quoteIdent('tenant')} = ${params.add(tenant, 'string')}`,
    `${d.quoteIdent('ts')} >= ${params.add(range.fromMs * 1000, 'timestamp')}`,
    `${d.quoteIdent('ts')} < ${params.add(range.toMs * 1000, 'timestamp')}`,
  ].join(' AND ');
}

/** One row with one 0/1 column per name: whether some event holds that attribute. */
export function fieldPresenceSql(
  d: SqlDialect,
  tenant: string,
  range: TimeRange,
  names: readonly string[],
): { sql: string; params: readonly SqlParam[] } {
  const params = new ParamList(d);
  const where = scopeWhere(d, params, tenant, range);
  const columns = names.map((name, i) => {
    const path = params.add(d.attributePath(name), 'string');
    const hit = `SELECT 1 FROM ${d.quoteIdent(EVENTS_TABLE)} WHERE ${where} AND ${d.attrExists(path)} LIMIT 1`;
    return `(SELECT count(*) FROM (${hit}) AS h${i}) AS ${d.quoteIdent(`f${i}`)}`;
  });
  return { sql: `SELECT ${columns.join(', ')}`, params: params.params };
}

/** Distinct attribute names of a sample of the tenant's events in the range, one per row. */
export function attributeSampleSql(
  d: SqlDialect,
  tenant: string,
  range: TimeRange,
): { sql: string; params: readonly SqlParam[] } {
  const params = new ParamList(d);
  const sample = `SELECT ${d.quoteIdent('attributes')} FROM ${d.quoteIdent(EVENTS_TABLE)} WHERE ${scopeWhere(d, params, tenant, range)} LIMIT ${SAMPLE_ROWS}`;
  return { sql: `${d.attributeNames(sample)} LIMIT ${SAMPLE_NAMES}`, params: params.params };
}
