/**
 * Query latency over a large store: fills a fresh DuckDB store directly
 * (`DuckDBStore.appendEvents`, no HTTP) with `size` events over 7 days, closes
 * and reopens it (as after a restart: everything checkpointed), lets the
 * minute rollups catch up (as the server's rollup job does), then times the
 * dashboard queries through `store.query`.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { parseQuery } from '../src/query/index.ts';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.ts';
import { RecordFiller } from './events.ts';
import { fmt, median, percentile, progress } from './stats.ts';

const DAY_MS = 86_400_000;

export interface QueryCase {
  readonly name: string;
  readonly text: string;
  /** Time range as a number of days back from the end of the data. */
  readonly days: number;
}

export const QUERY_CASES: readonly QueryCase[] = [
  {
    name: 'stats-by-minute 24h',
    text: 'event.type:api_request | stats count() as requests, countif(event.outcome:failure) as errors by bin(@timestamp, 1m)',
    days: 1,
  },
  {
    name: 'stats-by-minute 7d',
    text: 'event.type:api_request | stats count() as requests, countif(event.outcome:failure) as errors by bin(@timestamp, 1m)',
    days: 7,
  },
  {
    name: 'p95-by-endpoint 7d',
    text: 'event.type:api_request | stats p95(event.duration) as p95, count() as n by http.route',
    days: 7,
  },
];

export interface QueryTiming {
  readonly name: string;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly rows: number;
  readonly rowsScanned: number;
}

export interface QuerySizeResult {
  readonly size: number;
  readonly fillRowsPerSec: number;
  readonly fillSeconds: number;
  /** Close (final checkpoint) + reopen, s. */
  readonly reopenSeconds: number;
  /** Folding the filled events into the minute rollups, s. */
  readonly rollupSeconds: number;
  readonly fileMb: number;
  readonly timings: readonly QueryTiming[];
}

export interface QueryOptions {
  readonly runs: number;
  readonly batchSize: number;
}

function storeFor(dataDir: string): DuckDBStore {
  // The same options `shoplens serve` uses by default.
  const config = loadConfig({ env: {}, flags: { dataDir } });
  return new DuckDBStore({
    dataDir,
    threads: config.store.duckdbThreads,
    memoryLimit: config.store.duckdbMemoryLimit,
    defaultLimit: config.query.defaultLimit,
    maxRows: config.query.maxRows,
    queryTimeoutMs: config.query.timeout,
    rowGroupRows: config.store.segmentRows,
  });
}

async function fill(store: DuckDBStore, filler: RecordFiller, label: string): Promise<number> {
  const started = performance.now();
  let lastReport = started;
  // Two batches in flight at most: the filler reuses a batch's records two batches later.
  const inflight: (Promise<void> | undefined)[] = [undefined, undefined];
  let done = 0;
  for (let b = 0; b < filler.batches; b++) {
    await inflight[b & 1];
    const batch = filler.fill(b);
    const n = batch.length;
    inflight[b & 1] = store.appendEvents(batch).then(() => {
      done += n;
    });
    const now = performance.now();
    if (now - lastReport > (process.stderr.isTTY ? 1000 : 15_000)) {
      lastReport = now;
      const rate = done / ((now - started) / 1000);
      const eta = (filler.total - done) / rate;
      progress(
        `fill ${label}: ${fmt(done)} / ${fmt(filler.total)} rows, ${fmt(rate)} rows/s, ~${Math.ceil(eta)} s left`,
      );
    }
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - started) / 1000;
  progress(`fill ${label}: ${fmt(done)} rows in ${seconds.toFixed(1)} s, ${fmt(done / seconds)} rows/s`, true);
  return seconds;
}

export async function runQueries(
  size: number,
  label: string,
  o: QueryOptions,
  log: (line: string) => void,
): Promise<QuerySizeResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'shoplens-bench-query-'));
  try {
    // Data ends at the start of the run, so "last 24 h" is the last day of the data.
    const endMs = Math.floor(Date.now() / 60_000) * 60_000;
    const fromMs = endMs - 7 * DAY_MS;
    let store = storeFor(dataDir);
    await store.open();
    const filler = new RecordFiller(size, o.batchSize, fromMs, endMs);
    const fillSeconds = await fill(store, filler, label);

    const t0 = performance.now();
    await store.close();
    store = storeFor(dataDir);
    await store.open();
    const reopenSeconds = (performance.now() - t0) / 1000;
    // What `shoplens serve` does in the background (RollupJob): fold closed minutes into the minute rollups.
    const t1 = performance.now();
    let slices = 0;
    for (let caughtUp = false; !caughtUp; slices++) ({ caughtUp } = await store.rollUp(Date.now()));
    const rollupSeconds = (performance.now() - t1) / 1000;
    const fileMb = statSync(store.path).size / 1e6;
    log(
      `${label}: close + reopen ${reopenSeconds.toFixed(1)} s; minute rollups caught up in ${rollupSeconds.toFixed(1)} s ` +
        `(${slices} slices); database file ${fmt(fileMb)} MB`,
    );

    const timings: QueryTiming[] = [];
    try {
      for (const c of QUERY_CASES) {
        const request = {
          query: parseQuery(c.text),
          range: { fromMs: endMs - c.days * DAY_MS, toMs: endMs },
          tenant: 'default',
        };
        const samples: number[] = [];
        let rows = 0;
        let rowsScanned = 0;
        for (let run = 0; run <= o.runs; run++) {
          const started = performance.now();
          const result = await store.query(request);
          const ms = performance.now() - started;
          if (run > 0) samples.push(ms); // run 0 is the warm-up
          rows = result.rows.length;
          rowsScanned = result.stats.rowsScanned;
        }
        const t: QueryTiming = {
          name: c.name,
          medianMs: median(samples),
          p95Ms: percentile(samples, 95),
          rows,
          rowsScanned,
        };
        timings.push(t);
        log(
          `${label} ${c.name}: median ${t.medianMs.toFixed(1)} ms, p95 ${t.p95Ms.toFixed(1)} ms ` +
            `(${fmt(rows)} result rows, ${fmt(rowsScanned)} events in range; runs ${samples.map((s) => s.toFixed(0)).join(', ')})`,
        );
      }
    } finally {
      await store.close();
    }
    return { size, fillRowsPerSec: size / fillSeconds, fillSeconds, reopenSeconds, rollupSeconds, fileMb, timings };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
