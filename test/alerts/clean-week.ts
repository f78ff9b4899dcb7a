/**
 * A week of clean demo traffic in a real store, for the pack's false-alarm
 * budget (issue 13: over 7 days at most 1 alert episode at P0–P2, at most 1
 * a day at P3). The week is Monday to Monday, so it holds the Saturday
 * evening flash sale and the Sunday after it; `history` days before it give
 * the baselines their same hours of previous days.
 *
 * With no spans the whole week is generated at `density` (1: the demo's
 * full traffic) after `historyDays` days, and evaluated whole. With `spans`
 * (hours after the week's start) only the spans are generated at full
 * density and evaluated, each with the same hours of the day before at
 * `density` (as the demo backfills its history at 10 %) for the baselines'
 * same hour yesterday: the week compressed to what the rules read.
 */
import { pipelineSink } from '../../src/cli/demo-sinks.ts';
import { backfill } from '../../src/demo/demo-runner.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import type { Store } from '../../src/store/store.ts';
import type { TestServer } from '../helpers/server.ts';
import { conditionEpisodes, episodes, runPack, type Episode } from './pack-run.ts';
import type { HttpRecorder } from './peers.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** Monday 6 October 2025, 00:00 UTC (the demo shop's time zone). */
export const WEEK_START = Date.UTC(2025, 9, 6);

export interface CleanWeekOptions {
  readonly tenant: string;
  /** Traffic scale outside the evaluated spans (1 = the demo's full traffic). */
  readonly density: number;
  /** Evaluated spans: [startHour, endHour) after WEEK_START; empty = the whole week. */
  readonly spans: readonly (readonly [number, number])[];
  /** Days of history before the week (at `density`; without spans only). */
  readonly historyDays: number;
  /** Clock step of the evaluations, ms. */
  readonly stepMs: number;
  readonly seed?: number;
}

export interface CleanWeekResult {
  /** Alert episodes (`for` applied at the step's resolution). */
  readonly alerts: Episode[];
  /** Condition episodes: runs of evaluations where a condition held (`for` not applied; an upper bound). */
  readonly conditions: Episode[];
  /** Hours evaluated. */
  readonly hours: number;
  readonly events: number;
}

/** Loads the week and runs the pack over its spans. */
export async function runCleanWeek(
  server: TestServer,
  webhook: HttpRecorder,
  options: CleanWeekOptions,
): Promise<CleanWeekResult> {
  const spans: (readonly [number, number])[] = options.spans.length > 0 ? [...options.spans] : [[0, 7 * 24]];
  const inSpan = (t: number): boolean =>
    spans.some(([a, b]) => t >= WEEK_START + a * HOUR_MS && t < WEEK_START + b * HOUR_MS);
  const simulator = new ShopSimulator({
    seed: options.seed ?? 42,
    trafficScale: (t) => (options.spans.length > 0 && inSpan(t) ? 1 : options.density),
  });
  const store: Store = server.server.context.store;
  const ranges: [number, number][] =
    options.spans.length === 0
      ? [[WEEK_START - options.historyDays * DAY_MS, WEEK_START + 7 * DAY_MS]]
      : options.spans.flatMap(([a, b]): [number, number][] => [
          [WEEK_START + a * HOUR_MS - DAY_MS - HOUR_MS / 2, WEEK_START + b * HOUR_MS - DAY_MS + HOUR_MS / 2],
          // The hour before at `density`: DataAbsent's lookback sees every service steady from the start.
          [WEEK_START + a * HOUR_MS - HOUR_MS, WEEK_START + b * HOUR_MS],
        ]);
  let accepted = 0;
  for (const [fromMs, toMs] of merged(ranges)) {
    const sink = pipelineSink(server.server.context.pipeline, options.tenant);
    accepted += (await backfill(simulator, sink, { fromMs, toMs })).accepted;
  }
  for (const [a, b] of spans)
    await addNonSources(server, options.tenant, WEEK_START + a * HOUR_MS, WEEK_START + b * HOUR_MS);
  const alerts: Episode[] = [];
  const conditions: Episode[] = [];
  let hours = 0;
  for (const [a, b] of spans) {
    // The first 30 minutes of a span warm the rules' windows up (the longest is 30 minutes).
    const fromMs = WEEK_START + a * HOUR_MS + (options.density < 1 ? 30 * 60_000 : 0);
    const toMs = WEEK_START + b * HOUR_MS;
    hours += (toMs - fromMs) / HOUR_MS;
    const run = await runPack(store, webhook, `${options.tenant}`, { fromMs, toMs, stepMs: options.stepMs });
    alerts.push(...episodes(run.transitions).filter((e) => e.atMs >= fromMs && e.atMs <= toMs));
    conditions.push(...conditionEpisodes(run));
  }
  return { alerts: dedupe(alerts), conditions, hours, events: accepted };
}

/** Sorted, overlapping ranges joined. */
function merged(ranges: readonly [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of [...ranges].sort((x, y) => x[0] - y[0])) {
    const last = out.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** The history of a tenant is read whole after each span: keep each episode once. */
function dedupe(list: readonly Episode[]): Episode[] {
  const seen = new Set<string>();
  return list.filter((e) => {
    const key = `${e.rule}|${e.labels}|${e.atMs}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * What a clean shop's data holds besides the shop's own events, and DataAbsent must never call a
 * silent source: Shoplens's audit trail of an admin's session (an entry a minute, as AuditTrail
 * writes them, from an hour before the span until 20 minutes before its end, then the admin leaves),
 * and one document sent by hand to a one-off source (`bulk-test`) 40 minutes before the end.
 */
async function addNonSources(server: TestServer, tenant: string, fromMs: number, toMs: number): Promise<void> {
  const { pipeline } = server.server.context;
  const records = [];
  for (let t = fromMs - HOUR_MS; t < toMs - 20 * 60_000; t += 60_000) {
    const normalized = pipeline.normalize(
      {
        '@timestamp': new Date(t).toISOString(),
        data_class: 'audit',
        'service.name': 'shoplens',
        'event.category': 'audit',
        'event.type': 'audit',
        'event.action': 'query.run',
        'event.outcome': 'success',
        'event.provider': 'shoplens',
        message: 'Query run from the Explore page',
        'user.id': 'admin',
      },
      { tenant, receivedAtMs: t },
    );
    if (!normalized.ok) throw new Error(normalized.message);
    records.push(normalized.record);
  }
  await pipeline.commit('audit', records, []);
  const sink = pipelineSink(pipeline, tenant);
  await sink.send([
    { '@timestamp': new Date(toMs - 40 * 60_000).toISOString(), service: { name: 'bulk-test' }, message: 'test' },
  ]);
  await sink.flush?.();
}
