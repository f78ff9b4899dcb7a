/**
 * Rollups: events pre-aggregated per time slot and combination of the
 * dimensions dashboards group by, with counts, sums, minima and maxima of
 * the measures.
 *
 * - `events_1h` (hourly): before the retention job deletes expired raw
 *   events, it folds them into hours here. Raw rows and these rows never
 *   overlap (an hour is either still raw or rolled up).
 * - `events_1m` (per minute): kept up to date for every event older than a
 *   couple of minutes (src/store/duckdb/duckdb-rollups.ts), so that a query
 *   over days reads a few rows per minute instead of every event. Raw events
 *   stay; a query reads the whole minutes of its range up to the watermark
 *   from here and the rest (the ragged first minute, the newest minutes)
 *   from raw events, as one relation.
 *
 * - `latency_1h` (hourly latency histograms): per hour and combination of
 *   a few request dimensions, how many events fell in each `event.duration`
 *   bucket (buckets 2 % wide, so a percentile read from them is within 1 %
 *   of the exact value). Kept up to date with the minute rollups. A
 *   percentile query over more than a day reads whole hours from here.
 *
 * A `stats` query can use rollups when everything it needs survives the
 * rolling up: filters and groups on dimensions only, `bin(@timestamp)` in
 * whole slots, and count/countif/sum/avg/min/max of the measures.
 */
import type { Aggregation, Filter, GroupKey, Query } from '../../query/ir.ts';
import { resolveField } from '../../schema/fields.ts';

export const ROLLUP_TABLE = 'events_1h';
export const MINUTE_ROLLUP_TABLE = 'events_1m';
export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;

/** Columns kept as they are (besides tenant, data_class and ts, the hour start). */
export const ROLLUP_DIMENSIONS = [
  'service',
  'environment',
  'event_type',
  'event_category',
  'event_outcome',
  'event_action',
  'level',
  'currency',
  'gateway',
  'payment_method',
  'card_type',
  'customer_segment',
  'customer_country',
  'region',
  'page_category',
  'channel',
  'device',
  'http_method',
  'http_route',
  'http_status',
  'error_type',
] as const;

/** Numeric columns summarised as `<column>_sum`, `_count`, `_min`, `_max`. */
export const ROLLUP_MEASURES = ['amount', 'duration_ms', 'risk_score'] as const;

const DIMENSIONS = new Set<string>(['tenant', 'data_class', 'ts', ...ROLLUP_DIMENSIONS]);
const MEASURES = new Set<string>(ROLLUP_MEASURES);

function columnOf(field: string): string | undefined {
  const r = resolveField(field);
  return r.kind === 'column' ? r.def.column : undefined;
}

/** Whether a filter only tests the given columns (so rows grouped by them can answer it). */
function filterFits(filter: Filter, dims: ReadonlySet<string> = DIMENSIONS): boolean {
  switch (filter.kind) {
    case 'all':
      return true;
    case 'and':
    case 'or':
      return filter.items.every((f) => filterFits(f, dims));
    case 'not':
      return filterFits(filter.item, dims);
    case 'match':
    case 'range':
    case 'exists': {
      const column = columnOf(filter.field);
      return column !== undefined && dims.has(column);
    }
    default:
      return false;
  }
}

function aggregationFits(agg: Aggregation): boolean {
  switch (agg.fn) {
    case 'count':
      return true;
    case 'countif':
      return filterFits(agg.filter ?? { kind: 'all' });
    case 'sum':
    case 'avg':
    case 'min':
    case 'max': {
      const column = agg.field === undefined ? undefined : columnOf(agg.field);
      return column !== undefined && MEASURES.has(column);
    }
    default:
      return false;
  }
}

function groupFits(key: GroupKey, slotMs: number): boolean {
  const column = columnOf(key.field);
  if (key.kind === 'bin') return column === 'ts' && key.intervalMs % slotMs === 0;
  return column !== undefined && DIMENSIONS.has(column) && column !== 'ts';
}

/** Whether the query's first stage is a `stats` that rollups of `slotMs` slots can answer exactly. */
export function rollupsCanAnswer(query: Query, slotMs: number = HOUR_MS): boolean {
  const first = query.stages[0];
  if (first?.kind !== 'stats') return false;
  return filterFits(query.filter) && first.aggs.every(aggregationFits) && first.by.every((k) => groupFits(k, slotMs));
}

/**
 * The columns of the union relation, in order: dimensions, tenant,
 * data_class, ts, then `__events` and the measure summaries.
 */
function unionColumns(quote: (name: string) => string, raw: boolean): string[] {
  const out = ['tenant', 'data_class', 'ts', ...ROLLUP_DIMENSIONS].map(quote);
  out.push(raw ? `1 AS ${quote('__events')}` : `${quote('events')} AS ${quote('__events')}`);
  for (const m of ROLLUP_MEASURES) {
    const q = quote(m);
    if (raw) {
      out.push(
        `${q} AS ${quote(`__${m}_sum`)}`,
        `CASE WHEN ${q} IS NULL THEN 0 ELSE 1 END AS ${quote(`__${m}_count`)}`,
        `${q} AS ${quote(`__${m}_min`)}`,
        `${q} AS ${quote(`__${m}_max`)}`,
      );
    } else {
      for (const part of ['sum', 'count', 'min', 'max']) {
        out.push(`${quote(`${m}_${part}`)} AS ${quote(`__${m}_${part}`)}`);
      }
    }
  }
  return out;
}

/** One part of a union relation: raw events or rollup rows of a table, restricted by `where`. */
export interface UnionPart {
  readonly table: string;
  readonly rollup: boolean;
  readonly where: string;
}

/** Raw events and rollup rows as one relation (same column names). */
export function rollupUnionSql(quote: (name: string) => string, parts: readonly UnionPart[]): string {
  return parts
    .map((p) => `SELECT ${unionColumns(quote, !p.rollup).join(', ')} FROM ${quote(p.table)} WHERE ${p.where}`)
    .join(' UNION ALL ');
}

/** Counts the events of a union relation's parts (rollup rows count the events they hold). */
export function rollupCountSql(quote: (name: string) => string, parts: readonly UnionPart[]): string {
  const counts = parts.map(
    (p) => `SELECT ${p.rollup ? `sum(${quote('events')})` : 'count(*)'} AS n FROM ${quote(p.table)} WHERE ${p.where}`,
  );
  return `SELECT coalesce(sum(n), 0) AS n FROM (${counts.join(' UNION ALL ')}) AS c`;
}

/** An aggregation over the union relation; `countIfSql` is the compiled countif filter. */
export function rollupAggregationSql(agg: Aggregation, quote: (name: string) => string, countIfSql?: string): string {
  const measure = (part: string): string => {
    const column = agg.field === undefined ? '' : (columnOf(agg.field) ?? '');
    return quote(`__${column}_${part}`);
  };
  switch (agg.fn) {
    // A sum over no rows is NULL; a count of nothing is 0, as on the raw path.
    case 'count':
      return `coalesce(sum(${quote('__events')}), 0)`;
    case 'countif':
      return `coalesce(sum(CASE WHEN ${countIfSql ?? '1 = 1'} THEN ${quote('__events')} ELSE 0 END), 0)`;
    case 'sum':
      return `sum(${measure('sum')})`;
    case 'avg':
      return `sum(${measure('sum')}) / nullif(sum(${measure('count')}), 0)`;
    case 'min':
      return `min(${measure('min')})`;
    case 'max':
      return `max(${measure('max')})`;
    default:
      throw new Error(`${agg.fn}() cannot be answered from rollups`);
  }
}

export const LATENCY_TABLE = 'latency_1h';

/** Dimensions of the latency histograms (besides tenant, data_class and ts, the hour start). */
export const LATENCY_DIMENSIONS = [
  'service',
  'environment',
  'event_type',
  'event_outcome',
  'http_method',
  'http_route',
  'http_status',
] as const;

/** Bucket width of the latency histograms: bucket i holds durations in [γ^i, γ^(i+1)). */
const LATENCY_GAMMA = 1.02;
/** The bucket of durations ≤ 0. */
const ZERO_BUCKET = -32768;

const LATENCY_DIMS = new Set<string>(['tenant', 'data_class', 'ts', ...LATENCY_DIMENSIONS]);

/** Bucket of a duration (ms) column; NULL for events without a duration. */
export function latencyBucketSql(durationSql: string): string {
  return (
    `CASE WHEN ${durationSql} IS NULL THEN NULL WHEN ${durationSql} <= 0 THEN ${ZERO_BUCKET} ` +
    `ELSE CAST(floor(ln(${durationSql}) / ${Math.log(LATENCY_GAMMA)}) AS INTEGER) END`
  );
}

/** The duration a bucket stands for: its geometric middle (within 1 % of any duration in it). */
export function latencyValueSql(bucketSql: string): string {
  return `CASE WHEN ${bucketSql} = ${ZERO_BUCKET} THEN 0 ELSE exp((${bucketSql} + 0.5) * ${Math.log(LATENCY_GAMMA)}) END`;
}

/**
 * Whether the query's first stage is a `stats` of percentiles of
 * `event.duration` (and counts) that the hourly latency histograms can
 * answer: filters and groups on their dimensions, bins in whole hours.
 */
export function latencyRollupsCanAnswer(query: Query): boolean {
  const first = query.stages[0];
  if (first?.kind !== 'stats' || !filterFits(query.filter, LATENCY_DIMS)) return false;
  const percentileOfDuration = (a: Aggregation): boolean =>
    a.fn === 'percentile' && a.field !== undefined && columnOf(a.field) === 'duration_ms';
  if (!first.aggs.some(percentileOfDuration)) return false;
  if (!first.aggs.every((a) => a.fn === 'count' || percentileOfDuration(a))) return false;
  return first.by.every((k) => {
    const column = columnOf(k.field);
    if (k.kind === 'bin') return column === 'ts' && k.intervalMs % HOUR_MS === 0;
    return column !== undefined && column !== 'ts' && LATENCY_DIMS.has(column);
  });
}
