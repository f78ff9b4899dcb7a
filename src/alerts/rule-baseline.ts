/**
 * Baselines of a rule: what its values usually are at this time, so that a
 * rule can say "conversion 20 % below usual" without a whole-day mean that
 * night-time traffic always falls below.
 *
 * With `season` (e.g. `7d`) the rule's own query runs over the same window
 * shifted back by 1…`periods` seasons (the same hour of the same weekday over
 * the last weeks), and the baseline of each value is the median of the
 * periods that had data. When fewer than `min_periods` of them had data (a
 * young shop), it falls back to the same window on each of the last `days`
 * days (median: "same hour yesterday" when only one day is there), and only
 * when no day has data either to the mean of the previous `window` (24 h).
 * Without `season` it is the previous `window`, as before.
 */
import type { RuleSpec } from './rule.ts';

const DAY_MS = 86_400_000;
/** Baseline ranges end on a 5-minute boundary, so their answers can be reused between evaluations. */
export const BASELINE_ALIGN_MS = 5 * 60_000;

/** Where a group's baseline came from (the `baseline_basis` value: templates may say it). */
export type BaselineBasis = 'season' | 'days' | 'window';

export interface GroupBaseline {
  /** Value name → baseline value (null when no period had a number for it). */
  readonly values: ReadonlyMap<string, number | null>;
  readonly basis: BaselineBasis;
  /** How many periods (seasons or days) the median is over; 1 for `window`. */
  readonly periods: number;
}

export interface BaselineDeps {
  /** Runs the rule's query over a past range (cached by the caller: past answers do not change). */
  readonly runPast: (fromMs: number, toMs: number) => Promise<Record<string, unknown>[]>;
  readonly groupKeyOf: (row: Readonly<Record<string, unknown>>) => string;
  /** Value names whose 0 means "nothing counted" (count, countif, dc of the last stats stage). */
  readonly countNames: ReadonlySet<string>;
  readonly labelNames: ReadonlySet<string>;
}

/**
 * A past row "had data" when any count of the last stats stage is above 0
 * (an ungrouped `stats count()` over an empty range still answers one row of
 * zeros), or, for a query without counts, when any value is a number.
 */
function hadData(row: Readonly<Record<string, unknown>>, deps: BaselineDeps): boolean {
  if (deps.countNames.size > 0) {
    for (const name of deps.countNames) if (typeof row[name] === 'number' && (row[name] as number) > 0) return true;
    return false;
  }
  return Object.entries(row).some(([k, v]) => !deps.labelNames.has(k) && typeof v === 'number');
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Per group: the rows of the periods shifted back by k·stepMs (k = 1…count) that had data. */
async function shiftedRows(
  spec: RuleSpec,
  nowMs: number,
  stepMs: number,
  count: number,
  deps: BaselineDeps,
): Promise<Map<string, Record<string, unknown>[]>> {
  const byGroup = new Map<string, Record<string, unknown>[]>();
  const answers = await Promise.all(
    Array.from({ length: count }, (_, i) => {
      // Centred on the same time as the current window, `width` long.
      const width = spec.baseline?.width ?? spec.window;
      const endMs = nowMs - (i + 1) * stepMs + Math.max(0, width - spec.window) / 2;
      const toMs = Math.floor(endMs / BASELINE_ALIGN_MS) * BASELINE_ALIGN_MS;
      return deps.runPast(toMs - width, toMs);
    }),
  );
  for (const rows of answers)
    for (const row of rows) {
      if (!hadData(row, deps)) continue;
      const key = deps.groupKeyOf(row);
      byGroup.set(key, [...(byGroup.get(key) ?? []), row]);
    }
  return byGroup;
}

function medianRow(rows: readonly Record<string, unknown>[], names: readonly string[]): Map<string, number | null> {
  return new Map(
    names.map((name) => [
      name,
      median(rows.map((r) => r[name]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v))),
    ]),
  );
}

/**
 * The baseline of each group in `groups` (keys as `groupKeyOf`), for the
 * value names `names`. Groups with no baseline at all are left out.
 */
export async function readBaselines(
  spec: RuleSpec,
  nowMs: number,
  groups: readonly string[],
  names: readonly string[],
  deps: BaselineDeps,
): Promise<Map<string, GroupBaseline>> {
  const baseline = spec.baseline;
  const result = new Map<string, GroupBaseline>();
  if (!baseline || groups.length === 0) return result;
  let pending = [...groups];
  if (baseline.season !== undefined) {
    const minPeriods = baseline.min_periods ?? 1;
    const seasons = await shiftedRows(spec, nowMs, baseline.season, baseline.periods, deps);
    for (const key of pending) {
      const rows = seasons.get(key) ?? [];
      if (rows.length >= minPeriods)
        result.set(key, { values: medianRow(rows, names), basis: 'season', periods: rows.length });
    }
    pending = pending.filter((k) => !result.has(k));
    // Same time of day on the last days: only meaningful when the season is longer than a day.
    if (pending.length > 0 && baseline.days > 0 && baseline.season > DAY_MS) {
      const days = await shiftedRows(spec, nowMs, DAY_MS, baseline.days, deps);
      for (const key of pending) {
        const rows = days.get(key) ?? [];
        if (rows.length > 0) result.set(key, { values: medianRow(rows, names), basis: 'days', periods: rows.length });
      }
      pending = pending.filter((k) => !result.has(k));
    }
  }
  if (pending.length > 0) {
    const toMs = Math.floor((nowMs - spec.window) / BASELINE_ALIGN_MS) * BASELINE_ALIGN_MS;
    const rows = await deps.runPast(toMs - baseline.window, toMs);
    const byKey = new Map(rows.map((r) => [deps.groupKeyOf(r), r]));
    for (const key of pending) {
      const row = byKey.get(key);
      if (!row) continue;
      result.set(key, { values: medianRow([row], names), basis: 'window', periods: 1 });
    }
  }
  return result;
}
