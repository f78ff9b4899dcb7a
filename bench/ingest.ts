/**
 * Ingest throughput over HTTP: a real Shoplens server in this process (real
 * DuckDB file in a temp dir, 127.0.0.1:0) and the load generator in a worker
 * thread. Every request is answered only after its events are committed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createServer } from '../src/api/server.ts';
import { openStore } from '../src/cli/serve.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { SelfMetrics } from '../src/telemetry/self-metrics.ts';
import type { DoneMessage, FromWorker, LoadOptions, ToWorker } from './ingest-worker.ts';
import { formatDuration } from '../src/util/duration.ts';
import { percentile } from './stats.ts';

export interface IngestOptions {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly batchEvents: number;
  /** Event timestamps lie in the `spreadMs` before the run starts. */
  readonly spreadMs: number;
}

export interface IngestResult {
  readonly eventsPerSec: number;
  readonly mbPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly failures: Record<string, number>;
  readonly firstFailure?: string;
  /** What the server process did during the measured window. */
  readonly server: {
    /** Event-loop utilisation of the server's main thread, 0..1. */
    readonly mainThreadElu: number;
    /** Event-loop utilisation of the load-generator worker, 0..1. */
    readonly generatorElu: number;
    /** Process CPU (all threads: server, DuckDB, generator) in cores. */
    readonly cpuCores: number;
    /** Average events per group commit. */
    readonly avgBatchEvents: number;
    /** Average time of one commit (append + COMMIT), ms. */
    readonly avgCommitMs: number;
    /** Share of the window during which a commit was running, 0..1. */
    readonly writerBusy: number;
  };
}

/** Runs a worker module written in TypeScript (workers do not inherit `--import tsx`). */
function tsWorker(url: URL, data: unknown): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

async function histogramSumCount(h: SelfMetrics['batchEvents']): Promise<{ sum: number; count: number }> {
  const { values } = await h.get();
  let sum = 0;
  let count = 0;
  for (const v of values) {
    if (v.metricName?.endsWith('_sum')) sum += v.value;
    else if (v.metricName?.endsWith('_count')) count += v.value;
  }
  return { sum, count };
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

export async function runIngest(o: IngestOptions, log: (line: string) => void): Promise<IngestResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'shoplens-bench-ingest-'));
  const config = loadConfig({
    env: process.env,
    flags: { dataDir, server: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' } },
  });
  const metrics = new SelfMetrics({ processMetrics: false });
  const store = await openStore(config);
  const server = await createServer({ config, store, logger: createLogger('warn'), metrics });
  const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  let worker: Worker | undefined;
  try {
    // With keys on, as in production: every request is authenticated (the key look-up is cached).
    const { key: apiKey } = await server.context.keys.create({ tenant: 'default', role: 'ingest', createdBy: 'bench' });
    const load: LoadOptions = {
      url,
      apiKey,
      connections: o.connections,
      batchEvents: o.batchEvents,
      bodies: 32,
      spreadMs: o.spreadMs,
    };
    worker = tsWorker(new URL('./ingest-worker.ts', import.meta.url), load);
    const ready = await nextMessage(worker);
    if (ready.type !== 'ready') throw new Error('load generator did not start');
    log(
      `ingest: ${load.bodies} bodies of ${o.batchEvents} events (${(ready.bodyBytes / 1e6).toFixed(2)} MB each, ` +
        `timestamps over the ${formatDuration(o.spreadMs)} before the run) built in ${Math.round(ready.buildMs)} ms; ` +
        `${o.connections} connections, ${o.warmupSeconds} s warm-up + ${o.seconds} s measured against ${url}`,
    );
    const warmupMs = o.warmupSeconds * 1000;
    const durationMs = o.seconds * 1000;
    const done = nextMessage(worker);
    worker.postMessage({ type: 'run', warmupMs, durationMs } satisfies ToWorker);

    // Sample the server over the measured window only.
    await new Promise((r) => setTimeout(r, warmupMs));
    const elu0 = performance.eventLoopUtilization();
    const welu0 = worker.performance.eventLoopUtilization();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const commits0 = await histogramSumCount(metrics.batchCommitSeconds);
    const batches0 = await histogramSumCount(metrics.batchEvents);
    await new Promise((r) => setTimeout(r, durationMs));
    const commits1 = await histogramSumCount(metrics.batchCommitSeconds);
    const batches1 = await histogramSumCount(metrics.batchEvents);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    const welu = worker.performance.eventLoopUtilization(welu0);

    const result = (await done) as DoneMessage;
    const seconds = result.windowMs / 1000;
    const commitCount = commits1.count - commits0.count;
    return {
      eventsPerSec: result.acceptedEvents / seconds,
      mbPerSec: result.bodyBytes / 1e6 / seconds,
      p50Ms: percentile(result.latenciesMs, 50),
      p99Ms: percentile(result.latenciesMs, 99),
      requests: result.requests,
      failures: result.failures,
      ...(result.firstFailure === undefined ? {} : { firstFailure: result.firstFailure }),
      server: {
        mainThreadElu: elu.utilization,
        generatorElu: welu.utilization,
        cpuCores: (cpu.user + cpu.system) / 1000 / wallMs,
        avgBatchEvents: commitCount > 0 ? (batches1.sum - batches0.sum) / (batches1.count - batches0.count) : 0,
        avgCommitMs: commitCount > 0 ? ((commits1.sum - commits0.sum) * 1000) / commitCount : 0,
        writerBusy: ((commits1.sum - commits0.sum) * 1000) / wallMs,
      },
    };
  } finally {
    await worker?.terminate();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
