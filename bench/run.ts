/**
 * `npm run bench`: ingest throughput over HTTP NDJSON and query latency over
 * 1 M / 10 M stored events. Prints a table; asserts nothing. See bench/README.md.
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { runIngest, type IngestResult } from './ingest.ts';
import { runQueries, type QuerySizeResult } from './query.ts';
import { parseDuration } from '../src/util/duration.ts';
import { fmt } from './stats.ts';

const USAGE = `Usage: npm run bench -- [options]
  --sizes 1m,10m          store sizes for the query benchmark (k/m suffixes; default 1m,10m)
  --ingest-seconds N      measured ingest window in seconds (default 20)
  --warmup-seconds N      ingest warm-up before measuring (default 3)
  --connections N         concurrent ingest requests in flight (default 6)
  --batch-events N        events per ingest request (default 500)
  --spread DURATION       event timestamps spread over this long before the run (default 1m: live
                          traffic; 1h: backdated events, each one late for the minute rollups)
  --runs N                timed runs per query, after 1 warm-up (default 5)
  --skip-ingest           skip the ingest benchmark
  --skip-query            skip the query benchmark
  -h, --help              show this help`;

const INGEST_TARGET = 50_000;
const QUERY_TARGET_MS = 300;
const QUERY_TARGET_SIZE = 10_000_000;

function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([km]?)\s*$/i.exec(text);
  if (!m) throw new Error(`--sizes: expected sizes like 1m,10m or 250k, got "${text}"`);
  const mult = { '': 1, k: 1e3, m: 1e6 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Math.round(Number(m[1]) * mult);
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a positive number, got "${text}"`);
  return n;
}

function spreadOf(text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new Error(`--spread: ${(err as Error).message}`, { cause: err });
  }
}

function sizeLabel(n: number): string {
  return n >= 1e6 && n % 1e5 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 100 === 0 ? `${n / 1e3}k` : String(n);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1m,10m' },
      'ingest-seconds': { type: 'string', default: '20' },
      'warmup-seconds': { type: 'string', default: '3' },
      connections: { type: 'string', default: '6' },
      'batch-events': { type: 'string', default: '500' },
      spread: { type: 'string', default: '1m' },
      runs: { type: 'string', default: '5' },
      'skip-ingest': { type: 'boolean', default: false },
      'skip-query': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const sizes = values.sizes
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(parseSize);
  const log = (line: string): void => console.error(line);

  const cpuList = cpus();
  const machine = `${cpuList.length} cores, ${cpuList[0]?.model ?? 'unknown CPU'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB RAM, Node ${process.version}, ${process.platform}/${process.arch}`;
  log(`machine: ${machine}`);

  let ingest: IngestResult | undefined;
  if (!values['skip-ingest']) {
    ingest = await runIngest(
      {
        seconds: positive('ingest-seconds', values['ingest-seconds']),
        warmupSeconds: Number(values['warmup-seconds']),
        connections: Math.round(positive('connections', values.connections)),
        batchEvents: Math.round(positive('batch-events', values['batch-events'])),
        spreadMs: spreadOf(values.spread),
      },
      log,
    );
    const s = ingest.server;
    log(
      `ingest: ${fmt(ingest.requests)} requests; server main thread busy ${(s.mainThreadElu * 100).toFixed(0)} %, ` +
        `generator worker busy ${(s.generatorElu * 100).toFixed(0)} %, process CPU ${s.cpuCores.toFixed(2)} cores; ` +
        `group commits of ${fmt(s.avgBatchEvents)} events avg, ${s.avgCommitMs.toFixed(1)} ms avg, writer busy ${(s.writerBusy * 100).toFixed(0)} %`,
    );
    if (Object.keys(ingest.failures).length > 0) {
      log(`ingest: non-200 answers ${JSON.stringify(ingest.failures)}; first: ${ingest.firstFailure ?? ''}`);
    }
  }

  const queryResults: QuerySizeResult[] = [];
  if (!values['skip-query']) {
    for (const size of sizes) {
      queryResults.push(
        await runQueries(
          size,
          sizeLabel(size),
          { runs: Math.round(positive('runs', values.runs)), batchSize: 50_000 },
          log,
        ),
      );
    }
  }

  const table = new Table({
    head: ['metric', 'value', 'unit', 'target', 'meets target'],
    colAligns: ['left', 'right', 'left', 'left', 'left'],
    // No ANSI colours when the output goes to a file or a pipe.
    style: process.stdout.isTTY ? {} : { head: [], border: [] },
  });
  const yesNo = (ok: boolean): string => (ok ? 'yes' : 'NO');
  if (ingest) {
    table.push(
      [
        'ingest throughput (HTTP NDJSON)',
        fmt(ingest.eventsPerSec),
        'events/s',
        `≥ ${fmt(INGEST_TARGET)}`,
        yesNo(ingest.eventsPerSec >= INGEST_TARGET),
      ],
      ['ingest throughput (request bodies)', fmt(ingest.mbPerSec, 2), 'MB/s', '', ''],
      ['ingest request latency p50', fmt(ingest.p50Ms, 1), 'ms', '', ''],
      ['ingest request latency p99', fmt(ingest.p99Ms, 1), 'ms', '', ''],
    );
  }
  for (const r of queryResults) {
    const label = sizeLabel(r.size);
    const targeted = r.size >= QUERY_TARGET_SIZE;
    table.push([`fill ${label} events (appendEvents)`, fmt(r.fillRowsPerSec), 'rows/s', '', '']);
    for (const t of r.timings) {
      for (const [stat, ms] of [
        ['median', t.medianMs],
        ['p95', t.p95Ms],
      ] as const) {
        table.push([
          `${label}: ${t.name} ${stat}`,
          fmt(ms, 1),
          'ms',
          targeted ? `≤ ${QUERY_TARGET_MS}` : '',
          targeted ? yesNo(ms <= QUERY_TARGET_MS) : '',
        ]);
      }
    }
  }
  console.log(`\nShoplens benchmark — ${machine}`);
  console.log(table.toString());
  if (queryResults.length > 0) {
    const runs = values.runs;
    console.log(`Query times: ${runs} runs after 1 warm-up; p95 is nearest-rank (with ${runs} runs, the slowest).`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
