/**
 * Ingest over HTTP, per event shape: a generated NDJSON file; `shoplens serve`
 * as its own process (keys on, redaction on, durable ack); a load generator
 * in worker threads sending the file's lines as request bodies; meanwhile a
 * visibility probe and samples of the server's RSS, CPU and /metrics. Then,
 * with the server stopped, DuckDB's own load of the same file.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { runDuckDBLoads, type DuckDBLoadResult } from './duckdb-load.ts';
import { apiRequestEvent, paymentEvent } from './events.ts';
import type { DoneMessage, FromWorker, LoadOptions, ReadyMessage, ToWorker } from './ingest-worker.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';
import { fmt, percentile, rng } from './stats.ts';
import { VisibilityProbe, type VisibilityResult } from './visibility-probe.ts';
import { formatDuration } from '../src/util/duration.ts';

export type EventShape = 'payment' | 'api_request';

export const SHAPES: Record<EventShape, (i: number, tsMs: number, random: () => number) => Record<string, unknown>> = {
  payment: paymentEvent,
  api_request: apiRequestEvent,
};

export interface IngestOptions {
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Requests in flight, over all generator threads. */
  readonly connections: number;
  readonly generators: number;
  readonly batchEvents: number;
  /** Each event is sent with a timestamp up to `spreadMs` old (the file's, moved to the time of sending). */
  readonly spreadMs: number;
  /** Events in the generated file (sent round-robin, and what DuckDB loads). */
  readonly fileEvents: number;
  /** After the measured window, top the store up to this many events, stop, settle, read RSS (0 = skip). */
  readonly eventsAfter: number;
  readonly settleSeconds: number;
  /** How long the fresh server idles before its idle RSS is read. */
  readonly idleSeconds: number;
  readonly duckdbRuns: number;
  /** Run `build/` (true) or the sources through tsx. */
  readonly compiled: boolean;
}

export interface ShapeResult {
  readonly shape: EventShape;
  /** The server ran build/ (else the sources through tsx). */
  readonly compiled: boolean;
  readonly fileEvents: number;
  readonly fileBytes: number;
  readonly eventsPerSec: number;
  readonly mbPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly failures: Record<string, number>;
  readonly firstFailure?: string;
  /** Event-loop utilisation of the busiest generator thread, 0..1. */
  readonly generatorBusy: number;
  /** CPU of the server process over the window, in cores. */
  readonly cpuCores: number;
  /** Server process CPU ÷ events accepted in the window, µs. */
  readonly cpuUsPerEvent: number;
  /** The same for the server's main thread alone. */
  readonly mainThreadUsPerEvent: number;
  /** From /metrics `shoplens_ingest_stage_seconds_total`, µs per event; undefined when the server lacks it. */
  readonly stageUsPerEvent: { readonly prepare?: number; readonly load?: number };
  /** CPU of the ingest worker threads on their tasks (`shoplens_ingest_stage_cpu_seconds_total{stage="prepare"}`), µs per event. */
  readonly prepareCpuUsPerEvent?: number;
  /** Largest `shoplens_log_bytes` seen; undefined when absent. */
  readonly logBytesMax?: number;
  /** Group commits over the window, from the `shoplens_batch_*` histograms when present. */
  readonly commits?: { readonly avgEvents: number; readonly avgMs: number; readonly busy: number };
  /** Segments loaded into the store over the window, from `shoplens_log_segment_load_seconds` when present. */
  readonly segments?: { readonly count: number; readonly avgRows: number; readonly avgMs: number };
  readonly rss: {
    /** 2 s after start, empty store (start-up's garbage not yet collected). */
    readonly started: number;
    /** After idling `idleSeconds` from start, empty store (V8 shrinks its heap after about a minute of quiet). */
    readonly idle: number;
    /** Largest VmRSS sampled during the window, and VmHWM at its end. */
    readonly loadMax: number;
    readonly loadPeak: number;
    readonly after?: {
      readonly events: number;
      readonly rss: number;
      readonly peak: number;
      readonly fillEventsPerSec: number;
    };
  };
  readonly visibility: VisibilityResult;
  readonly duckdb: DuckDBLoadResult;
}

/** Runs a worker module written in TypeScript (workers do not inherit `--import tsx`). */
function tsWorker(url: URL, data: unknown): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

function nextMessage(worker: Worker): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    worker.once('error', onError);
    worker.once('message', (m: FromWorker) => {
      worker.off('error', onError);
      resolve(m);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Writes `n` events of `shape`, one per line, timestamps in the `spreadMs` before now; answers the file's size and now. */
function writeEventsFile(
  path: string,
  shape: EventShape,
  n: number,
  spreadMs: number,
): { bytes: number; timeMs: number } {
  const make = SHAPES[shape];
  const random = rng(42);
  const now = Date.now();
  const fd = openSync(path, 'w', 0o600);
  try {
    for (let i = 0; i < n;) {
      const lines: string[] = [];
      for (const end = Math.min(n, i + 10_000); i < end; i++) {
        lines.push(JSON.stringify(make(i, now - Math.floor(random() * spreadMs), random)));
      }
      writeSync(fd, `${lines.join('\n')}\n`);
    }
  } finally {
    closeSync(fd);
  }
  return { bytes: statSync(path).size, timeMs: now };
}

/** Sum of the samples of metric `name` (any labels) whose labels contain `label`. */
function metricSum(m: Map<string, number>, name: string, label = ''): number | undefined {
  let sum: number | undefined;
  for (const [key, value] of m) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (label && !key.includes(label)) continue;
    sum = (sum ?? 0) + value;
  }
  return sum;
}

function delta(a: Map<string, number>, b: Map<string, number>, name: string, label = ''): number | undefined {
  const x = metricSum(a, name, label);
  const y = metricSum(b, name, label);
  return x === undefined || y === undefined ? undefined : y - x;
}

interface Generators {
  readonly workers: Worker[];
  run(cmd: ToWorker): Promise<DoneMessage[]>;
  terminate(): Promise<void>;
}

async function startGenerators(
  server: ServerProcess,
  apiKey: string,
  file: { path: string; timeMs: number },
  o: IngestOptions,
): Promise<{ generators: Generators; ready: ReadyMessage[] }> {
  const workers: Worker[] = [];
  const ready: ReadyMessage[] = [];
  for (let k = 0; k < o.generators; k++) {
    const share = Math.floor(o.connections / o.generators) + (k < o.connections % o.generators ? 1 : 0);
    const load: LoadOptions = {
      url: server.url,
      apiKey,
      connections: Math.max(1, share),
      batchEvents: o.batchEvents,
      file: file.path,
      fileTimeMs: file.timeMs,
      index: k,
      count: o.generators,
    };
    const w = tsWorker(new URL('./ingest-worker.ts', import.meta.url), load);
    workers.push(w);
    const m = await nextMessage(w);
    if (m.type !== 'ready') throw new Error('load generator did not start');
    ready.push(m);
  }
  return {
    ready,
    generators: {
      workers,
      run: (cmd) =>
        Promise.all(
          workers.map((w) => {
            const done = nextMessage(w) as Promise<DoneMessage>;
            const share = cmd.maxEvents === undefined ? {} : { maxEvents: Math.ceil(cmd.maxEvents / workers.length) };
            w.postMessage({ ...cmd, ...share } satisfies ToWorker);
            return done;
          }),
        ),
      terminate: async () => {
        await Promise.all(workers.map((w) => w.terminate()));
      },
    },
  };
}

/** Samples the server's RSS (every 500 ms) and /metrics (every 1 s) until stopped. */
function sampler(server: ServerProcess): { stop(): Promise<{ rssMax: number; logBytesMax?: number }> } {
  let rssMax = 0;
  let logBytesMax: number | undefined;
  let running = true;
  const loop = (async () => {
    for (let tick = 0; running; tick++) {
      rssMax = Math.max(rssMax, server.memory().rss);
      if (tick % 2 === 0) {
        const m = await server.metrics().catch(() => undefined);
        const bytes = m && metricSum(m, 'shoplens_log_bytes');
        if (bytes !== undefined) logBytesMax = Math.max(logBytesMax ?? 0, bytes);
      }
      await sleep(500);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { rssMax, ...(logBytesMax === undefined ? {} : { logBytesMax }) };
    },
  };
}

function merge(done: DoneMessage[]): {
  windowMs: number;
  accepted: number;
  total: number;
  bytes: number;
  requests: number;
  latencies: number[];
  failures: Record<string, number>;
  firstFailure?: string;
} {
  const failures: Record<string, number> = {};
  let firstFailure: string | undefined;
  const latencies: number[] = [];
  for (const d of done) {
    for (const [k, v] of Object.entries(d.failures)) failures[k] = (failures[k] ?? 0) + v;
    firstFailure ??= d.firstFailure;
    for (const l of d.latenciesMs) latencies.push(l);
  }
  return {
    windowMs: Math.max(...done.map((d) => d.windowMs)),
    accepted: done.reduce((s, d) => s + d.acceptedEvents, 0),
    total: done.reduce((s, d) => s + d.totalAcceptedEvents, 0),
    bytes: done.reduce((s, d) => s + d.bodyBytes, 0),
    requests: done.reduce((s, d) => s + d.requests, 0),
    latencies,
    failures,
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}

/** One event shape, end to end; `eventsAfter` only when this shape tops the store up. */
export async function runIngestShape(
  shape: EventShape,
  o: IngestOptions,
  topUp: boolean,
  log: (line: string) => void,
): Promise<ShapeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'shoplens-bench-file-'));
  const file = join(dir, `${shape}.ndjson`);
  let server: ServerProcess | undefined;
  let generators: Generators | undefined;
  try {
    const written = writeEventsFile(file, shape, o.fileEvents, o.spreadMs);
    const fileBytes = written.bytes;
    log(
      `${shape}: ${fmt(o.fileEvents)} events, ${(fileBytes / 1e6).toFixed(1)} MB (${fmt(fileBytes / o.fileEvents)} B/event), ` +
        `each sent with a timestamp up to ${formatDuration(o.spreadMs)} before it is sent`,
    );
    // The per-tenant ingest limit (64 MB/s by default) is below the payment-event target: off here.
    server = await startServerProcess({ SHOPLENS_LIMITS_INGEST_BYTES_PER_SECOND: '0' }, o.compiled);
    await sleep(2000);
    const startedRss = server.memory().rss;
    if (o.idleSeconds > 2) {
      log(`${shape}: server idling ${o.idleSeconds} s before its idle RSS is read`);
      await sleep((o.idleSeconds - 2) * 1000);
    }
    const idle = server.memory().rss;
    const ingestKey = await server.createKey('ingest');
    const readKey = await server.createKey('read');
    const started = await startGenerators(server, ingestKey, { path: file, timeMs: written.timeMs }, o);
    generators = started.generators;
    const bodyBytes =
      started.ready.reduce((s, r) => s + r.bodyBytes * r.bodies, 0) / started.ready.reduce((s, r) => s + r.bodies, 0);
    log(
      `${shape}: server pid ${server.pid} (${server.compiled ? 'build/' : 'sources via tsx'}) at ${server.url}, idle RSS ${fmt(idle / 2 ** 20)} MiB; ` +
        `${o.generators} generator thread(s), ${o.connections} requests in flight, bodies of ${o.batchEvents} events ` +
        `(${(bodyBytes / 1e6).toFixed(2)} MB); ${o.warmupSeconds} s warm-up + ${o.seconds} s measured`,
    );

    const warmupMs = o.warmupSeconds * 1000;
    const durationMs = o.seconds * 1000;
    const done = generators.run({ type: 'run', warmupMs, durationMs });
    await sleep(warmupMs);
    const elu0 = generators.workers.map((w) => w.performance.eventLoopUtilization());
    const cpu0 = server.cpuMicros();
    const main0 = server.mainThreadCpuMicros();
    const m0 = await server.metrics();
    const t0 = performance.now();
    const probe = new VisibilityProbe({ url: server.url, ingestKey, readKey });
    probe.start();
    const samples = sampler(server);
    await sleep(durationMs);
    const cpu1 = server.cpuMicros();
    const main1 = server.mainThreadCpuMicros();
    const m1 = await server.metrics();
    const wallMs = performance.now() - t0;
    const busy = generators.workers.map((w, k) => w.performance.eventLoopUtilization(elu0[k]).utilization);
    const loadPeak = server.memory().peakRss;
    const run = merge(await done);
    const visibility = await probe.stop();
    const sampled = await samples.stop();

    const events = run.accepted;
    const stage = (name: string): number | undefined => {
      const s = delta(m0, m1, 'shoplens_ingest_stage_seconds_total', `stage="${name}"`);
      return s === undefined || events === 0 ? undefined : (s * 1e6) / events;
    };
    const commitSeconds = delta(m0, m1, 'shoplens_batch_commit_seconds_sum');
    const commitCount = delta(m0, m1, 'shoplens_batch_commit_seconds_count');
    const batchEvents = delta(m0, m1, 'shoplens_batch_events_sum');
    const commits =
      commitSeconds !== undefined && commitCount && batchEvents !== undefined
        ? {
            avgEvents: batchEvents / commitCount,
            avgMs: (commitSeconds * 1000) / commitCount,
            busy: (commitSeconds * 1000) / wallMs,
          }
        : undefined;
    const prepare = stage('prepare');
    const prepareCpu = delta(m0, m1, 'shoplens_ingest_stage_cpu_seconds_total', 'stage="prepare"');
    const load = stage('load');
    const segmentCount = delta(m0, m1, 'shoplens_log_segment_load_seconds_count');
    const segmentSeconds = delta(m0, m1, 'shoplens_log_segment_load_seconds_sum');
    const segmentRows = delta(m0, m1, 'shoplens_log_loaded_events_total');
    const segments =
      segmentCount && segmentSeconds !== undefined && segmentRows !== undefined
        ? { count: segmentCount, avgRows: segmentRows / segmentCount, avgMs: (segmentSeconds * 1000) / segmentCount }
        : undefined;

    let after: ShapeResult['rss']['after'];
    if (topUp && o.eventsAfter > 0) {
      const already = run.total + visibility.probes;
      const remaining = Math.max(0, o.eventsAfter - already);
      log(
        `${shape}: ${fmt(already)} events in the store; sending ${fmt(remaining)} more to reach ${fmt(o.eventsAfter)}`,
      );
      const f0 = performance.now();
      const fill =
        remaining > 0
          ? merge(await generators.run({ type: 'run', warmupMs: 0, durationMs: 30 * 60_000, maxEvents: remaining }))
          : undefined;
      const fillSeconds = (performance.now() - f0) / 1000;
      await generators.terminate();
      generators = undefined;
      log(`${shape}: loaded in ${fillSeconds.toFixed(1)} s; settling ${o.settleSeconds} s with no traffic`);
      await sleep(o.settleSeconds * 1000);
      const mem = server.memory();
      after = {
        events: already + (fill?.total ?? 0),
        rss: mem.rss,
        peak: mem.peakRss,
        fillEventsPerSec: fill ? fill.total / fillSeconds : Number.NaN,
      };
    }

    await generators?.terminate();
    generators = undefined;
    await server.stop();
    server = undefined;
    log(`${shape}: server stopped; DuckDB's own load of the same file (best of ${o.duckdbRuns})`);
    const duckdb = await runDuckDBLoads(file, o.fileEvents, fileBytes, o.duckdbRuns, log);
    return {
      shape,
      compiled: o.compiled,
      fileEvents: o.fileEvents,
      fileBytes,
      eventsPerSec: events / (run.windowMs / 1000),
      mbPerSec: run.bytes / 1e6 / (run.windowMs / 1000),
      p50Ms: percentile(run.latencies, 50),
      p99Ms: percentile(run.latencies, 99),
      requests: run.requests,
      failures: run.failures,
      ...(run.firstFailure === undefined ? {} : { firstFailure: run.firstFailure }),
      generatorBusy: Math.max(...busy),
      cpuCores: (cpu1 - cpu0) / 1000 / wallMs,
      cpuUsPerEvent: events > 0 ? (cpu1 - cpu0) / events : Number.NaN,
      mainThreadUsPerEvent: events > 0 ? (main1 - main0) / events : Number.NaN,
      ...(prepareCpu === undefined || events === 0 ? {} : { prepareCpuUsPerEvent: (prepareCpu * 1e6) / events }),
      stageUsPerEvent: { ...(prepare === undefined ? {} : { prepare }), ...(load === undefined ? {} : { load }) },
      ...(sampled.logBytesMax === undefined ? {} : { logBytesMax: sampled.logBytesMax }),
      ...(commits ? { commits } : {}),
      ...(segments ? { segments } : {}),
      rss: { started: startedRss, idle, loadMax: sampled.rssMax, loadPeak, ...(after ? { after } : {}) },
      visibility,
      duckdb,
    };
  } finally {
    await generators?.terminate();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
