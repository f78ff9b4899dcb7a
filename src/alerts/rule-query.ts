/**
 * Runs one rule's query at one instant and turns the answer into samples:
 * one per group (the `group_by` labels), with the named values and whether
 * the condition holds. Baselines, spikes and absence run the same query over
 * other windows (the IR gets an extra time-bucket key for spikes), so a rule
 * author writes the query once.
 */
import type { GroupKey, Query, Stage } from '../query/index.ts';
import { mentionsField } from '../store/query-service.ts';
import type { QueryResult, Store } from '../store/store.ts';
import { evaluateExpr, type Values } from './expr-eval.ts';
import type { CompiledRule } from './rule.ts';
import { dataObject } from '../schema/data-object.ts';
import { readBaselines } from './rule-baseline.ts';
import { DAY_MS, seasonalSpike } from './seasonal-spike.ts';

/** One alert instance's reading at an evaluation. */
export interface Sample {
  /** The group labels (`transaction.gateway: stripe`); empty for an ungrouped rule. */
  readonly labels: Readonly<Record<string, string>>;
  readonly values: Values;
  /** The condition is true (null and false are both "not firing"). */
  readonly active: boolean;
}

export interface RuleReading {
  readonly atMs: number;
  readonly samples: readonly Sample[];
  /** Wall time spent in queries, ms. */
  readonly elapsedMs: number;
}

const BUCKET_KEY = '__bucket';
const CACHE_MAX = 500;
/** Answers over past ranges (baselines, spike history): immutable once the range is over, so cached. */
const pastAnswers = new Map<string, Promise<QueryResult>>();

function cachedPast(key: string, run: () => Promise<QueryResult>): Promise<QueryResult> {
  const hit = pastAnswers.get(key);
  if (hit) return hit;
  const answer = run();
  pastAnswers.set(key, answer);
  answer.catch(() => pastAnswers.delete(key));
  if (pastAnswers.size > CACHE_MAX) pastAnswers.delete(pastAnswers.keys().next().value as string);
  return answer;
}
const COUNT_FNS = new Set(['count', 'countif', 'dc']);

function statsStage(query: Query, which: 'first' | 'last' = 'first'): Extract<Stage, { kind: 'stats' }> {
  const stats =
    which === 'first' ? query.stages.find((s) => s.kind === 'stats') : query.stages.findLast((s) => s.kind === 'stats');
  if (!stats) throw new Error('the rule query has no stats stage');
  return stats;
}

function rowsAsValues(result: QueryResult): Record<string, unknown>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i]])));
}

function groupKeyOf(row: Readonly<Record<string, unknown>>, groupBy: readonly string[]): string {
  return JSON.stringify(groupBy.map((g) => row[g] ?? null));
}

/**
 * Value columns of result rows: numbers, and nulls (a value with no data,
 * such as a ratio over zero visits, still gets its `_baseline` and
 * `_change`, as null, so that a condition using them reads as not met).
 */
function numericNames(rows: readonly Record<string, unknown>[], exclude: ReadonlySet<string>): string[] {
  const names = new Set<string>();
  for (const row of rows)
    for (const [k, v] of Object.entries(row))
      if ((typeof v === 'number' || v === null) && !exclude.has(k)) names.add(k);
  return [...names];
}

/**
 * Median and MAD-based robust z-score of `value` against `history`. A flat
 * history has MAD 0, so the spread has a floor: for counts (`count: true`,
 * e.g. errors per window) the Poisson spread √median (at least 1), so 10
 * errors against a steady 1 a window is z = 9; for other measures 1 % of
 * the median. (A 1 % floor on counts made that same case z = 900.)
 */
export function robustSigma(
  value: number,
  history: readonly number[],
  options: { count?: boolean } = {},
): number | null {
  if (history.length === 0) return null;
  const sorted = [...history].sort((a, b) => a - b);
  const median = medianOf(sorted);
  const mad = medianOf(sorted.map((x) => Math.abs(x - median)).sort((a, b) => a - b));
  const floor = options.count ? Math.sqrt(Math.max(Math.abs(median), 1)) : Math.abs(median) * 0.01;
  const scale = Math.max(1.4826 * mad, floor, 1e-9);
  return (value - median) / scale;
}

/** A time bucket's start, ms (the store answers timestamps as ISO text or epoch numbers). */
function bucketMs(value: unknown): number {
  if (typeof value === 'number') return value > 1e14 ? Math.floor(value / 1000) : value;
  if (typeof value === 'bigint') return Number(value / 1000n);
  return Date.parse(String(value));
}

function medianOf(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Evaluates `rule` for `tenant` at `nowMs` over [now − window, now). */
export async function readRule(
  store: Store,
  tenant: string,
  rule: CompiledRule,
  nowMs: number,
  timeoutMs?: number,
): Promise<RuleReading> {
  const started = performance.now();
  const { spec } = rule;
  // Shoplens's own audit trail (admin actions, data access) is no shop data: a rule reads it only when
  // its filter names data_class (as queries do), so a browsing admin is no "source" DataAbsent watches.
  const excludeDataClasses = mentionsField(rule.query.filter, 'data_class') ? [] : ['audit'];
  const run = (query: Query, fromMs: number, toMs: number): Promise<QueryResult> =>
    store.query({ query, range: { fromMs, toMs }, tenant, excludeDataClasses, ...(timeoutMs ? { timeoutMs } : {}) });
  const groupBy = spec.group_by;
  const labelSet = new Set(groupBy);
  const current = rowsAsValues(await run(rule.query, nowMs - spec.window, nowMs));
  const rows = new Map<string, Record<string, unknown>>(current.map((r) => [groupKeyOf(r, groupBy), { ...r }]));

  if (spec.absent) {
    const { lookback, slices } = spec.absent;
    const needed = spec.absent.min_slices ?? slices;
    const fromMs = nowMs - lookback;
    const toMs = nowMs - spec.window;
    // Each group seen before the window, and in how many slices of the lookback.
    const seen = new Map<string, { row: Record<string, unknown>; slices: number }>();
    for (let k = 0; k < slices; k++) {
      const sliceFrom = fromMs + Math.floor(((toMs - fromMs) * k) / slices);
      const sliceTo = fromMs + Math.floor(((toMs - fromMs) * (k + 1)) / slices);
      for (const old of rowsAsValues(await run(rule.query, sliceFrom, sliceTo))) {
        const key = groupKeyOf(old, groupBy);
        const entry = seen.get(key);
        if (entry) entry.slices++;
        else seen.set(key, { row: old, slices: 1 });
      }
    }
    const stats = statsStage(rule.query);
    for (const row of rows.values()) row['absent'] = false;
    for (const [key, { row: old, slices: count }] of seen) {
      if (rows.has(key) || count < needed) continue;
      const silent: Record<string, unknown> = { absent: true };
      for (const g of groupBy) silent[g] = old[g];
      for (const agg of stats.aggs) silent[agg.as] = COUNT_FNS.has(agg.fn) ? 0 : null;
      rows.set(key, silent);
    }
  }

  if (spec.baseline) {
    const stats = statsStage(rule.query, 'last');
    const countNames = new Set(stats.aggs.filter((a) => COUNT_FNS.has(a.fn)).map((a) => a.as));
    const names = numericNames([...rows.values()], labelSet);
    const baselines = await readBaselines(spec, nowMs, [...rows.keys()], names, {
      runPast: async (fromMs, toMs) => {
        const key = JSON.stringify([tenant, spec.query, spec.group_by, fromMs, toMs]);
        return rowsAsValues(await cachedPast(key, () => run(rule.query, fromMs, toMs)));
      },
      groupKeyOf: (row) => groupKeyOf(row, groupBy),
      countNames,
      labelNames: labelSet,
    });
    for (const [key, row] of rows) {
      const found = baselines.get(key);
      for (const name of names) {
        const now = row[name];
        const then = found?.values.get(name) ?? null;
        row[`${name}_baseline`] = then;
        row[`${name}_change`] = typeof now === 'number' && then !== null && then !== 0 ? (now - then) / then : null;
      }
      row['baseline_basis'] = found?.basis ?? null;
      row['baseline_periods'] = found?.periods ?? 0;
    }
  }

  if (spec.spike) {
    const interval = spec.window;
    const toMs = Math.floor((nowMs - spec.window) / interval) * interval;
    const fromMs = toMs - spec.spike.over;
    const key = JSON.stringify([tenant, spec.query, spec.group_by, 'spike', interval, fromMs, toMs]);
    const history = rowsAsValues(await cachedPast(key, () => run(withTimeBuckets(rule.query, interval), fromMs, toMs)));
    const series = new Map<string, Record<string, unknown>[]>();
    for (const r of history) {
      const key = groupKeyOf(r, groupBy);
      series.set(key, [...(series.get(key) ?? []), r]);
    }
    const stages = rule.query.stages;
    const lastStats = stages.findLast((s) => s.kind === 'stats');
    const counts = new Set(lastStats?.aggs.filter((a) => COUNT_FNS.has(a.fn)).map((a) => a.as));
    const season = spec.spike.season;
    if (season === undefined) {
      for (const [key, row] of rows) {
        const past = series.get(key) ?? [];
        for (const name of numericNames([row], labelSet)) {
          const now = row[name];
          const values = past.map((r) => r[name]).filter((v): v is number => typeof v === 'number');
          row[`${name}_sigma`] =
            typeof now === 'number' && values.length >= spec.spike.min_samples
              ? robustSigma(now, values, { count: counts.has(name) })
              : null;
        }
      }
    } else {
      // The same trailing range and the buckets of the current window, a season (or a day) back.
      const spike = spec.spike;
      const pastSeries = async (backMs: number) => {
        const from = fromMs - backMs;
        const to = toMs + 2 * interval - backMs;
        const pastKey = JSON.stringify([tenant, spec.query, spec.group_by, 'spike', interval, from, to]);
        const byGroup = new Map<string, Map<number, Record<string, unknown>>>();
        for (const r of rowsAsValues(
          await cachedPast(pastKey, () => run(withTimeBuckets(rule.query, interval), from, to)),
        )) {
          const group = groupKeyOf(r, groupBy);
          const buckets = byGroup.get(group) ?? new Map<number, Record<string, unknown>>();
          buckets.set(bucketMs(r[BUCKET_KEY]), r);
          byGroup.set(group, buckets);
        }
        return { from, to, byGroup };
      };
      const backs = [
        ...Array.from({ length: spike.periods }, (_, k) => (k + 1) * season),
        ...Array.from({ length: spike.days }, (_, k) => (k + 1) * DAY_MS),
      ];
      const ranges = await Promise.all(backs.map((b) => pastSeries(b)));
      const currentStart = nowMs - spec.window;
      for (const [key, row] of rows) {
        const own = series.get(key) ?? [];
        for (const name of numericNames([row], labelSet)) {
          const now = row[name];
          if (typeof now !== 'number') {
            row[`${name}_sigma`] = null;
            row[`${name}_expected`] = null;
            continue;
          }
          const isCount = counts.has(name);
          // A period with any row of the group had data; a missing bucket in it counted nothing (0 for counts).
          const valueAt = (startMs: number): number | undefined => {
            const range = ranges.find((r) => startMs >= r.from && startMs < r.to);
            const buckets = range?.byGroup.get(key);
            if (!buckets || buckets.size === 0) return undefined;
            const at = (b: number) => {
              const v = buckets.get(b)?.[name];
              return typeof v === 'number' ? v : isCount ? 0 : undefined;
            };
            // The current window is not on bucket boundaries: the two buckets it spans, weighted.
            const first = Math.floor(startMs / interval) * interval;
            const share = (startMs - first) / interval;
            const a = at(first);
            if (share === 0) return a;
            const b = at(first + interval);
            return a === undefined || b === undefined ? undefined : (1 - share) * a + share * b;
          };
          const result = seasonalSpike(
            {
              current: { startMs: currentStart, value: now },
              trailing: own
                .map((r) => ({ startMs: bucketMs(r[BUCKET_KEY]), value: r[name] }))
                .filter((w): w is { startMs: number; value: number } => typeof w.value === 'number'),
              past: valueAt,
            },
            {
              seasonMs: season,
              periods: spike.periods,
              minPeriods: spike.min_periods,
              days: spike.days,
              minSamples: spike.min_samples,
              count: isCount,
            },
          );
          row[`${name}_sigma`] = result.sigma;
          row[`${name}_expected`] = result.expected;
          row['spike_basis'] = result.basis;
        }
      }
    }
  }

  const samples: Sample[] = [];
  for (const row of rows.values()) {
    // Null-prototype: a group key named `__proto__` or `constructor` is a label like any other.
    const labels: Record<string, string> = dataObject();
    for (const g of groupBy) labels[g] = String(row[g] ?? '');
    const values: Record<string, unknown> = dataObject();
    for (const [k, v] of Object.entries(row)) if (!labelSet.has(k) && k !== BUCKET_KEY) values[k] = v;
    samples.push({ labels, values, active: evaluateExpr(rule.condition, row) === true });
  }
  return { atMs: nowMs, samples, elapsedMs: performance.now() - started };
}

/** The rule's query with a time-bucket key added to its stats (for the spike's trailing series). */
function withTimeBuckets(query: Query, intervalMs: number): Query {
  const bucket: GroupKey = { kind: 'bin', field: '@timestamp', intervalMs, as: BUCKET_KEY };
  return {
    ...query,
    stages: query.stages.map((s) => (s.kind === 'stats' ? { ...s, by: [...s.by, bucket] } : s)),
  };
}
