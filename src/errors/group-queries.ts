/**
 * The queries behind an error group's page and the list's sparklines, in
 * the query language's IR (so every engine runs them): events per hour,
 * counts by a field, the latest events and what happened before them.
 */
import type { Filter, Query, TimeRange } from '../query/ir.ts';
import type { Store } from '../store/store.ts';
import { sampleOf, type ErrorSample } from './error-samples.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export function matchFilter(field: string, text: string): Filter {
  return { kind: 'match', field, value: { text, quoted: true } };
}

/** `field` is one of `values` (quoted: matched as written). */
export function anyOf(field: string, values: readonly string[]): Filter {
  if (values.length === 1) return matchFilter(field, values[0] as string);
  return { kind: 'or', items: values.map((v) => matchFilter(field, v)) };
}

/** The sparkline's buckets over a range: hours, days beyond two weeks (from the epoch). */
export function trendBuckets(range: TimeRange): { bucketMs: number; fromMs: number; buckets: number } {
  const bucketMs = range.toMs - range.fromMs > 14 * DAY_MS ? DAY_MS : HOUR_MS;
  const fromMs = Math.floor(range.fromMs / bucketMs) * bucketMs;
  return { bucketMs, fromMs, buckets: Math.ceil((range.toMs - fromMs) / bucketMs) };
}

/** Events per hour (per day beyond two weeks) of each group of the error events matching `filter`. */
export async function groupTrends(
  store: Store,
  timeoutMs: number,
  tenant: string,
  range: TimeRange,
  filter: Filter | undefined,
  merges: ReadonlyMap<string, string>,
): Promise<Map<string, { bucketMs: number; fromMs: number; counts: number[] }>> {
  const out = new Map<string, { bucketMs: number; fromMs: number; counts: number[] }>();
  const { bucketMs, fromMs, buckets } = trendBuckets(range);
  const errors: Filter = { kind: 'exists', field: 'error.fingerprint' };
  const query: Query = {
    filter: filter ? { kind: 'and', items: [errors, filter] } : errors,
    stages: [
      {
        kind: 'stats',
        aggs: [{ fn: 'count', as: 'n' }],
        by: [
          { kind: 'field', field: 'error.fingerprint', as: 'fp' },
          { kind: 'bin', field: '@timestamp', intervalMs: bucketMs, as: 't' },
        ],
      },
    ],
  };
  const result = await store.query({ query, range, tenant, timeoutMs: timeoutMs });
  for (const [fp, t, n] of result.rows) {
    const group = merges.get(String(fp)) ?? String(fp);
    let trend = out.get(group);
    if (!trend) out.set(group, (trend = { bucketMs, fromMs, counts: new Array<number>(buckets).fill(0) }));
    const i = Math.floor((Date.parse(String(t)) - fromMs) / bucketMs);
    if (i >= 0 && i < buckets) trend.counts[i] = (trend.counts[i] ?? 0) + Number(n);
  }
  return out;
}

export async function countBy(
  store: Store,
  timeoutMs: number,
  tenant: string,
  range: TimeRange,
  filter: Filter,
  field: string,
  limit: number,
): Promise<{ value: string; count: number }[]> {
  const query: Query = {
    filter: { kind: 'and', items: [filter, { kind: 'exists', field }] },
    stages: [
      { kind: 'stats', aggs: [{ fn: 'count', as: 'n' }], by: [{ kind: 'field', field, as: 'v' }] },
      { kind: 'sort', keys: [{ expr: { kind: 'column', name: 'n' }, desc: true }] },
      { kind: 'limit', n: limit },
    ],
  };
  const result = await store.query({ query, range, tenant, timeoutMs: timeoutMs });
  return result.rows
    .filter((r) => r[0] !== null && r[0] !== undefined)
    .map((r) => ({ value: String(r[0]), count: Number(r[1]) }));
}

/** The 5 latest events of the group, each with its frames and breadcrumbs. */
export async function groupSamples(
  store: Store,
  timeoutMs: number,
  tenant: string,
  range: TimeRange,
  filter: Filter,
): Promise<ErrorSample[]> {
  const result = await store.query({
    query: { filter, stages: [{ kind: 'limit', n: 5 }] },
    range,
    tenant,
    timeoutMs: timeoutMs,
  });
  const sourceIndex = result.columns.findIndex((c) => c.name === '_source');
  return Promise.all(
    result.rows.map((row) =>
      sampleOf(row[sourceIndex] as Record<string, unknown>, (before) => recentEvents(store, timeoutMs, tenant, before)),
    ),
  );
}

/** Events of the same trace or session in the 15 minutes before an error (its breadcrumbs when it sent none). */
export async function recentEvents(
  store: Store,
  timeoutMs: number,
  tenant: string,
  at: { tsMs: number; traceId?: string; sessionId?: string },
): Promise<Record<string, unknown>[]> {
  const items: Filter[] = [];
  if (at.traceId) items.push(matchFilter('trace_id', at.traceId));
  if (at.sessionId) items.push(matchFilter('user.session_id', at.sessionId));
  if (items.length === 0) return [];
  const result = await store.query({
    query: {
      filter: items.length === 1 ? (items[0] as Filter) : { kind: 'or', items },
      stages: [{ kind: 'limit', n: 21 }],
    },
    range: { fromMs: at.tsMs - 15 * 60_000, toMs: at.tsMs + 1 },
    tenant,
    timeoutMs: timeoutMs,
  });
  const sourceIndex = result.columns.findIndex((c) => c.name === '_source');
  return result.rows.map((r) => r[sourceIndex] as Record<string, unknown>);
}
