/**
 * DuckDB's own speed on the file Shoplens was sent, in this process with no
 * server running: `CREATE TABLE t AS SELECT * FROM read_json(file)` (the
 * engine's ceiling), and an INSERT of the same events, prepared by Shoplens's
 * `prepareEvents` into row lines, into the real `events` table in one
 * transaction, as the store's loader does. Each in a fresh database file,
 * CHECKPOINT included, best of `runs`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import duckdb from '@duckdb/node-api';
import { loadConfig } from '../src/config.ts';
import { prepareEvents } from '../src/ingest/events-ndjson.ts';
import { Normalizer } from '../src/ingest/normalizer.ts';
import { insertEventsSql, jsonSourceSql } from '../src/store/duckdb/duckdb-batch-writer.ts';
import { toRowLine } from '../src/schema/record.ts';
import { DUCKDB_MIGRATIONS } from '../src/store/duckdb/duckdb-migrations.ts';

export interface LoadTiming {
  /** Wall time of the statement and its CHECKPOINT, best run, s. */
  readonly seconds: number;
  readonly eventsPerSec: number;
  /** CPU of this process (all DuckDB threads) during the best run, µs per event. */
  readonly cpuUsPerEvent: number;
}

export interface DuckDBLoadResult {
  readonly events: number;
  readonly fileBytes: number;
  /** `CREATE TABLE t AS SELECT * FROM read_json(file)`, threads = 1 and DuckDB's default. */
  readonly readJson1: LoadTiming;
  readonly readJsonDefault: LoadTiming;
  /** INSERT of the row lines into `events` (the loader's `read_ndjson` projection), threads = 1 and default. */
  readonly insert1: LoadTiming;
  readonly insertDefault: LoadTiming;
  /** `prepareEvents` (split, parse, redact, normalise, row line) in this process on one thread, µs per event. */
  readonly prepareUsPerEvent: number;
}

/** The store's `CREATE TABLE events (...)` and the columns later migrations add to it. */
function eventsTableSql(): string[] {
  const statements = DUCKDB_MIGRATIONS.flatMap((m) => m.statements);
  const create = statements.filter((s) => /^\s*CREATE TABLE events \(/.test(s));
  if (create.length !== 1) throw new Error('no CREATE TABLE events in the DuckDB migrations');
  return [...create, ...statements.filter((s) => /^\s*ALTER TABLE events ADD COLUMN /.test(s))];
}

/** DuckDB type of each typed column as read from a row line. */
/** The row lines of a file as the columns of `events`: the store's own projection. */
function rowLinesSourceSql(path: string): string {
  return jsonSourceSql(path);
}

function quoted(path: string): string {
  return `'${path.replace(/'/g, "''")}'`;
}

/** Runs the statements in a fresh database file; times the last one plus CHECKPOINT. */
async function timeOnce(
  dir: string,
  threads: number | undefined,
  setup: readonly string[],
  timed: string,
): Promise<{ seconds: number; cpuMicros: number }> {
  const path = join(dir, `load-${Date.now()}-${Math.random().toString(36).slice(2)}.duckdb`);
  const instance = await duckdb.DuckDBInstance.create(path, threads ? { threads: String(threads) } : {});
  const c = await instance.connect();
  try {
    for (const s of setup) await c.run(s);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await c.run(timed);
    await c.run('CHECKPOINT');
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { seconds, cpuMicros: cpu.user + cpu.system };
  } finally {
    c.closeSync();
    instance.closeSync();
    rmSync(path, { force: true });
    rmSync(`${path}.wal`, { force: true });
  }
}

async function best(
  runs: number,
  events: number,
  dir: string,
  threads: number | undefined,
  setup: readonly string[],
  timed: string,
): Promise<LoadTiming> {
  let top: { seconds: number; cpuMicros: number } | undefined;
  for (let r = 0; r < runs; r++) {
    const t = await timeOnce(dir, threads, setup, timed);
    if (!top || t.seconds < top.seconds) top = t;
  }
  const t = top as { seconds: number; cpuMicros: number };
  return { seconds: t.seconds, eventsPerSec: events / t.seconds, cpuUsPerEvent: t.cpuMicros / events };
}

/** Row lines of the file through `prepareEvents` with the server's default config, 10k lines per body. */
function prepareRowLines(file: string, out: string): { events: number; cpuMicros: number } {
  const config = loadConfig({ env: {}, flags: {} });
  const normalizer = new Normalizer(config.ingest, config.privacy);
  const text = readFileSync(file);
  const rows: string[] = [];
  const cpu0 = process.cpuUsage();
  for (let start = 0; start < text.length;) {
    let end = start;
    for (let k = 0; k < 10_000 && end < text.length; k++) {
      const nl = text.indexOf(10, end);
      end = nl < 0 ? text.length : nl + 1;
    }
    const prepared = prepareEvents(normalizer, text.subarray(start, end), 'application/x-ndjson', {
      tenant: 'default',
      receivedAtMs: Date.now(),
    });
    for (const r of prepared.rows) rows.push(typeof r === 'string' ? r : toRowLine(r));
    start = end;
  }
  const cpu = process.cpuUsage(cpu0);
  writeFileSync(out, `${rows.join('\n')}\n`, { mode: 0o600 });
  return { events: rows.length, cpuMicros: cpu.user + cpu.system };
}

/** Times DuckDB's loads of `file` (`events` NDJSON lines, `fileBytes` long). */
export async function runDuckDBLoads(
  file: string,
  events: number,
  fileBytes: number,
  runs: number,
  log: (line: string) => void,
): Promise<DuckDBLoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'shoplens-bench-duckdb-'));
  try {
    const ctas = `CREATE TABLE t AS SELECT * FROM read_json(${quoted(file)}, format = 'newline_delimited')`;
    const readJson1 = await best(runs, events, dir, 1, [], ctas);
    const readJsonDefault = await best(runs, events, dir, undefined, [], ctas);
    const rowsFile = join(dir, 'rows.ndjson');
    const prepared = prepareRowLines(file, rowsFile);
    if (prepared.events !== events) log(`duckdb: prepareEvents kept ${prepared.events} of ${events} events`);
    const setup = eventsTableSql();
    const insert = insertEventsSql(rowLinesSourceSql(rowsFile));
    const insert1 = await best(runs, prepared.events, dir, 1, setup, insert);
    const insertDefault = await best(runs, prepared.events, dir, undefined, setup, insert);
    return {
      events,
      fileBytes,
      readJson1,
      readJsonDefault,
      insert1,
      insertDefault,
      prepareUsPerEvent: prepared.cpuMicros / Math.max(1, prepared.events),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
