/**
 * Deletions the store does on its own data: retention (events older than
 * their data class keeps them) and GDPR erasure, plus the matching export.
 * They run on the writer connection, between ingest batches.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import duckdb from '@duckdb/node-api';
import { ROLLUP_DIMENSIONS, ROLLUP_MEASURES } from '../sql/rollups.ts';
import type { CustomerMatch, ErasureResult } from '../store.ts';
import { duckdbDialect } from './duckdb-dialect.ts';
import { minutesOfEvents, rerollMinutes } from './duckdb-rollups.ts';

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

/** Span attributes that name a customer or user (OpenTelemetry's `enduser.id` among them). */
const SPAN_CUSTOMER_KEYS = ['customer.id', 'customer_id', 'user.id', 'user_id', 'enduser.id'];

/** The customer's spans: by id in their attributes, or any text anywhere in name, attributes or events. */
function spanCustomerWhere(match: CustomerMatch, first: number): { sql: string; params: DuckDBValue[] } {
  const parts: string[] = [];
  const params: DuckDBValue[] = [];
  let n = first;
  if (match.ids.length > 0) {
    for (const key of SPAN_CUSTOMER_KEYS) {
      parts.push(`json_extract_string(attributes, '$."${key}"') IN (SELECT unnest($${n}::VARCHAR[]))`);
    }
    params.push(listValue([...match.ids]));
    n++;
  }
  for (const text of match.texts) {
    parts.push(
      `contains(name || coalesce(CAST(attributes AS VARCHAR), '') || coalesce(CAST(events AS VARCHAR), ''), $${n})`,
    );
    params.push(text);
    n++;
  }
  return { sql: parts.length > 0 ? `(${parts.join(' OR ')})` : 'false', params };
}

/** Deletes the customer's events; rebuilds the minute rollups (before `minuteWatermarkMs`) they were part of. */
export async function eraseCustomer(
  c: DuckDBConnection,
  tenant: string,
  match: CustomerMatch,
  minuteWatermarkMs: number,
): Promise<ErasureResult> {
  const where = customerWhere(match, 2);
  const condition = `tenant = $1 AND data_class <> 'audit' AND ${where.sql}`;
  const counts = await c.runAndReadAll(
    `SELECT data_class, count(*) FROM events WHERE ${condition} GROUP BY data_class ORDER BY data_class`,
    [tenant, ...where.params],
  );
  const byDataClass: Record<string, number> = {};
  for (const [dataClass, n] of counts.getRows()) byDataClass[String(dataClass)] = Number(n);
  const minutes =
    minuteWatermarkMs > 0
      ? await minutesOfEvents(c, condition, [tenant, ...where.params], minuteWatermarkMs)
      : new Set<number>();
  const result = await c.run(`DELETE FROM events WHERE ${condition}`, [tenant, ...where.params]);
  await rerollMinutes(c, minutes, minuteWatermarkMs);
  const spans = spanCustomerWhere(match, 2);
  const erasedSpans = await c.run(`DELETE FROM spans WHERE tenant = $1 AND ${spans.sql}`, [tenant, ...spans.params]);
  return { deleted: result.rowsChanged, byDataClass, spans: erasedSpans.rowsChanged };
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

const HOUR_US = 3_600_000_000n;
const HOUR_MS = 3_600_000;

/**
 * Retention: per data class, folds the whole hours before the cutoff into
 * the hourly rollups, then deletes those raw events (rolling up and deleting
 * in one transaction, so an hour is never both raw and rolled up). Rollups
 * older than `rollupCutoffMs` are deleted too. Answers the raw events
 * deleted per class and the new rolled-until instant per class.
 */
export async function deleteExpired(
  c: DuckDBConnection,
  cutoffs: Readonly<Record<string, number>>,
  rollupCutoffMs: number,
): Promise<{ deleted: Record<string, number>; rolledUntil: Record<string, number> }> {
  const deleted: Record<string, number> = {};
  const rolledUntil: Record<string, number> = {};
  const dims = ROLLUP_DIMENSIONS.join(', ');
  const measures = ROLLUP_MEASURES.map((m) => `sum(${m}), count(${m}), min(${m}), max(${m})`).join(', ');
  for (const [dataClass, cutoffMs] of Object.entries(cutoffs)) {
    const cutUs = ((BigInt(Math.trunc(cutoffMs)) * 1000n) / HOUR_US) * HOUR_US;
    const cut = timestampValue(cutUs);
    await c.run(
      `INSERT INTO events_1h SELECT tenant, data_class, ${duckdbDialect.timeBucket('ts', HOUR_MS)} AS hour, ${dims}, count(*), ${measures} ` +
        `FROM events WHERE data_class = $1 AND ts < $2 GROUP BY tenant, data_class, hour, ${dims}`,
      [dataClass, cut],
    );
    const result = await c.run('DELETE FROM events WHERE data_class = $1 AND ts < $2', [dataClass, cut]);
    // Their minute rollups go with them (the hours above live on).
    await c.run('DELETE FROM events_1m WHERE data_class = $1 AND ts < $2', [dataClass, cut]);
    await c.run('DELETE FROM latency_1h WHERE data_class = $1 AND ts < $2', [dataClass, cut]);
    await c.run('DELETE FROM errors_1h WHERE data_class = $1 AND ts < $2', [dataClass, cut]);
    deleted[dataClass] = result.rowsChanged;
    // Spans are application telemetry: they follow the app class's retention (not reported per class).
    if (dataClass === 'app') await c.run('DELETE FROM spans WHERE start_ts < $1', [cut]);
    await c.run(
      'INSERT INTO rollup_state VALUES ($1, $2) ON CONFLICT (data_class) DO UPDATE SET rolled_until = greatest(rolled_until, excluded.rolled_until)',
      [dataClass, cut],
    );
    rolledUntil[dataClass] = Number(cutUs / 1000n);
  }
  await c.run('DELETE FROM events_1h WHERE ts < $1', [timestampValue(BigInt(Math.trunc(rollupCutoffMs)) * 1000n)]);
  return { deleted, rolledUntil };
}

/** Latest rolled-until instant over all classes (epoch ms), or 0 when nothing was rolled up. */
export async function rolledUntilMs(c: DuckDBConnection): Promise<number> {
  const reader = await c.runAndReadAll('SELECT max(epoch_ms(rolled_until)) FROM rollup_state');
  return Number(reader.getRows()[0]?.[0] ?? 0);
}
