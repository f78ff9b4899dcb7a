/**
 * Loading one sealed ingest log segment (src/store/segment-log.ts) into the
 * embedded store, in one transaction on the writer connection: the events
 * its replacements supersede go out, its rows go in, the rollups of minutes
 * already rolled up are brought along, and the segment id is recorded as
 * loaded (`ingest_log_state`) — so a crash replays a segment either wholly
 * or not at all, never twice.
 *
 * The file goes to DuckDB's NDJSON reader as it is (header lines have no
 * `ts` and are skipped): no copy, no per-row work in JavaScript. Only a
 * segment with replacements is read in JavaScript first (segment-rows.ts)
 * and loaded from a staging file; a file the JSON reader refuses (a lone
 * UTF-16 surrogate) is redone through the appender.
 *
 * Loads run with one DuckDB thread: a whole row group from one thread is
 * written once, where two threads leave partial row groups that the
 * checkpoint rewrites, for the same wall time and 1.4x the CPU. DuckDB's
 * thread count is per instance, so queries that run while segments load use
 * one thread too (LoadThreads).
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { rowLineTimeUs } from '../../schema/record.ts';
import type { SegmentInfo } from '../segment-log.ts';
import { replacedRows, segmentRows } from '../segment-rows.ts';
import {
  deleteIds,
  insertEventsSql,
  insertViaAppender,
  jsonSourceSql,
  LIVE_FILES,
  type EventsTableLayout,
  type StagingFiles,
} from './duckdb-batch-writer.ts';
import { addLateRollups, MINUTE_US, rerollMinutes } from './duckdb-rollups.ts';

export interface SegmentLoadContext {
  readonly layout: EventsTableLayout;
  /** The minute rollups' watermark, epoch ms (0: none yet). */
  readonly watermarkMs: number;
  readonly staging: StagingFiles;
}

/** How long the instance keeps the load's thread count after the last load, ms. */
const RESTORE_THREADS_AFTER_MS = 5_000;

type WriterWork = (c: DuckDBConnection) => Promise<boolean>;

/**
 * The instance's thread count around loads. Changing it restarts DuckDB's
 * worker threads, and the load after the change ran at 10.2-10.9 µs of CPU
 * per row against 8.0-9.0 with the count left alone (32,768-row payment
 * segments): a fifth of the load's cost, every load. So the count is
 * narrowed at the first load and kept while segments keep coming, and
 * given back to queries once none has loaded for 5 s (when the store
 * also trims its memory: duckdb-memory.ts).
 */
export class LoadThreads {
  readonly #threads: number;
  readonly #loadThreads: number;
  readonly #enqueue: (work: WriterWork) => void;
  readonly #restoreAfterMs: number;
  #narrowed = false;
  #timer: NodeJS.Timeout | undefined;

  /**
   * `threads`: the instance's count for queries (0: DuckDB's default); `loadThreads`: a load's (0:
   * the same); `enqueue` runs work on the writer connection after the writes queued before it.
   */
  constructor(
    threads: number,
    loadThreads: number,
    enqueue: (work: WriterWork) => void,
    restoreAfterMs = RESTORE_THREADS_AFTER_MS,
  ) {
    this.#threads = Math.trunc(threads);
    this.#loadThreads = Math.trunc(loadThreads);
    this.#enqueue = enqueue;
    this.#restoreAfterMs = restoreAfterMs;
  }

  /** Before a load, on the writer connection. */
  async narrow(c: DuckDBConnection): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#narrowed || this.#loadThreads <= 0 || this.#loadThreads === this.#threads) return;
    await c.run(`SET threads = ${this.#loadThreads}`);
    this.#narrowed = true;
  }

  /** After a load: the queries' count comes back if no other load follows soon. */
  loaded(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#enqueue((c) => this.restore(c));
    }, this.#restoreAfterMs);
    this.#timer.unref();
  }

  /** The store closes: no restore is due. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Gives the queries' thread count back, on the writer connection. Answers false, doing nothing, when
   * a load came in since the timer fired (and armed a new one): the loads have not stopped after all.
   */
  async restore(c: DuckDBConnection): Promise<boolean> {
    if (this.#timer !== undefined) return false;
    if (!this.#narrowed) return true;
    this.#narrowed = false;
    await c.run(this.#threads > 0 ? `SET threads = ${this.#threads}` : 'RESET threads');
    return true;
  }
}

const JSON_REFUSED = /Invalid Input Error|Malformed JSON|Conversion Error/i;

/** The id of the last segment loaded (0: none). */
export async function loadedSegment(c: DuckDBConnection): Promise<number> {
  const rows = (await c.runAndReadAll('SELECT loaded_segment FROM ingest_log_state WHERE id = 1')).getRows();
  return Number(rows[0]?.[0] ?? 0);
}

export async function loadSegment(c: DuckDBConnection, segment: SegmentInfo, ctx: SegmentLoadContext): Promise<void> {
  // A full segment is a little more than one row group (it seals at the record that reaches
  // store.segmentRows, the row group size), so each load leaves a small row group behind its full one. The checkpoint that a load's
  // commit triggers would "vacuum" these, rewriting the full row groups beside them: a sixth of the
  // server's CPU under sustained ingest. Loads skip it; row groups emptied by retention are still
  // dropped, and the other writes' checkpoints vacuum as usual.
  await c.run('SET max_vacuum_tasks = 0');
  try {
    try {
      await inTransaction(c, segment, ctx, (from) => insertFile(c, from, segment, ctx));
    } catch (err) {
      if (!JSON_REFUSED.test((err as Error).message)) throw err;
      await inTransaction(c, segment, ctx, async (from) => {
        const rows = from === segment.path ? segmentRows(segment.path) : replacedRows(segment.path).rows;
        await insertViaAppender(c, rows, ctx.layout);
        return false;
      });
    }
  } finally {
    await c.run('RESET max_vacuum_tasks');
  }
}

/**
 * One transaction: replaced events out, rows in (`insert` gets the file to
 * read and answers whether it also added the late rows' rollups), rollups of
 * touched minutes rebuilt, segment recorded.
 */
async function inTransaction(
  c: DuckDBConnection,
  segment: SegmentInfo,
  ctx: SegmentLoadContext,
  insert: (from: string) => Promise<boolean>,
): Promise<void> {
  let staged: string | undefined;
  let rebuild = new Set<number>();
  await c.run('BEGIN TRANSACTION');
  try {
    // Already in (a retry after an error that came once the load had committed): nothing twice.
    if ((await loadedSegment(c)) >= segment.id) {
      await c.run('COMMIT');
      return;
    }
    let from = segment.path;
    if (segment.replace.size > 0) {
      const { rows, replaced } = replacedRows(segment.path);
      rebuild = await deleteIds(c, replaced, ctx.watermarkMs);
      staged = ctx.staging.newPath();
      LIVE_FILES.add(staged);
      writeFileSync(staged, rows.length > 0 ? `${rows.join('\n')}\n` : '', { mode: 0o600 });
      from = staged;
    }
    const watermarkUs = ctx.watermarkMs * 1000;
    const late = watermarkUs > 0 && segment.minTsUs < watermarkUs;
    const added = await insert(from);
    if (late && !added) {
      // The late rows' minutes are rebuilt from the raw events (after a replacement, or through the appender).
      for (const e of segmentRows(from)) {
        const ts = rowLineTimeUs(e);
        if (ts < watermarkUs) rebuild.add(Math.floor(ts / MINUTE_US));
      }
    }
    await rerollMinutes(c, rebuild, ctx.watermarkMs);
    await c.run('INSERT OR REPLACE INTO ingest_log_state (id, loaded_segment) VALUES (1, $1)', [segment.id]);
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    if (staged) {
      LIVE_FILES.delete(staged);
      try {
        unlinkSync(staged);
      } catch {
        // gone
      }
    }
  }
}

/**
 * The rolled-up minutes a late segment touches, when they are few for its
 * rows (at most one per 20 rows, or an hour's worth): else undefined.
 */
function lateMinutes(segment: SegmentInfo, watermarkUs: number): Set<number> | undefined {
  if (!Number.isFinite(segment.maxTsUs)) return undefined;
  const first = Math.floor(segment.minTsUs / MINUTE_US);
  const last = Math.floor(Math.min(segment.maxTsUs, watermarkUs - 1) / MINUTE_US);
  const span = last - first + 1;
  if (span > Math.max(60, segment.rows / 20)) return undefined;
  const minutes = new Set<number>();
  for (let m = first; m <= last; m++) minutes.add(m);
  return minutes;
}

/** Inserts the rows of an NDJSON file; with nothing replaced, late rows add their own rollup rows. */
async function insertFile(
  c: DuckDBConnection,
  from: string,
  segment: SegmentInfo,
  ctx: SegmentLoadContext,
): Promise<boolean> {
  const source = `${jsonSourceSql(from)} WHERE ts IS NOT NULL`;
  await c.run(insertEventsSql(source));
  const watermarkUs = ctx.watermarkMs * 1000;
  if (watermarkUs > 0 && segment.minTsUs < watermarkUs && segment.replace.size === 0) {
    const minutes = lateMinutes(segment, watermarkUs);
    // History (a backfill, an import) fills the few minutes it spans densely: rebuilding those minutes
    // from the table reads a few columns, where adding the rows' own rollups parses the file again.
    if (minutes) await rerollMinutes(c, minutes, ctx.watermarkMs);
    else await addLateRollups(c, source, ctx.watermarkMs);
    return true;
  }
  return false;
}
