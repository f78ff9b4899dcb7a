/**
 * Deletions the ClickHouse store does on its own data: `_bulk` id
 * replacement, GDPR erasure (and the matching export), and retention by
 * dropping whole day partitions.
 *
 * Row deletes: on servers with lightweight deletes (23.3 on) a `DELETE FROM`,
 * which waits; elsewhere an `ALTER TABLE … DELETE` mutation, waited for with
 * `mutations_sync` where the server has it (19.10 on) and by polling
 * `system.mutations` until `is_done` otherwise (18.16). Either way the rows
 * are gone from every query when the promise resolves.
 */
import { AppError } from '../../errors.ts';
import type { SqlParam } from '../sql/sql-dialect.ts';
import type { CustomerMatch } from '../store.ts';
import { bindLiterals, stringLiteral as sqlString } from './clickhouse-dialect.ts';
import type { ClickHouseConnection } from './clickhouse-driver.ts';

/** Most time one delete may take before the store answers 503, ms. */
const MUTATION_TIMEOUT_MS = 120_000;

/**
 * Deletes the rows of `table` matching `where` (placeholders bound as
 * literals: a mutation keeps its command text), committed on return.
 */
export async function deleteRows(
  c: ClickHouseConnection,
  table: string,
  where: string,
  params: readonly SqlParam[] = [],
): Promise<void> {
  const condition = params.length > 0 ? bindLiterals(where, params) : where;
  if (c.caps.lightweightDelete) {
    await c.command(`DELETE FROM ${table} WHERE ${condition}`, [], { mutations_sync: 2 } as never);
    return;
  }
  if (c.caps.mutationsSync) {
    await c.command(`ALTER TABLE ${table} DELETE WHERE ${condition}`, [], { mutations_sync: 2 } as never);
    return;
  }
  await c.command(`ALTER TABLE ${table} DELETE WHERE ${condition}`);
  await waitForMutations(c, table);
}

/** Polls system.mutations until no mutation of `table` in this database is left to do. */
export async function waitForMutations(c: ClickHouseConnection, table: string): Promise<void> {
  const started = Date.now();
  let pause = 5;
  for (;;) {
    const r = await c.query(
      `SELECT count() FROM system.mutations WHERE database = currentDatabase() AND table = ${sqlString(table)} AND is_done = 0`,
    );
    if (Number(r.data[0]?.[0] ?? 0) === 0) return;
    if (Date.now() - started > MUTATION_TIMEOUT_MS) {
      throw new AppError(
        503,
        'store.mutation_timeout',
        `ClickHouse did not finish deleting from ${table} within ${MUTATION_TIMEOUT_MS / 1000} s; it goes on in the background`,
        { headers: { 'Retry-After': '10' } },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(100, pause * 2);
  }
}

/**
 * Events of the customer: their id as customer or user id, or one of the
 * texts (e.g. their e-mail address, raw and masked) in the message or any
 * attribute. The audit class is never matched: the trail is not erasable.
 */
export function customerCondition(tenant: string, match: CustomerMatch): string {
  const parts: string[] = [];
  if (match.ids.length > 0) {
    const list = match.ids.map(sqlString).join(', ');
    parts.push(`ifNull(customer_id, '') IN (${list})`, `ifNull(user_id, '') IN (${list})`);
  }
  for (const text of match.texts) {
    const t = sqlString(text);
    // The attributes are JSON text: a text with quotes or backslashes is looked for escaped as JSON writes it.
    const json = sqlString(JSON.stringify(text).slice(1, -1));
    parts.push(`position(ifNull(message, ''), ${t}) > 0`, `position(attributes, ${json}) > 0`);
  }
  const who = parts.length > 0 ? `(${parts.join(' OR ')})` : '0';
  return `tenant = ${sqlString(tenant)} AND data_class != 'audit' AND ${who}`;
}

/** Partitions of `events`: day (YYYY-MM-DD) and data class, as system.parts writes them. */
export async function eventPartitions(
  c: ClickHouseConnection,
): Promise<{ readonly partition: string; readonly day: string; readonly dataClass: string; readonly rows: number }[]> {
  const r = await c.query(
    `SELECT partition, sum(rows) FROM system.parts WHERE database = currentDatabase() AND table = 'events' AND active GROUP BY partition ORDER BY partition`,
  );
  const out = [];
  for (const [partition, rows] of r.data) {
    // e.g. ('2026-11-25','app')
    const m = /^\('(\d{4}-\d{2}-\d{2})','((?:[^'\\]|\\.)*)'\)$/.exec(String(partition));
    if (m)
      out.push({ partition: String(partition), day: m[1] as string, dataClass: m[2] as string, rows: Number(rows) });
  }
  return out;
}

/**
 * Retention: per data class, drops the day partitions that end before the
 * cutoff (a day still partly inside retention is kept whole until it is
 * not). Answers the raw events dropped per class, counted from the parts.
 */
export async function dropExpiredPartitions(
  c: ClickHouseConnection,
  cutoffs: Readonly<Record<string, number>>,
): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  for (const dataClass of Object.keys(cutoffs)) deleted[dataClass] = 0;
  const partitions = await eventPartitions(c);
  for (const p of partitions) {
    const cutoff = cutoffs[p.dataClass];
    if (cutoff === undefined) continue;
    const dayEndMs = Date.parse(`${p.day}T00:00:00Z`) + 86_400_000;
    if (dayEndMs > cutoff) continue;
    // The rows as stored now (a merge or mutation may have changed the parts since they were listed).
    const n = await c.query(
      `SELECT count() FROM events WHERE data_class = ${sqlString(p.dataClass)} AND toDate(toDateTime(intDiv(ts, 1000000))) = toDate(${sqlString(p.day)})`,
    );
    await c.command(`ALTER TABLE events DROP PARTITION ${p.partition}`);
    deleted[p.dataClass] = (deleted[p.dataClass] ?? 0) + Number(n.data[0]?.[0] ?? 0);
  }
  return deleted;
}
