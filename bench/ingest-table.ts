/** The ingest rows of the bench table: each figure beside its target (issue 12, on this 2-core machine). */
import type { EventShape, ShapeResult } from './ingest.ts';
import { fmt, percentile } from './stats.ts';

export type Row = [metric: string, value: string, unit: string, target: string, meets: string];

/** Sustained events/s targets per shape. */
export const INGEST_TARGET: Record<EventShape, { events: number; stretch?: number }> = {
  payment: { events: 70_000, stretch: 100_000 },
  api_request: { events: 150_000 },
};
export const RATIO_TARGET = 0.35;
export const VISIBILITY_P99_TARGET_MS = 1500;
const MIB = 2 ** 20;
export const IDLE_RSS_TARGET_MIB = 150;
export const LOAD_RSS_TARGET_MIB = 1024;
export const AFTER_RSS_TARGET_MIB = 300;
/** Above this the client, not Shoplens, may be the limit. */
export const GENERATOR_BUSY_LIMIT = 0.7;

const yesNo = (ok: boolean): string => (ok ? 'yes' : 'NO');
const atMost = (value: number, target: number, digits = 0): [string, string] => [
  `≤ ${fmt(target, digits)}`,
  Number.isFinite(value) ? yesNo(value <= target) : 'NO',
];
const atLeast = (value: number, target: number, digits = 0): [string, string] => [
  `≥ ${fmt(target, digits)}`,
  Number.isFinite(value) ? yesNo(value >= target) : 'NO',
];
const orNa = (v: number | undefined, digits: number): string => (v === undefined ? 'n/a' : fmt(v, digits));

/** Rows for one shape; `cores` turns the throughput target into a CPU budget per event. */
export function ingestRows(r: ShapeResult, cores: number): Row[] {
  const s = r.shape;
  const t = INGEST_TARGET[s];
  const d = r.duckdb;
  const duckBest = Math.max(d.readJson1.eventsPerSec, d.readJsonDefault.eventsPerSec);
  const budgetUs = (cores * 1e6) / t.events;
  const v = r.visibility;
  const rows: Row[] = [
    [
      `${s}: Shoplens HTTP NDJSON (durable ack, keys, redaction)`,
      fmt(r.eventsPerSec),
      'events/s',
      `≥ ${fmt(t.events)}${t.stretch ? ` (stretch ${fmt(t.stretch)})` : ''}`,
      yesNo(r.eventsPerSec >= t.events) + (t.stretch && r.eventsPerSec >= t.stretch ? ' (stretch too)' : ''),
    ],
    [`${s}: request bodies`, fmt(r.mbPerSec, 1), 'MB/s', '', ''],
    [`${s}: request latency p50`, fmt(r.p50Ms, 1), 'ms', '', ''],
    [`${s}: request latency p99`, fmt(r.p99Ms, 1), 'ms', '', ''],
    [`${s}: DuckDB CREATE TABLE AS read_json, threads=1`, fmt(d.readJson1.eventsPerSec), 'events/s', '', ''],
    [
      `${s}: DuckDB CREATE TABLE AS read_json, default threads`,
      fmt(d.readJsonDefault.eventsPerSec),
      'events/s',
      '',
      '',
    ],
    [
      `${s}: ratio Shoplens ÷ DuckDB read_json (faster of the two)`,
      fmt(r.eventsPerSec / duckBest, 2),
      '×',
      ...atLeast(r.eventsPerSec / duckBest, RATIO_TARGET, 2),
    ],
    [
      `${s}: ratio by CPU: DuckDB read_json threads=1 ÷ Shoplens, µs/event`,
      fmt(d.readJson1.cpuUsPerEvent / r.cpuUsPerEvent, 2),
      '×',
      '',
      '',
    ],
    [`${s}: DuckDB INSERT into events (loader's SQL), threads=1`, fmt(d.insert1.eventsPerSec), 'events/s', '', ''],
    [
      `${s}: DuckDB INSERT into events (loader's SQL), default threads`,
      fmt(d.insertDefault.eventsPerSec),
      'events/s',
      '',
      '',
    ],
    [
      `${s}: server CPU per event (all threads)`,
      fmt(r.cpuUsPerEvent, 1),
      'µs',
      ...atMost(r.cpuUsPerEvent, budgetUs, 1),
    ],
    [`${s}: of which the main thread (HTTP, log appends, queries)`, fmt(r.mainThreadUsPerEvent, 1), 'µs', '', ''],
    [`${s}: of which the ingest workers (prepare, thread CPU)`, orNa(r.prepareCpuUsPerEvent, 1), 'µs', '', ''],
    [
      `${s}: of which the rest (DuckDB loads, fsync, GC and runtime threads)`,
      r.prepareCpuUsPerEvent === undefined
        ? 'n/a'
        : fmt(r.cpuUsPerEvent - r.mainThreadUsPerEvent - r.prepareCpuUsPerEvent, 1),
      'µs',
      '',
      '',
    ],
    [`${s}: server CPU`, fmt(r.cpuCores, 2), 'cores', `of ${cores}`, ''],
    [
      `${s}: stage prepare, wall time in the workers (/metrics)`,
      orNa(r.stageUsPerEvent.prepare, 1),
      'µs/event',
      '',
      '',
    ],
    [`${s}: stage load, wall time (/metrics)`, orNa(r.stageUsPerEvent.load, 1), 'µs/event', '', ''],
    [`${s}: prepareEvents in the bench, 1 thread (reference)`, fmt(d.prepareUsPerEvent, 1), 'µs/event', '', ''],
    [
      `${s}: DuckDB CPU: read_json / INSERT, threads=1 (reference)`,
      `${fmt(d.readJson1.cpuUsPerEvent, 1)} / ${fmt(d.insert1.cpuUsPerEvent, 1)}`,
      'µs/event',
      '',
      '',
    ],
  ];
  if (r.commits) {
    rows.push([
      `${s}: group commits (events avg, ms avg, writer busy)`,
      `${fmt(r.commits.avgEvents)}, ${fmt(r.commits.avgMs, 1)}, ${fmt(r.commits.busy * 100)} %`,
      '',
      '',
      '',
    ]);
  }
  if (r.segments) {
    rows.push([
      `${s}: segments loaded (count, rows avg, ms avg)`,
      `${fmt(r.segments.count)}, ${fmt(r.segments.avgRows)}, ${fmt(r.segments.avgMs)}`,
      '',
      '',
      '',
    ]);
  }
  rows.push(
    [
      `${s}: log size max (shoplens_log_bytes)`,
      r.logBytesMax === undefined ? 'n/a' : fmt(r.logBytesMax / 1e6, 1),
      'MB',
      '',
      '',
    ],
    [`${s}: visibility, ack → visible p50`, fmt(percentile(v.ackToVisibleMs, 50)), 'ms', '', ''],
    [
      `${s}: visibility, ack → visible p99`,
      fmt(percentile(v.ackToVisibleMs, 99)),
      'ms',
      ...atMost(percentile(v.ackToVisibleMs, 99), VISIBILITY_P99_TARGET_MS),
    ],
    [`${s}: visibility, sent → visible p50`, fmt(percentile(v.sentToVisibleMs, 50)), 'ms', '', ''],
    [
      `${s}: visibility, sent → visible p99`,
      fmt(percentile(v.sentToVisibleMs, 99)),
      'ms',
      ...atMost(percentile(v.sentToVisibleMs, 99), VISIBILITY_P99_TARGET_MS),
    ],
    [
      `${s}: visibility probe's query latency p50 / p99`,
      `${fmt(percentile(v.queryMs, 50))} / ${fmt(percentile(v.queryMs, 99))}`,
      'ms',
      '',
      '',
    ],
    [`${s}: RSS 2 s after start, empty store`, fmt(r.rss.started / MIB), 'MiB', '', ''],
    [
      `${s}: RSS idle (empty store, after idling since start)`,
      fmt(r.rss.idle / MIB),
      'MiB',
      ...atMost(r.rss.idle / MIB, IDLE_RSS_TARGET_MIB),
    ],
    [
      `${s}: RSS during load (max sampled)`,
      fmt(r.rss.loadMax / MIB),
      'MiB',
      ...atMost(r.rss.loadMax / MIB, LOAD_RSS_TARGET_MIB),
    ],
    [
      `${s}: RSS peak (VmHWM) at end of window`,
      fmt(r.rss.loadPeak / MIB),
      'MiB',
      ...atMost(r.rss.loadPeak / MIB, LOAD_RSS_TARGET_MIB),
    ],
  );
  const a = r.rss.after;
  if (a) {
    rows.push(
      [`${s}: top-up to ${fmt(a.events)} events`, fmt(a.fillEventsPerSec), 'events/s', '', ''],
      [
        `${s}: RSS after ${fmt(a.events)} events, settled`,
        fmt(a.rss / MIB),
        'MiB',
        ...atMost(a.rss / MIB, AFTER_RSS_TARGET_MIB),
      ],
      [`${s}: RSS peak (VmHWM) over the run`, fmt(a.peak / MIB), 'MiB', ...atMost(a.peak / MIB, LOAD_RSS_TARGET_MIB)],
    );
  }
  rows.push([
    `${s}: load generator busy (busiest thread)`,
    fmt(r.generatorBusy * 100),
    '%',
    ...atMost(r.generatorBusy * 100, GENERATOR_BUSY_LIMIT * 100),
  ]);
  return rows;
}
