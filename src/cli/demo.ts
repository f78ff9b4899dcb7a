/**
 * `shoplens demo`: starts Shoplens on the embedded store (or feeds a running
 * one with --url), backfills the demo shop's history, then streams its live
 * traffic until Ctrl-C (or --duration).
 *
 * The simulated shop lives in src/demo; this file connects it to the ingest
 * pipeline or to `POST /api/v1/events`.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { runQuery } from '../store/query-service.ts';
import { exportSeed001Csv } from '../demo/csv-export.ts';
import { backfill, streamLive, wallClockOf } from '../demo/demo-runner.ts';
import {
  INCIDENT_NAMES,
  INCIDENTS,
  IncidentSchedule,
  isIncidentName,
  type IncidentName,
  type IncidentRecord,
} from '../demo/incidents.ts';
import { expectedEventsPerSecond, SESSIONS_PER_MINUTE, ShopSimulator } from '../demo/shop-simulator.ts';
import { parseDuration } from '../util/duration.ts';
import { configFromFlags, DEFAULT_CONFIG_FILE, parsePort, parseUrl } from './config-flags.ts';
import { httpQueryRunner, httpSink, missingHistory, pipelineSink, type QueryRunner } from './demo-sinks.ts';
import { parseRate, runLoadGenerator } from './load-generator.ts';
import { startServer } from './serve.ts';

/**
 * History older than this before now is thinned to --history-scale (so 7 days
 * backfill in seconds); the last hour has live density, so the default
 * `now-1h` views show the same rates before and after the demo starts.
 */
const RECENT_AT_LIVE_SCALE_MS = 3_600_000;
/** Infrastructure samples: every 5 minutes in thinned history, every minute at live density. */
const HISTORY_INFRA_INTERVAL_MS = 300_000;
const LIVE_INFRA_INTERVAL_MS = 60_000;

export interface DemoOptions {
  port?: number;
  host?: string;
  /** API keys for the embedded server (default none: loopback only). */
  auth?: 'keys' | 'none';
  dataDir?: string;
  config?: string;
  history: number;
  speed: number;
  seed: number;
  url?: string;
  scale: number;
  historyScale: number;
  duration?: number;
  /** Incidents to inject (`--incident NAME[@OFFSET]`, repeatable). */
  incident?: IncidentSpec[];
  /** Write seed 001's CSV datasets into this directory and exit instead of running the demo. */
  exportCsv?: string;
  /** Load generator (`--rate`): target events/s, 0 = as fast as possible; needs --url (or --dry-run). */
  rate?: number;
  /** Load generator: events per request (default 500). */
  batch?: number;
  /** Load generator: requests in flight at most (default 8). */
  connections?: number;
  /** Load generator: build and pace batches without sending them. */
  dryRun?: boolean;
}

/** One `--incident NAME[@OFFSET]`: OFFSET in shop time after the live start (negative: into the history). */
export interface IncidentSpec {
  readonly name: IncidentName;
  readonly offsetMs: number;
}

/** Parses `NAME[@OFFSET]`, e.g. `fraud-burst`, `payment-gateway-outage@10m`, `stock-out@-2h`. */
export function parseIncidentSpec(value: string): IncidentSpec {
  const at = value.indexOf('@');
  const name = at < 0 ? value : value.slice(0, at);
  if (!isIncidentName(name)) {
    throw new InvalidArgumentError(`unknown incident "${name}"; valid incidents: ${INCIDENT_NAMES.join(', ')}`);
  }
  if (at < 0) return { name, offsetMs: 0 };
  const offset = value.slice(at + 1).trim();
  const sign = offset.startsWith('-') ? -1 : 1;
  try {
    return { name, offsetMs: sign * parseDuration(offset.replace(/^[-+]/, '')) };
  } catch (err) {
    throw new InvalidArgumentError(
      `incident ${name}: bad offset "${offset}": ${(err as Error).message} (10m = after the start, -2h = in the history)`,
    );
  }
}

function parseHistory(value: string): number {
  if (value.trim() === '0') return 0;
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number above 0, e.g. 1 or 0.5');
  return n;
}

function parseNonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of 0 or more, e.g. 1 or 0.1');
  return n;
}

function parseWhole(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number above 0, e.g. 8');
  return n;
}

function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number, e.g. 42');
  return n;
}

function describeIncident(record: IncidentRecord): string {
  return `Incident ${record.name} (${record.service}): ${minuteOf(record.startMs)} → ${minuteOf(record.endMs)} UTC. ${record.description}`;
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const minuteOf = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

export { DEMO_SPAN_QUERY, httpSink, missingHistory, pipelineSink } from './demo-sinks.ts';

/**
 * Runs the demo: server (or --url), backfill, live traffic. Resolves when
 * stopped. `log` gets one line per message; `progress`, if given, gets the
 * backfill progress line to redraw in place (a terminal), else `log` gets it
 * every 10 %.
 */
export async function runDemo(
  options: DemoOptions,
  signal: AbortSignal,
  log: (line: string) => void,
  progress?: (line: string) => void,
): Promise<void> {
  if (options.rate !== undefined) {
    if (options.port !== undefined || options.host !== undefined || options.dataDir !== undefined) {
      throw new InvalidArgumentError(
        '--rate drives a running server (--url): --port, --host and --data-dir do not apply',
      );
    }
    await runLoadGenerator(
      {
        ...(options.url === undefined ? {} : { url: options.url }),
        rate: options.rate,
        ...(options.batch === undefined ? {} : { batch: options.batch }),
        ...(options.connections === undefined ? {} : { connections: options.connections }),
        ...(options.duration === undefined ? {} : { durationMs: options.duration }),
        dryRun: options.dryRun ?? false,
        seed: options.seed,
      },
      signal,
      log,
    );
    return;
  }
  if (options.batch !== undefined || options.connections !== undefined || options.dryRun) {
    throw new InvalidArgumentError(
      '--batch, --connections and --dry-run apply to the load generator: add --rate N (or max)',
    );
  }
  if (options.url && (options.port !== undefined || options.host !== undefined || options.dataDir !== undefined)) {
    throw new InvalidArgumentError('--url feeds a running server: --port, --host and --data-dir do not apply');
  }
  const liveStartMs = Date.now();
  const incidents = new IncidentSchedule({
    shopTimeOf: (wallMs) => (wallMs < liveStartMs ? wallMs : liveStartMs + (wallMs - liveStartMs) * options.speed),
    wallTimeOf: (shopMs) => (shopMs < liveStartMs ? shopMs : wallClockOf(shopMs, liveStartMs, options.speed)),
  });
  for (const spec of options.incident ?? []) {
    if (spec.offsetMs < -options.history) {
      throw new InvalidArgumentError(
        `incident ${spec.name}@-${-spec.offsetMs / 60_000}m starts before the backfilled history (--history ${options.history / 60_000}m)`,
      );
    }
    const fromMs = liveStartMs + spec.offsetMs;
    incidents.add(spec.name, fromMs, fromMs + INCIDENTS[spec.name].defaultDurationMinutes * 60_000);
  }
  const server = options.url ? undefined : await startServer(configFromFlags(options), { demo: incidents });
  try {
    const url = options.url ?? server?.app.listeningOrigin ?? '';
    const sink = server ? pipelineSink(server.context.pipeline) : httpSink(url);
    const queryText: QueryRunner = server
      ? (query, from) => runQuery(server.context.store, { query, from, to: 'now+1h', tenant: 'default' })
      : httpQueryRunner(url);
    const thinnedUntilMs = liveStartMs - RECENT_AT_LIVE_SCALE_MS;
    const simulator = new ShopSimulator({
      seed: options.seed,
      trafficScale: (t) => (t < thinnedUntilMs ? options.historyScale : options.scale),
      infraIntervalMs: (t) => (t < thinnedUntilMs ? HISTORY_INFRA_INTERVAL_MS : LIVE_INFRA_INTERVAL_MS),
      conditions: incidents.hook,
    });
    log(
      `Shoplens demo shop (seed ${options.seed}) → ${url}${server ? ` (embedded store in ${server.context.config.dataDir})` : ''}`,
    );
    for (const record of incidents.list()) log(describeIncident(record));
    if (server) log(`Incidents: GET/POST ${url}/api/v1/demo/incidents (valid names: ${INCIDENT_NAMES.join(', ')})`);

    if (options.history > 0) {
      const fromMs = liveStartMs - options.history;
      const gaps = await missingHistory(queryText, fromMs, liveStartMs);
      if (!(gaps.length === 1 && gaps[0]?.fromMs === fromMs && gaps[0].toMs === liveStartMs)) {
        log('The store already holds demo history: backfilling only what is missing.');
      }
      for (const gap of gaps) {
        if (signal.aborted) break;
        log(
          `Backfilling ${minuteOf(gap.fromMs)} → ${minuteOf(gap.toMs)} UTC ` +
            `(traffic scale ${options.historyScale}, the last hour ${options.scale})…`,
        );
        let nextReport = 0.1;
        const result = await backfill(simulator, sink, {
          ...gap,
          signal,
          onProgress: (p) => {
            const line = `backfill ${String(Math.floor(p.fraction * 100)).padStart(3)}% | ${minuteOf(p.reachedMs)} | ${count(p.sent)} events | ${count(p.sent / Math.max(p.elapsedMs / 1000, 0.001))} events/s`;
            if (progress) progress(line);
            else if (p.fraction >= nextReport) {
              log(line);
              nextReport = Math.floor(p.fraction * 10) / 10 + 0.1;
            }
          },
        });
        log(
          `Backfilled ${count(result.accepted)} events in ${(result.elapsedMs / 1000).toFixed(1)} s` +
            (result.rejected > 0 ? `; ${result.rejected} rejected, first: ${result.firstRejection}` : ''),
        );
      }
    }
    if (signal.aborted) return;

    const average = expectedEventsPerSecond(options.scale, LIVE_INFRA_INTERVAL_MS) * options.speed;
    const now = simulator.expectedEventsPerSecondAt(liveStartMs, LIVE_INFRA_INTERVAL_MS) * options.speed;
    log(
      `Live traffic at ${options.speed}× real time, traffic scale ${options.scale}: about ${now.toFixed(1)} events/s ` +
        `at this hour, ${average.toFixed(1)} on average over a week. ` +
        (options.duration === undefined ? 'Ctrl-C to stop.' : `Stopping after ${options.duration / 1000} s.`),
    );
    let windowEvents = 0;
    let windowStart = Date.now();
    const live = await streamLive(simulator, sink, {
      startMs: liveStartMs,
      speed: options.speed,
      signal,
      ...(options.duration === undefined ? {} : { untilMs: Date.now() + options.duration }),
      onTick: (tick) => {
        windowEvents += tick.events;
        if (tick.wallMs - windowStart >= 60_000) {
          log(
            `live | ${minuteOf(tick.wallMs)} | ${count(windowEvents)} events in the last minute | ${count(tick.accepted)} in total`,
          );
          windowEvents = 0;
          windowStart = tick.wallMs;
        }
      },
      onError: (err, lost) => log(`Could not store ${lost} live events: ${(err as Error).message}`),
    });
    log(`Demo stopped: ${count(live.accepted)} live events stored.`);
  } finally {
    if (server) {
      server.context.metrics.registry.clear();
      await server.close();
    }
  }
}

/** Adds `shoplens demo` to the program. */
export function registerDemoCommand(program: Command): Command {
  return program
    .command('demo')
    .description('Run Shoplens with a simulated shop: backfill its history, then stream live traffic')
    .option('--port <port>', 'port to listen on (default 8080)', parsePort)
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--data-dir <dir>', 'where the embedded store keeps its files (default ./data)')
    .option('--config <file>', `YAML config file (default ./${DEFAULT_CONFIG_FILE} if present)`)
    .addOption(
      new Option('--auth <mode>', 'API keys for the embedded server: none (loopback only) or keys')
        .choices(['none', 'keys'])
        .default('none'),
    )
    .option('--history <duration>', 'history to backfill, e.g. 7d, 12h or 0 for none', parseHistory, 7 * 86_400_000)
    .option('--speed <n>', 'live time-lapse: simulated time per real time (1 = real time)', parsePositive, 1)
    .option('--seed <n>', 'seed of the simulated shop: same seed, same traffic', parseSeed, 42)
    .option('--url <url>', 'feed a running Shoplens server instead of starting one', parseUrl)
    .option(
      '--scale <n>',
      `live traffic scale (1 = ${SESSIONS_PER_MINUTE} sessions/min, ~4 events/s)`,
      parseNonNegative,
      1,
    )
    .option(
      '--history-scale <n>',
      'traffic scale of the backfilled history (0.1 ≈ 30,000 events a day)',
      parseNonNegative,
      0.1,
    )
    .option('--duration <duration>', 'stop after this much live traffic (default: run until Ctrl-C)', (v) =>
      parseHistory(v),
    )
    .option(
      '--incident <name[@offset]>',
      `inject an incident (repeatable): ${INCIDENT_NAMES.join(', ')}; ` +
        'offset in shop time after the live start (10m) or into the history (-2h), default 0. ' +
        'At run time: POST /api/v1/demo/incidents {"name", "durationMinutes"}; GET it for the ground truth ' +
        "(not with --url: incidents then apply to the demo's own traffic and are only printed)",
      (value: string, previous: IncidentSpec[] | undefined) => [...(previous ?? []), parseIncidentSpec(value)],
    )
    .option(
      '--export-csv <dir>',
      "write seed 001's datasets (orders, customers, clickstream, products) as CSV and exit",
    )
    .option(
      '--rate <n>',
      'load generator: send demo-shop events to --url at N events/s (max = as fast as possible); ' +
        'no backfill, no live simulation',
      parseRate,
    )
    .option('--batch <n>', 'load generator: events per request (default 500)', parseWhole)
    .option('--connections <n>', 'load generator: requests in flight at most (default 8)', parseWhole)
    .option('--dry-run', "load generator: build and pace batches without sending them (the generator's own capacity)")
    .action(async (options: DemoOptions) => {
      if (options.exportCsv !== undefined) {
        // Ends at today's midnight UTC: the same seed gives the same files all day.
        const endMs = Math.floor(Date.now() / 86_400_000) * 86_400_000;
        for (const file of await exportSeed001Csv(options.exportCsv, { seed: options.seed, endMs })) {
          process.stdout.write(`${file.path}\t${file.rows} ${file.dataset}\n`);
        }
        return;
      }
      const controller = new AbortController();
      const stop = (signalName: string): void => {
        if (controller.signal.aborted) process.exit(130);
        process.stderr.write(`${signalName}: stopping the demo…\n`);
        controller.abort();
      };
      const onSigint = (): void => stop('SIGINT');
      const onSigterm = (): void => stop('SIGTERM');
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigterm);
      try {
        let redrawing = false;
        await runDemo(
          options,
          controller.signal,
          (line) => {
            process.stderr.write(`${redrawing ? '\n' : ''}${line}\n`);
            redrawing = false;
          },
          process.stderr.isTTY
            ? (line) => {
                process.stderr.write(`\r${line}\x1b[K`);
                redrawing = true;
              }
            : undefined,
        );
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigterm);
      }
    });
}
