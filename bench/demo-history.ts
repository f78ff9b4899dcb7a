/**
 * `node --import tsx bench/demo-history.ts`: the cost of making the demo's
 * history and handing it to ingest, without the store: the sink only
 * counts. Two paths, run interleaved, best of N:
 *
 * - `objects`: the simulator's events turned into objects with `@timestamp`
 *   and stringified in the main thread (what `backfill` + `pipelineSink.send` do);
 * - `worker`: the demo's path (src/cli/demo-history.ts): NDJSON bytes made in
 *   a worker thread, handed to the main thread as they are.
 *
 * Prints CPU µs per event of the whole process (every thread) and of the
 * main thread's event loop, events/s and the peak RSS seen. Asserts nothing.
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { fillHistory } from '../src/cli/demo-history.ts';
import { backfill, type EventSink, type NdjsonSink } from '../src/demo/demo-runner.ts';
import { demoSimulatorOptions, type DemoShopWithIncidents } from '../src/demo/demo-shop.ts';
import { ShopSimulator } from '../src/demo/shop-simulator.ts';
import { parseDuration } from '../src/util/duration.ts';

const USAGE = `Usage: node --import tsx bench/demo-history.ts [options]
  --history DURATION   history to generate, newest first (default 1d; 7d is the demo's ~2 M events)
  --runs N             runs of each path, interleaved; the best is kept (default 3)
  --paths LIST         objects,worker (default both)
  -h, --help           show this help`;

/** A fixed end, so that every run makes the same events: a Monday 00:00 UTC after a week with its Saturday sale. */
const END_MS = Date.UTC(2026, 10, 23);

interface RunResult {
  readonly events: number;
  readonly bytes: number;
  readonly cpuUs: number;
  readonly mainUs: number;
  readonly wallMs: number;
  readonly peakRssMb: number;
}

type Path = 'objects' | 'worker';

/** Counts what it is handed; keeps nothing. */
class CountingSink implements EventSink, NdjsonSink {
  events = 0;
  bytes = 0;
  peakRss = 0;

  async send(events: readonly Record<string, unknown>[]) {
    // As pipelineSink.send: one NDJSON body of the objects, as bytes.
    let body = '';
    for (const event of events) body += `${JSON.stringify(event)}\n`;
    return this.sendNdjson(Buffer.from(body), events.length);
  }

  async sendNdjson(body: Uint8Array, events: number) {
    this.events += events;
    this.bytes += body.byteLength;
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
    return { accepted: events, rejected: 0 };
  }
}

async function run(path: Path, historyMs: number): Promise<RunResult> {
  const shop: DemoShopWithIncidents = {
    seed: 42,
    liveStartMs: END_MS,
    historyScale: 1,
    liveScale: 1,
    infraIntervalMs: 60_000,
    incidents: [],
  };
  const gap = { fromMs: END_MS - historyMs, toMs: END_MS };
  const sink = new CountingSink();
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const started = performance.now();
  if (path === 'objects') {
    await backfill(new ShopSimulator(demoSimulatorOptions(shop)), sink, { ...gap, newestFirst: true });
  } else {
    await fillHistory(shop, sink, [gap], { signal: new AbortController().signal, log: () => {}, label: 'bench' });
  }
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const loop = performance.eventLoopUtilization(elu);
  return {
    events: sink.events,
    bytes: sink.bytes,
    cpuUs: used.user + used.system,
    mainUs: loop.active * 1000,
    wallMs,
    peakRssMb: sink.peakRss / 1e6,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      history: { type: 'string', default: '1d' },
      runs: { type: 'string', default: '3' },
      paths: { type: 'string', default: 'objects,worker' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const historyMs = parseDuration(values.history);
  const runs = Math.max(1, Number(values.runs) || 1);
  const paths = values.paths.split(',').map((p) => p.trim()) as Path[];
  for (const p of paths) if (p !== 'objects' && p !== 'worker') throw new Error(`--paths: unknown path "${p}"`);
  const best = new Map<Path, RunResult>();
  for (let r = 0; r < runs; r++) {
    for (const path of paths) {
      const result = await run(path, historyMs);
      process.stderr.write(
        `run ${r + 1} ${path}: ${result.events} events, ${(result.cpuUs / result.events).toFixed(2)} µs CPU/event, ` +
          `${Math.round(result.events / (result.wallMs / 1000))} events/s\n`,
      );
      const previous = best.get(path);
      if (!previous || result.cpuUs < previous.cpuUs) best.set(path, result);
    }
  }
  const table = new Table({
    head: ['path', 'events', 'B/event', 'CPU µs/event', 'main thread µs/event', 'events/s', 'peak RSS MB'],
  });
  for (const [path, r] of best) {
    table.push([
      path,
      r.events.toLocaleString('en-US'),
      (r.bytes / r.events).toFixed(0),
      (r.cpuUs / r.events).toFixed(2),
      (r.mainUs / r.events).toFixed(2),
      Math.round(r.events / (r.wallMs / 1000)).toLocaleString('en-US'),
      r.peakRssMb.toFixed(0),
    ]);
  }
  process.stdout.write(`${table.toString()}\n(best of ${runs} by CPU, history ${values.history}, no store)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
