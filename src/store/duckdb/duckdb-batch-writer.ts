/**
 * Writing one batch of events into the embedded store, on the writer
 * connection, in one transaction: events that `_bulk` replaces go out, the
 * batch goes in, and minutes already rolled up are brought along
 * (duckdb-rollups.ts).
 *
 * Batches go in through DuckDB's own NDJSON reader: the batch is written as
 * one staging file in memory (/dev/shm) and inserted with one statement, so
 * parsing and columnar conversion run in DuckDB's threads rather than as one
 * native call per value on the JavaScript thread (about 3x the throughput).
 * A batch the JSON reader refuses (e.g. a lone UTF-16 surrogate) is redone
 * through the appender with data chunks, which takes any string.
 *
 * Staging files hold redacted rows only, and only for the length of one
 * insert; a process killed in between leaves its file behind, so each
 * store names its files after its database file (StagingFiles) and removes
 * its own leftovers when it opens.
 */
import { createHash, randomUUID } from 'node:crypto';
import { accessSync, constants, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import duckdb from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { ATTRIBUTES_COLUMN, EVENT_FIELDS } from '../../schema/fields.ts';
import { fromRowLine, rowLineTimeUs, toRowLine, type EventRecord, type StoredEvent } from '../../schema/record.ts';
import { sqlString } from './duckdb-driver.ts';
import { addLateRollups, MINUTE_US, minutesOfEvents, rerollMinutes } from './duckdb-rollups.ts';

const { DuckDBDataChunk, listValue, timestampValue } = duckdb;

/** DuckDB's vector size: the most rows one data chunk holds. */
const CHUNK_ROWS = 2048;
/** Where staging files go: memory-backed when the system has it. */
const STAGING_DIR = (() => {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
})();
/** Staging files being written or read by this process right now (never removed as stale). */
export const LIVE_FILES = new Set<string>();
/** The name staging files had before they carried their store's tag: `shoplens-<pid>-<uuid>.ndjson`. */
const UNTAGGED_FILE = /^shoplens-(\d+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.ndjson$/;

function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * The staging files of one store: `shoplens-<tag>-<pid>-<uuid>.ndjson`,
 * where the tag is a hash of the database file's path, so that stores of
 * other data directories on the same machine never touch each other's
 * files.
 */
export class StagingFiles {
  /** `shoplens-<tag>-`: what every file of this store's name starts with. */
  readonly prefix: string;

  /** @param databasePath the store's DuckDB file; @param dir where files go (default: /dev/shm when writable) */
  constructor(
    databasePath: string,
    readonly dir: string = STAGING_DIR,
  ) {
    this.prefix = `shoplens-${createHash('sha256').update(resolve(databasePath)).digest('hex').slice(0, 16)}-`;
  }

  /** A new file name for one batch. */
  newPath(): string {
    return join(this.dir, `${this.prefix}${process.pid}-${randomUUID()}.ndjson`);
  }

  /**
   * Removes what killed processes left: every file of this store that is
   * not in use by this process (call it only while holding the database
   * file's lock, before the first batch), and untagged files of an older
   * version whose process is gone. Answers the number of files removed.
   */
  removeStale(): number {
    let removed = 0;
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      const untagged = UNTAGGED_FILE.exec(name);
      const stale = name.startsWith(this.prefix)
        ? name.endsWith('.ndjson') && !LIVE_FILES.has(path)
        : untagged !== null && processIsGone(Number(untagged[1]));
      if (!stale) continue;
      try {
        unlinkSync(path);
        removed++;
      } catch {
        // removed meanwhile
      }
    }
    return removed;
  }
}

/** DuckDB type of each typed column as read from a staging line. */
const JSON_COLUMN_TYPES: Record<string, string> = {
  timestamp: 'BIGINT',
  keyword: 'VARCHAR',
  text: 'VARCHAR',
  double: 'DOUBLE',
  integer: 'INTEGER',
  'keyword[]': 'VARCHAR[]',
};

/** An event's time, µs (row lines start with `{"ts":<µs>,`). */
function eventTimeUs(e: StoredEvent): number {
  if (typeof e !== 'string') return e.ts;
  return rowLineTimeUs(e);
}

/**
 * Longest row the JSON reader takes. It sizes its read buffers by this, and
 * those count against DuckDB's memory_limit (1 GB by default), so it is
 * not set higher than rows need: ingest lines are at most
 * `ingest.maxLineBytes` (1 MB); a longer row makes the reader fail and the
 * batch goes in through the appender instead.
 */
export const MAX_OBJECT_BYTES = 16 * 1024 * 1024;

/** The rows of a staging file as the columns of `events`, in order; the path is ours (never user text). */
export function jsonSourceSql(path: string): string {
  const spec = EVENT_FIELDS.map(
    (f) =>
      `${f.column}: '${f.column === 'tenant' || f.column === 'data_class' ? 'VARCHAR' : JSON_COLUMN_TYPES[f.type]}'`,
  );
  const select = EVENT_FIELDS.map((f) => (f.column === 'ts' ? 'make_timestamp(ts) AS ts' : f.column));
  return (
    `SELECT ${select.join(', ')}, attributes FROM read_ndjson(${sqlString(path)}, ` +
    `columns = {${spec.join(', ')}, attributes: 'JSON'}, format = 'newline_delimited', maximum_object_size = ${MAX_OBJECT_BYTES})`
  );
}

/**
 * Of several events in one batch that replace the same `event.id` of a
 * tenant (concurrent `_bulk` index calls), only the last is kept.
 */
export function lastVersions(events: readonly StoredEvent[]): readonly StoredEvent[] {
  if (!events.some((e) => typeof e !== 'string' && e.replaceExisting)) return events;
  const seen = new Set<string>();
  const kept: StoredEvent[] = [];
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i] as StoredEvent;
    const id = typeof e === 'string' ? undefined : e.columns['event_id'];
    if (typeof e !== 'string' && e.replaceExisting && typeof id === 'string') {
      const key = `${e.tenant}\u0000${id}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    kept.push(e);
  }
  return kept.reverse();
}

/** Column-major DuckDB values for one chunk of events, in table column order. */
function toColumns(events: readonly EventRecord[], names: readonly string[]): DuckDBValue[][] {
  const n = events.length;
  const columns: DuckDBValue[][] = [];
  for (const name of names) {
    const col = new Array<DuckDBValue>(n);
    for (let i = 0; i < n; i++) {
      const e = events[i] as EventRecord;
      if (name === 'ts') col[i] = timestampValue(BigInt(Math.round(e.ts)));
      else if (name === 'tenant') col[i] = e.tenant;
      else if (name === 'data_class') col[i] = e.dataClass;
      else if (name === ATTRIBUTES_COLUMN) col[i] = e.attributes ? JSON.stringify(e.attributes) : null;
      else {
        const v = e.columns[name];
        col[i] =
          v === undefined || v === null ? null : Array.isArray(v) ? listValue(v as string[]) : (v as string | number);
      }
    }
    columns.push(col);
  }
  return columns;
}

/**
 * The events table's columns in table order, as the store read them at open:
 * columns that later migrations added come after `attributes`, so appends
 * and inserts name them rather than count on EVENT_FIELDS' order.
 */
export interface EventsTableLayout {
  readonly names: readonly string[];
  readonly types: readonly DuckDBType[];
}

/** `INSERT INTO events` of a `jsonSourceSql` select, its columns named. */
export function insertEventsSql(source: string): string {
  return `INSERT INTO events (${[...EVENT_FIELDS.map((f) => f.column), ATTRIBUTES_COLUMN].join(', ')}) ${source}`;
}

/**
 * Writes one batch (already reduced to the last version of each replaced
 * id, see lastVersions) in one transaction. `watermarkMs`: the minute
 * rollups' watermark.
 */
export async function writeBatch(
  c: DuckDBConnection,
  events: readonly StoredEvent[],
  layout: EventsTableLayout,
  watermarkMs: number,
  staging: StagingFiles,
): Promise<void> {
  try {
    await inTransaction(c, events, watermarkMs, (e, lateFrom) => insertViaJson(c, e, lateFrom, staging));
  } catch (err) {
    if (!/Invalid Input Error|Malformed JSON|Conversion Error/i.test((err as Error).message)) throw err;
    await inTransaction(c, events, watermarkMs, (e) => insertViaAppender(c, e, layout));
  }
}

/**
 * One batch in one transaction: replaced events out, the batch in, and the
 * rollups of minutes already rolled up brought along (see insertViaJson).
 */
async function inTransaction(
  c: DuckDBConnection,
  events: readonly StoredEvent[],
  watermarkMs: number,
  insert: (events: readonly StoredEvent[], lateFrom: number) => Promise<boolean>,
): Promise<void> {
  await c.run('BEGIN TRANSACTION');
  try {
    const rebuild = await deleteReplaced(c, events, watermarkMs);
    const watermarkUs = watermarkMs * 1000;
    let late = false;
    if (watermarkUs > 0) for (const e of events) if (eventTimeUs(e) < watermarkUs) late = true;
    // With nothing replaced, the insert adds the late events' own rollup rows (cheap); after a
    // replacement, the touched minutes are rebuilt from the raw events instead.
    const added = await insert(events, late && rebuild.size === 0 ? watermarkMs : 0);
    if (late && !added) {
      for (const e of events) {
        const ts = eventTimeUs(e);
        if (ts < watermarkUs) rebuild.add(Math.floor(ts / MINUTE_US));
      }
    }
    await rerollMinutes(c, rebuild, watermarkMs);
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Inserts the batch from a staging file. With `lateFrom` (the minute
 * watermark) the rollup rows of the batch's events before it are added
 * from the same file, as extra rows (queries sum rollup rows); answers
 * whether it did.
 */
async function insertViaJson(
  c: DuckDBConnection,
  events: readonly StoredEvent[],
  lateFrom: number,
  staging: StagingFiles,
): Promise<boolean> {
  const path = staging.newPath();
  LIVE_FILES.add(path);
  const lines = new Array<string>(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as StoredEvent;
    lines[i] = typeof e === 'string' ? e : toRowLine(e);
  }
  // Synchronous on purpose: it is a memory copy into tmpfs (about 1 ms per MB), and an
  // await here would wait behind every request the event loop is parsing.
  writeFileSync(path, lines.join('\n'), { mode: 0o600 });
  try {
    const source = jsonSourceSql(path);
    await c.run(insertEventsSql(source));
    if (lateFrom > 0) await addLateRollups(c, source, lateFrom);
    return lateFrom > 0;
  } finally {
    LIVE_FILES.delete(path);
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
}

export async function insertViaAppender(
  c: DuckDBConnection,
  stored: readonly StoredEvent[],
  layout: EventsTableLayout,
): Promise<boolean> {
  const events = stored.map((e) => (typeof e === 'string' ? fromRowLine(e) : e));
  const appender = await c.createAppender('events');
  try {
    for (let offset = 0; offset < events.length; offset += CHUNK_ROWS) {
      const slice = events.slice(offset, offset + CHUNK_ROWS);
      const chunk = DuckDBDataChunk.create([...layout.types], slice.length);
      chunk.setColumns(toColumns(slice, layout.names));
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return false; // late events' minutes are rebuilt from the raw events
}

/**
 * Elasticsearch `index` with an existing `_id` replaces the stored event.
 * `IN (SELECT unnest(...))` is a hash semi-join: 37 ms for 5k ids over 250k
 * rows, where `list_contains` compared every row with every id (6 s).
 */
async function deleteReplaced(
  c: DuckDBConnection,
  events: readonly StoredEvent[],
  watermarkMs: number,
): Promise<Set<number>> {
  const byTenant = new Map<string, string[]>();
  for (const e of events) {
    if (typeof e === 'string') continue;
    const id = e.columns['event_id'];
    if (!e.replaceExisting || typeof id !== 'string') continue;
    const list = byTenant.get(e.tenant) ?? [];
    list.push(id);
    byTenant.set(e.tenant, list);
  }
  return deleteIds(c, byTenant, watermarkMs);
}

/**
 * Deletes the stored events of each tenant with the given event ids;
 * answers the rolled-up minutes they were counted in (to rebuild).
 */
export async function deleteIds(
  c: DuckDBConnection,
  byTenant: ReadonlyMap<string, readonly string[]>,
  watermarkMs: number,
): Promise<Set<number>> {
  const rolledMinutes = new Set<number>();
  for (const [tenant, ids] of byTenant) {
    const where = 'tenant = $1 AND event_id IN (SELECT unnest($2::VARCHAR[]))';
    const params = [tenant, listValue([...ids])];
    // The replaced events leave the minute rollups they were counted in.
    if (watermarkMs > 0) {
      for (const m of await minutesOfEvents(c, where, params, watermarkMs)) rolledMinutes.add(m);
    }
    await c.run(`DELETE FROM events WHERE ${where}`, params);
  }
  return rolledMinutes;
}
