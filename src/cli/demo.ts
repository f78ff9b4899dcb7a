/**
 * `shoplens demo`: starts Shoplens on the embedded store (or feeds a running
 * one with --url), backfills the demo shop's history, then streams its live
 * traffic until Ctrl-C (or --duration).
 *
 * The simulated shop lives in src/demo; this file connects it to the ingest
 * pipeline or to `POST /api/v1/events`.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { AppError } from '../errors.ts';
import type { IngestPipeline } from '../ingest/pipeline.ts';
import { runQuery } from '../store/query-service.ts';
import { backfill, streamLive, type EventSink, type SinkResult } from '../demo/demo-runner.ts';
import { SERVICES } from '../demo/shop-model.ts';
import { expectedEventsPerSecond, SESSIONS_PER_MINUTE, ShopSimulator } from '../demo/shop-simulator.ts';
import { parseDuration } from '../util/duration.ts';
import { configFromFlags, DEFAULT_CONFIG_FILE } from './config-flags.ts';
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
/** How long a sink keeps retrying an overloaded store before giving up. */
const RETRY_FOR_MS = 60_000;

export interface DemoOptions {
  port?: number;
  host?: string;
  dataDir?: string;
  config?: string;
  history: number;
  speed: number;
  seed: number;
  url?: string;
  scale: number;
  historyScale: number;
  duration?: number;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
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

function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number, e.g. 42');
  return n;
}

function parseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    return url.toString().replace(/\/$/, '');
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL, e.g. http://127.0.0.1:8080');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function ndjsonOf(events: readonly Record<string, unknown>[]): string {
  let body = '';
  for (const event of events) body += `${JSON.stringify(event)}\n`;
  return body;
}

/**
 * Delivers events through the in-process ingest pipeline: parsed and
 * normalised in the ingest worker threads (as `POST /api/v1/events` bodies
 * are), then group-committed. Waits out a full commit queue.
 */
export function pipelineSink(pipeline: IngestPipeline, tenant = 'default'): EventSink {
  return {
    async send(events): Promise<SinkResult> {
      const { rows, rejected } = await pipeline.prepareEvents(Buffer.from(ndjsonOf(events)), 'application/x-ndjson', {
        tenant,
        receivedAtMs: Date.now(),
      });
      const codes = rejected.map((r) => r.code);
      const deadline = Date.now() + RETRY_FOR_MS;
      for (;;) {
        try {
          await pipeline.commit('demo', rows, codes);
          break;
        } catch (err) {
          if (!(err instanceof AppError) || err.status !== 503 || Date.now() > deadline) throw err;
          await sleep(Number(err.headers['Retry-After'] ?? 1) * 1000);
        }
      }
      const firstRejection = rejected[0]?.message;
      return { accepted: rows.length, rejected: codes.length, ...(firstRejection ? { firstRejection } : {}) };
    },
  };
}

/** Delivers events as NDJSON to `POST {baseUrl}/api/v1/events`; honours 429/503 Retry-After. */
export function httpSink(baseUrl: string): EventSink {
  const endpoint = new URL('/api/v1/events', baseUrl);
  return {
    async send(events): Promise<SinkResult> {
      const body = ndjsonOf(events);
      const deadline = Date.now() + RETRY_FOR_MS;
      for (;;) {
        let response: Response;
        try {
          response = await fetch(endpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/x-ndjson' },
            body,
          });
        } catch (err) {
          if (Date.now() > deadline) {
            throw new AppError(
              503,
              'demo.unreachable',
              `Cannot reach Shoplens at ${baseUrl}: ${unreachableReason(err)}`,
            );
          }
          await sleep(1000);
          continue;
        }
        const json = (await response.json().catch(() => ({}))) as {
          accepted?: number;
          rejected?: { message?: string }[];
          error?: { code?: string; message?: string };
        };
        if ((response.status === 503 || response.status === 429) && Date.now() < deadline) {
          await sleep(Math.max(1, Number(response.headers.get('retry-after')) || 1) * 1000);
          continue;
        }
        if (response.ok || json.error?.code === 'ingest.no_valid_events') {
          const rejected = json.rejected ?? [];
          const firstRejection = rejected[0]?.message ?? json.error?.message;
          return {
            accepted: json.accepted ?? 0,
            rejected: response.ok ? rejected.length : events.length,
            ...(firstRejection ? { firstRejection } : {}),
          };
        }
        throw new AppError(
          response.status,
          json.error?.code ?? 'demo.http_error',
          `Shoplens at ${baseUrl} refused the events: HTTP ${response.status} ${json.error?.message ?? ''}`.trim(),
        );
      }
    },
  };
}

function unreachableReason(err: unknown): string {
  const cause = (err as { cause?: { message?: string } }).cause;
  return cause?.message ?? (err as Error).message;
}

/** The query that finds the oldest and newest demo events, to fill gaps instead of duplicating history. */
export const DEMO_SPAN_QUERY = `service.name:(${[...SERVICES, 'frontend-service'].join(' or ')}) | stats min(@timestamp) as first, max(@timestamp) as last`;

type QueryRunner = (query: string, fromIso: string) => Promise<{ rows: readonly (readonly unknown[])[] }>;

function epochMsOf(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : Date.parse(String(value));
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The parts of [fromMs, toMs) that hold no demo events yet: all of it on an
 * empty store; before the oldest and after the newest stored demo event
 * otherwise (a second `npm start` adds only the time it was down).
 */
export async function missingHistory(
  runQueryText: QueryRunner,
  fromMs: number,
  toMs: number,
): Promise<{ fromMs: number; toMs: number }[]> {
  const answer = await runQueryText(DEMO_SPAN_QUERY, new Date(fromMs).toISOString());
  const first = epochMsOf(answer.rows[0]?.[0]);
  const last = epochMsOf(answer.rows[0]?.[1]);
  if (first === undefined || last === undefined) return [{ fromMs, toMs }];
  const gaps = [
    { fromMs, toMs: Math.min(first, toMs) },
    { fromMs: Math.max(fromMs, last + 1), toMs },
  ];
  // Before the oldest event, a gap of a few minutes is only sparse history (infrastructure samples come every 5).
  return gaps.filter((gap) => gap.toMs - gap.fromMs >= (gap.fromMs === fromMs ? 10 * 60_000 : 1));
}

function httpQueryRunner(baseUrl: string): QueryRunner {
  return async (query, from) => {
    const response = await fetch(new URL('/api/v1/query', baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, from, to: 'now+1h' }),
    }).catch((err: unknown) => {
      throw new AppError(503, 'demo.unreachable', `Cannot reach Shoplens at ${baseUrl}: ${unreachableReason(err)}`);
    });
    const json = (await response.json().catch(() => ({}))) as {
      rows?: unknown[][];
      error?: { message?: string };
    };
    if (!response.ok) {
      throw new AppError(response.status, 'demo.http_error', `Query failed: ${json.error?.message ?? response.status}`);
    }
    return { rows: json.rows ?? [] };
  };
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const minuteOf = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

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
  if (options.url && (options.port !== undefined || options.host !== undefined || options.dataDir !== undefined)) {
    throw new InvalidArgumentError('--url feeds a running server: --port, --host and --data-dir do not apply');
  }
  const server = options.url ? undefined : await startServer(configFromFlags(options));
  try {
    const url = options.url ?? server?.app.listeningOrigin ?? '';
    const sink = server ? pipelineSink(server.context.pipeline) : httpSink(url);
    const queryText: QueryRunner = server
      ? (query, from) => runQuery(server.context.store, { query, from, to: 'now+1h', tenant: 'default' })
      : httpQueryRunner(url);
    const liveStartMs = Date.now();
    const thinnedUntilMs = liveStartMs - RECENT_AT_LIVE_SCALE_MS;
    const simulator = new ShopSimulator({
      seed: options.seed,
      trafficScale: (t) => (t < thinnedUntilMs ? options.historyScale : options.scale),
      infraIntervalMs: (t) => (t < thinnedUntilMs ? HISTORY_INFRA_INTERVAL_MS : LIVE_INFRA_INTERVAL_MS),
    });
    log(
      `Shoplens demo shop (seed ${options.seed}) → ${url}${server ? ` (embedded store in ${server.context.config.dataDir})` : ''}`,
    );

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
    .action(async (options: DemoOptions) => {
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
