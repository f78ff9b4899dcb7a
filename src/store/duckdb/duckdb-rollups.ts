/**
 * Upkeep of the minute rollups (`events_1m`), the hourly latency
 * histograms (`latency_1h`, see src/store/sql/rollups.ts) and the hourly
 * error group rows (`errors_1h`, read by src/store/sql/error-groups-compiler.ts;
 * kept like the histograms) in the embedded store. Every statement here runs on the writer connection, inside the
 * caller's transaction:
 *
 * - `rollUpMinutes` folds the raw events of whole minutes after the
 *   watermark into rollup rows, the hours it completes into histograms, and
 *   moves the watermark (`rollup_1m_state`; histograms hold the hours
 *   before the watermark's hour);
 * - `addLateRollups` adds rollup rows for events that arrive late (their
 *   minute is already rolled up), from the batch alone;
 * - `rerollMinutes` rebuilds given minutes (and their hours) from the raw
 *   events, for when events are deleted (GDPR erasure, `_bulk` replacing an
 *   event by id);
 * both in the same transaction as the change, so rollups and raw events
 * always agree.
 *
 * Raw events are never deleted here: a query may read any minute from
 * either side.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import duckdb from '@duckdb/node-api';
import { LATENCY_DIMENSIONS, latencyBucketSql, ROLLUP_DIMENSIONS, ROLLUP_MEASURES } from '../sql/rollups.ts';
import { RELEASE_FIELD } from '../sql/error-groups-compiler.ts';
import { duckdbDialect } from './duckdb-dialect.ts';

const { listValue, timestampValue } = duckdb;

export const MINUTE_US = 60_000_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const HOUR_US = 3_600_000_000;

/** `INSERT … SELECT` of the rollup rows of the raw events (of `from`, a table or sub-query) matching `where`. */
function insertRollupsSql(where: string, from = 'events'): string {
  const dims = ROLLUP_DIMENSIONS.join(', ');
  const measures = ROLLUP_MEASURES.map((m) => `sum(${m}), count(${m}), min(${m}), max(${m})`).join(', ');
  return (
    `INSERT INTO events_1m SELECT tenant, data_class, ${duckdbDialect.timeBucket('ts', MINUTE_MS)} AS minute, ` +
    `${dims}, count(*), ${measures} FROM ${from} WHERE ${where} GROUP BY tenant, data_class, minute, ${dims}`
  );
}

/** `INSERT … SELECT` of the latency histogram rows of the raw events (of `from`) matching `where`. */
function insertLatencySql(where: string, from = 'events'): string {
  const dims = LATENCY_DIMENSIONS.join(', ');
  return (
    `INSERT INTO latency_1h SELECT tenant, data_class, ${duckdbDialect.timeBucket('ts', HOUR_MS)} AS hour, ` +
    `${dims}, ${latencyBucketSql('duration_ms')} AS bucket, count(*) FROM ${from} WHERE ${where} ` +
    `GROUP BY tenant, data_class, hour, ${dims}, bucket`
  );
}

/**
 * `INSERT … SELECT` of the hourly error group rows (errors_1h) of the raw error events (of `from`) matching
 * `where`: per group, service, environment, release, user, customer and session, the events, the first and
 * the last one's time and the latest type, message and level.
 */
function insertErrorsSql(where: string, from = 'events'): string {
  const release = `json_extract_string(attributes, '$."${RELEASE_FIELD}"')`;
  return (
    `INSERT INTO errors_1h SELECT tenant, data_class, ${duckdbDialect.timeBucket('ts', HOUR_MS)} AS hour, ` +
    `error_fingerprint, service, environment, CASE WHEN rel IS NULL THEN NULL ELSE json_object('${RELEASE_FIELD}', rel) END, ` +
    `user_id, customer_id, session_id, count(*), min(ts), max(ts), arg_max(error_type, ts), ` +
    `arg_max(coalesce(error_message, message), ts), arg_max(level, ts) ` +
    `FROM (SELECT *, ${release} AS rel FROM ${from} WHERE error_fingerprint IS NOT NULL AND ${where}) AS e ` +
    `GROUP BY tenant, data_class, hour, error_fingerprint, service, environment, rel, user_id, customer_id, session_id`
  );
}

function floorHour(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

function usValue(ms: number): DuckDBValue {
  return timestampValue(BigInt(Math.trunc(ms)) * 1000n);
}

/** The watermark: minutes before it (epoch ms) are rolled up; 0 when none is. */
export async function minuteWatermarkMs(c: DuckDBConnection): Promise<number> {
  const reader = await c.runAndReadAll('SELECT epoch_ms(rolled_until) FROM rollup_1m_state');
  return Number(reader.getRows()[0]?.[0] ?? 0);
}

/** Start of the earliest minute holding a raw event (epoch ms), or undefined when there is none. */
export async function firstEventMinuteMs(c: DuckDBConnection): Promise<number | undefined> {
  const reader = await c.runAndReadAll(`SELECT epoch_us(min(ts)) // ${MINUTE_US} FROM events`);
  const minute = reader.getRows()[0]?.[0];
  return minute === null || minute === undefined ? undefined : Number(minute) * 60_000;
}

/** Rolls up the raw events in [fromMs, toMs) (whole minutes) and sets the watermark to toMs. */
export async function rollUpMinutes(c: DuckDBConnection, fromMs: number, toMs: number): Promise<void> {
  await c.run(insertRollupsSql('ts >= $1 AND ts < $2'), [usValue(fromMs), usValue(toMs)]);
  // The hours this completes: from the watermark's hour (complete only now) to the new one's.
  if (floorHour(toMs) > floorHour(fromMs)) {
    const hours = [usValue(floorHour(fromMs)), usValue(floorHour(toMs))];
    await c.run(insertLatencySql('ts >= $1 AND ts < $2'), hours);
    await c.run(insertErrorsSql('ts >= $1 AND ts < $2'), hours);
  }
  await c.run(
    'INSERT INTO rollup_1m_state VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET rolled_until = excluded.rolled_until',
    [usValue(toMs)],
  );
}

/**
 * Rebuilds the rollup rows of the given minutes (minute numbers since the
 * epoch) from the raw events, and the histograms of their hours that are
 * complete (before the hour of `watermarkMs`).
 */
export async function rerollMinutes(
  c: DuckDBConnection,
  minutes: ReadonlySet<number>,
  watermarkMs: number,
): Promise<void> {
  if (minutes.size === 0) return;
  const hours = new Set<number>();
  for (const m of minutes) {
    const hour = floorHour(m * 60_000);
    if (hour < floorHour(watermarkMs)) hours.add(hour / HOUR_MS);
  }
  if (hours.size > 0) {
    const list = [...hours];
    const bounds: DuckDBValue[] = [
      usValue(Math.min(...list) * HOUR_MS),
      usValue((Math.max(...list) + 1) * HOUR_MS),
      listValue(list.map((h) => BigInt(h))),
    ];
    const inHours = `ts >= $1 AND ts < $2 AND epoch_us(ts) // ${HOUR_US} IN (SELECT unnest($3::BIGINT[]))`;
    await c.run(`DELETE FROM latency_1h WHERE ${inHours}`, bounds);
    await c.run(insertLatencySql(inHours), bounds);
    await c.run(`DELETE FROM errors_1h WHERE ${inHours}`, bounds);
    await c.run(insertErrorsSql(inHours), bounds);
  }
  const list = [...minutes];
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of list) {
    if (m < lo) lo = m;
    if (m > hi) hi = m;
  }
  const values = listValue(list.map((m) => BigInt(m)));
  // The bounds let both statements skip the row groups outside [lo, hi] by their min/max.
  const bounds: DuckDBValue[] = [usValue(lo * 60_000), usValue((hi + 1) * 60_000), values];
  const inMinutes = `ts >= $1 AND ts < $2 AND epoch_us(ts) // ${MINUTE_US} IN (SELECT unnest($3::BIGINT[]))`;
  await c.run(`DELETE FROM events_1m WHERE ${inMinutes}`, bounds);
  await c.run(insertRollupsSql(inMinutes), bounds);
}

/**
 * Adds the rollup rows of newly inserted events (`sourceSql` selects them,
 * as `events` columns) that belong to minutes already rolled up, and the
 * histogram rows of those in complete hours: extra rows next to the ones
 * there (queries sum them), so nothing else is read again.
 */
export async function addLateRollups(c: DuckDBConnection, sourceSql: string, watermarkMs: number): Promise<void> {
  const from = `(${sourceSql}) AS late`;
  await c.run(insertRollupsSql('ts < $1', from), [usValue(watermarkMs)]);
  await c.run(insertLatencySql('ts < $1', from), [usValue(floorHour(watermarkMs))]);
  await c.run(insertErrorsSql('ts < $1', from), [usValue(floorHour(watermarkMs))]);
}

/** Minutes (numbers since the epoch) before `beforeMs` of the raw events matching `where`. */
export async function minutesOfEvents(
  c: DuckDBConnection,
  where: string,
  params: DuckDBValue[],
  beforeMs: number,
): Promise<Set<number>> {
  const reader = await c.runAndReadAll(
    `SELECT DISTINCT epoch_us(ts) // ${MINUTE_US} FROM events WHERE ${where} AND ts < $${params.length + 1}`,
    [...params, usValue(beforeMs)],
  );
  return new Set(reader.getRows().map((r) => Number(r[0])));
}
