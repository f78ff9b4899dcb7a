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
import { exportShopCsv } from '../demo/csv-export.ts';
import { streamLive, wallClockOf, type EventSink } from '../demo/demo-runner.ts';
import { demoSimulatorOptions, type DemoShop } from '../demo/demo-shop.ts';
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
import { configFromFlags, DEFAULT_CONFIG_FILE, demoServerConfig, parsePort, parseUrl } from './config-flags.ts';
import { fillHistory, splitHistory } from './demo-history.ts';
import { StoredIncidents } from './demo-incidents.ts';
import { DemoMailSink } from './demo-mail-sink.ts';
import { DemoWebhookSink } from './demo-webhook-sink.ts';
import { httpQueryRunner, httpSink, missingHistory, pipelineSink, type QueryRunner } from './demo-sinks.ts';
import { parseRate, runLoadGenerator } from './load-generator.ts';
import { startServer } from './serve.ts';

/**
 * The history is stored at the live traffic's density (no step between
 * history and live traffic, and the alert rules' minimum volumes hold in the
 * history too). A week at live density is about 2 M events, more than the
 * first screens should wait for: so the history is filled newest first, live
 * traffic starts once the last READY_HISTORY_MS are stored, and the older
 * days follow in the background.
 */
const READY_HISTORY_MS = 6 * 3_600_000;
/** Infrastructure samples of every pod, every minute, in history and live traffic alike. */
const INFRA_INTERVAL_MS = 60_000;
/**
 * Traces: every user action's trace in live traffic; one in 100 (by trace id, each span with
 * `sampling.weight` 100) in the backfilled history, which would otherwise be about 20 M spans a week.
 */
export const HISTORY_TRACE_SAMPLING = 100;

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
  /** Traffic scale of the backfilled history (default: `scale`; another value shows a step at the live start). */
  historyScale?: number;
  /** History stored before live traffic starts; the older part follows in the background (default 6 h). */
  readyHistory?: number;
  duration?: number;
  /** Incidents to inject (`--incident NAME[@OFFSET]`, repeatable). */
  incident?: IncidentSpec[];
  /** Write the shop's orders, customers, clickstream and products as CSV files into this directory and exit instead of running the demo. */
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
  const stored = options.url ? undefined : new StoredIncidents(incidents);
  // The demo's local webhook receiver and e-mail inbox: every alert is also sent there, and the Alerts
  // page shows what they got.
  const webhook = stored ? await DemoWebhookSink.start() : undefined;
  const mail = stored
    ? await DemoMailSink.start().catch(async (err: unknown) => {
        await webhook?.close();
        throw err;
      })
    : undefined;
  const closeSinks = async () => {
    await webhook?.close();
    await mail?.close();
  };
  const server = stored
    ? await startServer(
        demoServerConfig(configFromFlags(options), {
          ...(webhook ? { webhookUrl: webhook.url } : {}),
          ...(mail ? { smtp: { host: mail.host, port: mail.port } } : {}),
        }),
        { demo: stored, ...(webhook ? { demoWebhook: webhook } : {}), ...(mail ? { demoMail: mail } : {}) },
      ).catch(async (err: unknown) => {
        await closeSinks();
        throw err;
      })
    : undefined;
  try {
    const resumed = server && stored ? await stored.attach(server.context.store.documents, log) : [];
    const url = options.url ?? server?.app.listeningOrigin ?? '';
    const store = server?.context.store;
    const sink = server
      ? pipelineSink(
          server.context.pipeline,
          'default',
          store?.appendSpans ? (spans) => store.appendSpans!(spans) : undefined,
        )
      : httpSink(url);
    const queryText: QueryRunner = server
      ? (query, from) => runQuery(server.context.store, { query, from, to: 'now+1h', tenant: 'default' })
      : httpQueryRunner(url);
    const historyScale = options.historyScale ?? options.scale;
    const shop: DemoShop = {
      seed: options.seed,
      liveStartMs,
      historyScale,
      liveScale: options.scale,
      infraIntervalMs: INFRA_INTERVAL_MS,
      traceSampling: { history: HISTORY_TRACE_SAMPLING, live: 1 },
    };
    const simulator = new ShopSimulator(demoSimulatorOptions(shop, incidents.hook));
    log(
      `Shoplens demo shop (seed ${options.seed}) → ${url}${server ? ` (embedded store in ${server.context.config.dataDir})` : ''}`,
    );
    if (resumed.length > 0) log(`Resuming ${resumed.length} incident(s) recorded in this data directory.`);
    for (const record of incidents.list()) log(describeIncident(record));
    if (server) log(`Incidents: GET/POST ${url}/api/v1/demo/incidents (valid names: ${INCIDENT_NAMES.join(', ')})`);
    if (server?.context.config.alerts.enabled)
      log(`Alerts: shown on every page (badge, banner, toast), inbox: ${url}/alerts`);
    if (server?.context.config.alerts.enabled && webhook && mail)
      log(
        `Alerts are also sent to a local webhook receiver (${webhook.url}) and e-mail inbox (${mail.url}): ` +
          `what they got is on ${url}/alerts`,
      );

    let olderHistory: Promise<number> = Promise.resolve(0);
    const stopHistory = new AbortController();
    const onAbort = (): void => stopHistory.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    if (options.history > 0) {
      const fromMs = liveStartMs - options.history;
      const gaps = await missingHistory(queryText, fromMs, liveStartMs);
      if (!(gaps.length === 1 && gaps[0]?.fromMs === fromMs && gaps[0].toMs === liveStartMs)) {
        log('The store already holds demo history: backfilling only what is missing.');
      }
      const parts = splitHistory(gaps, liveStartMs - (options.readyHistory ?? READY_HISTORY_MS));
      log(`History at traffic scale ${historyScale} (live traffic: ${options.scale}).`);
      // The history is made in a worker thread from the shop as data, with the incidents scheduled so far:
      // one started later (POST /api/v1/demo/incidents) begins after now, so it never changes the history.
      const historyShop = { ...shop, incidents: incidents.windows() };
      await fillHistory(historyShop, sink, parts.ready, { signal, log, progress, label: 'recent history' });
      if (parts.background.length > 0 && !signal.aborted) {
        olderHistory = fillHistory(historyShop, sink, parts.background, {
          signal: stopHistory.signal,
          log,
          reportEvery: 0.25,
          label: 'older history (in the background)',
        });
      }
    }
    let olderHistoryDone = false;
    const markDone = (): void => {
      olderHistoryDone = true;
    };
    void olderHistory.then(markDone, markDone);
    try {
      if (signal.aborted) return;
      await runLive(simulator, sink, options, liveStartMs, signal, log);
      if (!signal.aborted && !olderHistoryDone) log('Waiting for the older history to be stored (Ctrl-C to stop now)…');
    } finally {
      await olderHistory.catch((err: unknown) => log(`Could not store the older history: ${(err as Error).message}`));
      signal.removeEventListener('abort', onAbort);
    }
  } finally {
    if (server) {
      server.context.metrics.registry.clear();
      await server.close();
    }
    await closeSinks();
  }
}

/** Streams live traffic until aborted or --duration, logging a line a minute. */
async function runLive(
  simulator: ShopSimulator,
  sink: EventSink,
  options: DemoOptions,
  liveStartMs: number,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<void> {
  const average = expectedEventsPerSecond(options.scale, INFRA_INTERVAL_MS) * options.speed;
  const now = simulator.expectedEventsPerSecondAt(liveStartMs, INFRA_INTERVAL_MS) * options.speed;
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
    onError: (err, lost) =>
      log(`Could not store ${lost > 0 ? `${lost} live events` : 'live spans'}: ${(err as Error).message}`),
  });
  log(
    `Demo stopped: ${count(live.accepted)} live events${live.spans === undefined ? '' : ` and ${count(live.spans)} spans`} stored.`,
  );
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
      'traffic scale of the backfilled history (default: --scale; another value shows a step at the live start)',
      parseNonNegative,
    )
    .option(
      '--ready-history <duration>',
      'history stored before live traffic starts; the older history follows in the background (default 6h)',
      parseHistory,
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
    .option('--export-csv <dir>', 'write the shop as CSV files (orders, customers, clickstream, products) and exit')
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
        for (const file of await exportShopCsv(options.exportCsv, { seed: options.seed, endMs })) {
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
