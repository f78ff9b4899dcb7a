/**
 * Deletions the store does on its own data: retention (events older than
 * their data class keeps them) and GDPR erasure, plus the matching export.
 * They run on the writer connection, between ingest batches.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import duckdb from '@duckdb/node-api';
import type { CustomerMatch, ErasureResult } from '../store.ts';

const { listValue, timestampValue } = duckdb;

/**
 * Events of the customer: their id as customer or user id, or one of the
 * texts (e.g. their e-mail address, raw and masked) in the message or any
 * attribute. The audit class is never matched: the trail is not erasable.
 */
function customerWhere(match: CustomerMatch, first: number): { sql: string; params: DuckDBValue[] } {
  const parts: string[] = [];
  const params: DuckDBValue[] = [];
  let n = first;
  if (match.ids.length > 0) {
    parts.push(`customer_id IN (SELECT unnest($${n}::VARCHAR[]))`, `user_id IN (SELECT unnest($${n}::VARCHAR[]))`);
    params.push(listValue([...match.ids]));
    n++;
  }
  for (const text of match.texts) {
    parts.push(`contains(coalesce(message, ''), $${n})`, `contains(coalesce(CAST(attributes AS VARCHAR), ''), $${n})`);
    params.push(text);
    n++;
  }
  return { sql: parts.length > 0 ? `(${parts.join(' OR ')})` : 'false', params };
}

export async function eraseCustomer(c: DuckDBConnection, tenant: string, match: CustomerMatch): Promise<ErasureResult> {
  const where = customerWhere(match, 2);
  const condition = `tenant = $1 AND data_class <> 'audit' AND ${where.sql}`;
  const counts = await c.runAndReadAll(
    `SELECT data_class, count(*) FROM events WHERE ${condition} GROUP BY data_class ORDER BY data_class`,
    [tenant, ...where.params],
  );
  const byDataClass: Record<string, number> = {};
  for (const [dataClass, n] of counts.getRows()) byDataClass[String(dataClass)] = Number(n);
  const result = await c.run(`DELETE FROM events WHERE ${condition}`, [tenant, ...where.params]);
  return { deleted: result.rowsChanged, byDataClass };
}

/** The customer's events as stored (typed columns and attributes), oldest first. */
export function exportCustomerSql(
  match: CustomerMatch,
  limit: number,
): { sql: string; params: (tenant: string) => DuckDBValue[] } {
  const where = customerWhere(match, 2);
  return {
    sql: `SELECT * EXCLUDE (attributes), CAST(attributes AS VARCHAR) AS attributes FROM events WHERE tenant = $1 AND data_class <> 'audit' AND ${where.sql} ORDER BY ts LIMIT ${Math.max(1, Math.trunc(limit))}`,
    params: (tenant) => [tenant, ...where.params],
  };
}

/** Deletes, per data class, events older than the cutoff (epoch ms); counts per class. */
export async function deleteExpired(
  c: DuckDBConnection,
  cutoffs: Readonly<Record<string, number>>,
): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  for (const [dataClass, cutoffMs] of Object.entries(cutoffs)) {
    const result = await c.run('DELETE FROM events WHERE data_class = $1 AND ts < $2', [
      dataClass,
      timestampValue(BigInt(Math.trunc(cutoffMs)) * 1000n),
    ]);
    deleted[dataClass] = result.rowsChanged;
  }
  return deleted;
}
