/**
 * Error tracking benchmark (bench/README.md "Errors"):
 *
 * 1. Error events per second through the whole write path of a running
 *    `shoplens serve` (HTTP, ingest workers, redaction, normalisation and
 *    grouping, the ingest log's fsync, the acknowledgement), as NDJSON
 *    batches and as Sentry envelopes of one event each (as SDKs send them).
 * 2. The error list (`/api/v1/errors`: groups with users, failed checkouts
 *    and revenue at risk) over 7 days holding 1 M error events beside the
 *    shop's commerce events, through the error group service on a DuckDB
 *    store. Target: under 500 ms.
 *
 * Run alone: `node --import tsx bench/errors.ts [--events 1m] [--seconds 15]`,
 * or as part of `npm run bench` (skip with --skip-errors).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { ErrorGroupService } from '../src/errors/error-group-service.ts';
import { ErrorGrouper } from '../src/errors/grouping-rules.ts';
import type { EventRecord } from '../src/schema/record.ts';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.ts';
import { ensureBuild, startServerProcess } from './server-process.ts';
import { fmt, median, percentile, progress, rng } from './stats.ts';

const DAY_MS = 86_400_000;
export const ERROR_LIST_TARGET_MS = 500;

/** Error kinds: a few dominant, a long tail (Zipf-like weights), each with its own call site. */
interface BenchFrame {
  readonly function: string;
  readonly filename: string;
  readonly lineno: number;
  readonly in_app: boolean;
}

function kinds(n: number): { type: string; message: (i: number) => string; frames: BenchFrame[]; weight: number }[] {
  return Array.from({ length: n }, (_, k) => ({
    type: ['GatewayTimeoutException', 'PaymentDeclinedException', 'TypeError', 'StockConflictException'][
      k % 4
    ] as string,
    message: (i: number) => `Failure ${k % 7} for order ORD-${i} after ${1000 + (i % 5000)} ms`,
    frames: [
      {
        function: `Controller${k % 13}.handle`,
        filename: `/app/src/http/controller-${k % 13}.ts`,
        lineno: 20 + k,
        in_app: true,
      },
      { function: `Service${k}.run`, filename: `/app/src/services/service-${k}.ts`, lineno: 40 + k, in_app: true },
      { function: 'Socket.emit', filename: '/app/node_modules/undici/lib/core.js', lineno: 10, in_app: false },
    ],
    weight: 1 / (k + 1),
  }));
}

function pickKind<T extends { weight: number }>(list: readonly T[], total: number, r: number): T {
  let x = r * total;
  for (const k of list) if ((x -= k.weight) <= 0) return k;
  return list[list.length - 1] as T;
}

// ------------------------------------------------------------------ ingest

export interface ErrorIngestResult {
  readonly ndjsonEventsPerSec: number;
  readonly sentryEventsPerSec: number;
  readonly seconds: number;
}

async function drive(
  seconds: number,
  connections: number,
  send: (i: number) => Promise<number>,
): Promise<{ events: number; seconds: number }> {
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  let events = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        // Not `events += await …`: that reads `events` before the await and loses the other loops' counts.
        const n = await send(next++);
        events += n;
      }
    }),
  );
  return { events, seconds: (performance.now() - started) / 1000 };
}

/** Under back-pressure the server answers 429: wait as it says (as SDKs do), nothing stored. */
async function backOff(res: Response): Promise<number> {
  const seconds = Number(res.headers.get('retry-after') ?? '1');
  await new Promise((r) => setTimeout(r, Math.min(5, Number.isFinite(seconds) ? seconds : 1) * 1000));
  return 0;
}

export async function runErrorIngest(
  options: { seconds: number; compiled: boolean },
  log: (line: string) => void,
): Promise<ErrorIngestResult> {
  const server = await startServerProcess({ SHOPLENS_LIMITS_INGEST_BYTES_PER_SECOND: '0' }, options.compiled);
  try {
    const key = await server.createKey('ingest');
    const list = kinds(200);
    const total = list.reduce((s, k) => s + k.weight, 0);
    const random = rng(7);
    const event = (i: number) => {
      const k = pickKind(list, total, random());
      return {
        '@timestamp': new Date().toISOString(),
        service: { name: `svc-${list.indexOf(k) % 6}`, version: '1.2.3' },
        event: { type: 'error' },
        log: { level: 'ERROR' },
        exception: { type: k.type, message: k.message(i), frames: k.frames },
        user: { id: `U-${i % 50_000}`, session_id: `S-${i % 80_000}` },
        trace_id: (i * 2654435761).toString(16).padStart(32, '0'),
      };
    };
    const batch = 500;
    const ndjson = await drive(options.seconds, 8, async (r) => {
      const lines = Array.from({ length: batch }, (_, j) => JSON.stringify(event(r * batch + j))).join('\n');
      const res = await fetch(`${server.url}/api/v1/events`, {
        method: 'POST',
        body: lines,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
      });
      const answer = (await res.json()) as { accepted?: number };
      if (res.status === 429) return backOff(res);
      if (res.status !== 200) throw new Error(`NDJSON ingest answered ${res.status}`);
      return answer.accepted ?? 0;
    });
    log(
      `errors ingest NDJSON: ${fmt(ndjson.events)} error events in ${ndjson.seconds.toFixed(1)} s, ${fmt(ndjson.events / ndjson.seconds)} events/s`,
    );
    const sentry = await drive(options.seconds, 16, async (r) => {
      const e = event(r);
      const sentryEvent = {
        event_id: (r + 1).toString(16).padStart(32, '0'),
        timestamp: Date.now() / 1000,
        platform: 'node',
        release: '1.2.3',
        exception: {
          values: [{ type: e.exception.type, value: e.exception.message, stacktrace: { frames: e.exception.frames } }],
        },
        user: { id: e.user.id },
        tags: { service: e.service.name },
        breadcrumbs: [{ category: 'http', message: 'GET /api/cart', timestamp: Date.now() / 1000 }],
      };
      const body = `{"event_id":"${sentryEvent.event_id}"}\n{"type":"event"}\n${JSON.stringify(sentryEvent)}\n`;
      const res = await fetch(`${server.url}/api/1/envelope/?sentry_key=${key}`, { method: 'POST', body });
      await res.arrayBuffer();
      if (res.status === 429) return backOff(res);
      if (res.status !== 200) throw new Error(`Sentry envelope answered ${res.status}`);
      return 1;
    });
    log(
      `errors ingest Sentry envelopes: ${fmt(sentry.events)} events in ${sentry.seconds.toFixed(1)} s, ${fmt(sentry.events / sentry.seconds)} events/s`,
    );
    return {
      ndjsonEventsPerSec: ndjson.events / ndjson.seconds,
      sentryEventsPerSec: sentry.events / sentry.seconds,
      seconds: options.seconds,
    };
  } finally {
    await server.stop();
  }
}

// ------------------------------------------------------------------- query

export interface ErrorListTiming {
  readonly name: string;
  readonly medianMs: number;
  readonly p95Ms: number;
}

export interface ErrorListResult {
  readonly errorEvents: number;
  readonly commerceEvents: number;
  readonly groups: number;
  readonly fillSeconds: number;
  readonly timings: readonly ErrorListTiming[];
}

/** The store filled with `errors` error events over 7 days and 2 commerce events per erroring session (plus as many clean ones). */
async function fillStore(store: DuckDBStore, errors: number, endMs: number): Promise<{ commerce: number }> {
  const grouper = new ErrorGrouper();
  const list = kinds(300).map((k) => ({
    ...k,
    fingerprint: grouper.fingerprint(
      {
        type: k.type,
        message: '',
        frames: k.frames.map((f) => ({ function: f.function, file: f.filename, inApp: f.in_app })),
      },
      'default',
    ).fingerprint,
  }));
  const total = list.reduce((s, k) => s + k.weight, 0);
  const random = rng(11);
  const fromMs = endMs - 7 * DAY_MS;
  const batchSize = 50_000;
  let commerce = 0;
  const sessions = Math.round(errors / 3);
  let batch: EventRecord[] = [];
  const flush = async () => {
    if (batch.length > 0) await store.appendEvents(batch);
    batch = [];
  };
  let k = list[0] as (typeof list)[number];
  let sessionNo = 0;
  for (let i = 0; i < errors; i++) {
    // A shopper who meets an error often meets it again in the same session (a retry, a reload): half
    // the events repeat the previous one's group and session. A session is one user's, a user one customer's.
    if (i === 0 || random() < 0.5) {
      k = pickKind(list, total, random());
      sessionNo = Math.floor(random() * sessions);
    }
    const ts = (fromMs + Math.floor((i / errors) * 7 * DAY_MS)) * 1000;
    const session = `S-${sessionNo}`;
    const person = sessionNo % 150_000;
    batch.push({
      ts,
      tenant: 'default',
      dataClass: 'app',
      columns: {
        service: `svc-${list.indexOf(k) % 6}`,
        environment: 'production',
        event_type: 'error',
        level: 'ERROR',
        error_type: k.type,
        error_message: k.message(i),
        error_fingerprint: k.fingerprint,
        user_id: `U-${person}`,
        customer_id: `C-${person}`,
        session_id: session,
        trace_id: (i * 2654435761).toString(16).padStart(32, '0'),
      },
      // A release a day per service, deployed at a different hour for each.
      attributes: {
        'service.version': `1.${Math.floor((i / errors) * 7 + (list.indexOf(k) % 6) / 6)}.0`,
      },
    });
    if (i % 3 === 0) {
      // The session's cart and checkout: completed in two of three sessions.
      const value = Math.round(random() * 30_000) / 100;
      batch.push({
        ts: ts - 60_000_000,
        tenant: 'default',
        dataClass: 'business',
        columns: { event_type: 'add_to_cart', session_id: session, user_id: `U-${person}` },
        attributes: { 'cart.value': value },
      });
      batch.push({
        ts: ts + 60_000_000,
        tenant: 'default',
        dataClass: 'business',
        columns: {
          event_type: random() < 0.66 ? 'order_completed' : 'payment_transaction',
          event_outcome: 'failure',
          session_id: session,
          amount: value * 1.08,
          currency: 'USD',
        },
        attributes: null,
      });
      commerce += 2;
    }
    if (batch.length >= batchSize) {
      await flush();
      progress(`errors fill: ${fmt(i + 1)} / ${fmt(errors)} error events`);
    }
  }
  await flush();
  return { commerce };
}

export async function runErrorList(
  options: { events: number; runs: number },
  log: (line: string) => void,
): Promise<ErrorListResult> {
  const kept = process.env.SHOPLENS_BENCH_ERRORS_DIR;
  const dataDir = kept ?? mkdtempSync(join(tmpdir(), 'shoplens-bench-errors-'));
  const config = loadConfig({ env: {}, flags: { dataDir } });
  const open = async () => {
    const s = new DuckDBStore({
      dataDir,
      threads: config.store.duckdbThreads,
      memoryLimit: config.store.duckdbMemoryLimit,
      defaultLimit: config.query.defaultLimit,
      maxRows: config.query.maxRows,
      queryTimeoutMs: config.query.timeout,
      rowGroupRows: config.store.segmentRows,
    });
    await s.open();
    return s;
  };
  let store = await open();
  try {
    const endMs = Math.floor(Date.now() / 60_000) * 60_000;
    const t0 = performance.now();
    const { commerce } =
      kept && process.env.SHOPLENS_BENCH_ERRORS_REUSE ? { commerce: 0 } : await fillStore(store, options.events, endMs);
    const fillSeconds = (performance.now() - t0) / 1000;
    progress(
      `errors fill: ${fmt(options.events)} error and ${fmt(commerce)} commerce events in ${fillSeconds.toFixed(1)} s`,
      true,
    );
    // What a running server's background job does between ingest batches: the minute rollups, the latency
    // histograms and the hourly error group rows (errors_1h), up to a minute ago.
    const r0 = performance.now();
    let slices = 0;
    while (!(await store.rollUp()).caughtUp) slices++;
    const rollupSeconds = (performance.now() - r0) / 1000;
    log(`errors rollups: ${slices + 1} slices in ${rollupSeconds.toFixed(1)} s`);
    await store.close();
    store = await open();
    const service = new ErrorGroupService(store, new ErrorGrouper(), { timeoutMs: 60_000 });
    const range = { fromMs: endMs - 7 * DAY_MS, toMs: endMs + 1 };
    let groups = 0;
    let firstId = '';
    const cases: [string, () => Promise<unknown>][] = [
      [
        'list 7d, by last seen',
        async () => {
          const r = await service.list({ tenant: 'default', range });
          groups = r.total;
          firstId = r.groups[0]?.id ?? '';
        },
      ],
      ['list 7d, by revenue at risk', () => service.list({ tenant: 'default', range, sort: 'revenue' })],
      [
        'list 7d, by users, one service',
        () => service.list({ tenant: 'default', range, sort: 'users', service: 'svc-1' }),
      ],
      ['list 7d, one release', () => service.list({ tenant: 'default', range, release: '1.3.0' })],
      ['group detail 7d', () => service.detail('default', firstId, range)],
    ];
    const timings: ErrorListTiming[] = [];
    for (const [name, run] of cases) {
      const samples: number[] = [];
      for (let i = 0; i <= options.runs; i++) {
        const started = performance.now();
        await run();
        if (i > 0) samples.push(performance.now() - started);
      }
      const t = { name, medianMs: median(samples), p95Ms: percentile(samples, 95) };
      timings.push(t);
      log(
        `errors ${name}: median ${t.medianMs.toFixed(1)} ms, p95 ${t.p95Ms.toFixed(1)} ms (runs ${samples.map((s) => s.toFixed(0)).join(', ')})`,
      );
    }
    return { errorEvents: options.events, commerceEvents: commerce, groups, fillSeconds, timings };
  } finally {
    await store.close();
    if (!kept) rmSync(dataDir, { recursive: true, force: true });
  }
}

function sizeOf(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
  if (!m) throw new Error(`expected a size such as 1m or 250k, got "${text}"`);
  return Math.round(Number(m[1]) * ({ '': 1, k: 1e3, m: 1e6 }[(m[2] ?? '').toLowerCase()] ?? 1));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1m' },
      seconds: { type: 'string', default: '15' },
      runs: { type: 'string', default: '5' },
      'skip-ingest': { type: 'boolean', default: false },
      'skip-list': { type: 'boolean', default: false },
    },
  });
  const log = (line: string) => process.stdout.write(`${line}\n`);
  if (!values['skip-ingest']) {
    await runErrorIngest({ seconds: Number(values.seconds), compiled: ensureBuild(log) }, log);
  }
  if (!values['skip-list']) {
    const r = await runErrorList({ events: sizeOf(values.events), runs: Number(values.runs) }, log);
    const worst = Math.max(...r.timings.filter((t) => t.name.startsWith('list')).map((t) => t.medianMs));
    log(
      `errors: ${fmt(r.errorEvents)} error events in ${r.groups} groups, ${fmt(r.commerceEvents)} commerce events; ` +
        `slowest list median ${worst.toFixed(0)} ms (target < ${ERROR_LIST_TARGET_MS} ms)`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
