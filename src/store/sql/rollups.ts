/**
 * Hourly rollups: before the retention job deletes expired raw events, it
 * folds them into `events_1h` (one row per hour and combination of the
 * dimensions dashboards group by, with counts, sums, minima and maxima of
 * the measures). Raw rows and rollup rows never overlap (an hour is either
 * still raw or rolled up), so a query may read both as one relation.
 *
 * A `stats` query can use rollups when everything it needs survives the
 * rolling up: filters and groups on dimensions only, `bin(@timestamp)` in
 * whole hours, and count/countif/sum/avg/min/max of the measures.
 */
import type { Aggregation, Filter, GroupKey, Query } from '../../query/ir.ts';
import { resolveField } from '../../schema/fields.ts';

export const ROLLUP_TABLE = 'events_1h';
const HOUR_MS = 3_600_000;

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

function filterFits(filter: Filter): boolean {
  switch (filter.kind) {
    case 'all':
      return true;
    case 'and':
    case 'or':
      return filter.items.every(filterFits);
    case 'not':
      return filterFits(filter.item);
    case 'match':
    case 'range':
    case 'exists': {
      const column = columnOf(filter.field);
      return column !== undefined && DIMENSIONS.has(column);
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

function groupFits(key: GroupKey): boolean {
  const column = columnOf(key.field);
  if (key.kind === 'bin') return column === 'ts' && key.intervalMs % HOUR_MS === 0;
  return column !== undefined && DIMENSIONS.has(column) && column !== 'ts';
}

/** Whether the query's first stage is a `stats` that hourly rollups can answer exactly. */
export function rollupsCanAnswer(query: Query): boolean {
  const first = query.stages[0];
  if (first?.kind !== 'stats') return false;
  return filterFits(query.filter) && first.aggs.every(aggregationFits) && first.by.every(groupFits);
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

/** Raw events and rollup rows as one relation, both restricted by `where` (same column names). */
export function rollupUnionSql(quote: (name: string) => string, eventsTable: string, where: string): string {
  return (
    `SELECT ${unionColumns(quote, true).join(', ')} FROM ${quote(eventsTable)} WHERE ${where} ` +
    `UNION ALL SELECT ${unionColumns(quote, false).join(', ')} FROM ${quote(ROLLUP_TABLE)} WHERE ${where}`
  );
}

/** An aggregation over the union relation; `countIfSql` is the compiled countif filter. */
export function rollupAggregationSql(agg: Aggregation, quote: (name: string) => string, countIfSql?: string): string {
  const measure = (part: string): string => {
    const column = agg.field === undefined ? '' : (columnOf(agg.field) ?? '');
    return quote(`__${column}_${part}`);
  };
  switch (agg.fn) {
    case 'count':
      return `sum(${quote('__events')})`;
    case 'countif':
      return `sum(CASE WHEN ${countIfSql ?? '1 = 1'} THEN ${quote('__events')} ELSE 0 END)`;
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
