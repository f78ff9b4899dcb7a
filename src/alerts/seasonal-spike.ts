/**
 * Spike detection on a seasonal residual (seed 003: "> 3 sigma over a robust
 * baseline"), for rules whose values follow the shop's weekly rhythm: the
 * plain robust score (rule-query.ts `robustSigma`: median and MAD of the
 * trailing windows) calls every morning ramp a spike, since the last hour
 * is always below the next one while traffic rises.
 *
 * Each window's expected value is the median of the same window at the same
 * time of week over the last `periods` weeks (`season`); with fewer than
 * `min_periods` weeks that have data (a young shop), the median of the same
 * time of day over the last `days` days (1: the same time yesterday); with
 * no day either, nothing is expected and the plain trailing score is used.
 * The residual (value − expected) of the current window is then scored
 * against the residuals of the trailing windows: (r − median) / (1.4826 ·
 * MAD), the spread floored for counts at the Poisson √expected (at least 1)
 * and for other values at 1 % of the expected value.
 */

export const DAY_MS = 86_400_000;

/** Where a group's expected values came from (`spike_basis`). */
export type SpikeBasis = 'season' | 'days' | 'trailing';

export interface SeasonalSpikeOptions {
  /** Length of a season, ms (7 days: the same hour of the same weekday). */
  readonly seasonMs: number;
  readonly periods: number;
  readonly minPeriods: number;
  /** Days of the fallback (the same time of day on each of the last `days` days); 0: no fallback. */
  readonly days: number;
  /** Residuals of trailing windows needed for a score. */
  readonly minSamples: number;
  /** The value is a count (the spread's floor is √expected). */
  readonly count: boolean;
}

export interface SeasonalSpikeInput {
  /** The current window: its start and value. */
  readonly current: { readonly startMs: number; readonly value: number };
  /** The trailing windows before it. */
  readonly trailing: readonly { readonly startMs: number; readonly value: number }[];
  /**
   * The value of the window starting at `startMs` (in the past), or
   * undefined when that period has no data at all (the shop did not exist, or
   * sent nothing then).
   */
  readonly past: (startMs: number) => number | undefined;
}

export interface SeasonalSpike {
  /** The robust score of the current residual; null without enough trailing residuals. */
  readonly sigma: number | null;
  /** What the current window was expected to be (null for `trailing`). */
  readonly expected: number | null;
  readonly basis: SpikeBasis;
  /** Periods (weeks or days) the expectation is the median of. */
  readonly periods: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Robust score of `value` against `history` (median, MAD), the spread at least `floor`. */
function score(value: number, history: readonly number[], floor: number): number {
  const m = median(history);
  const mad = median(history.map((x) => Math.abs(x - m)));
  return (value - m) / Math.max(1.4826 * mad, floor, 1e-9);
}

/** The offsets (ms back) of one basis: k seasons, or k days. */
function offsets(stepMs: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => (k + 1) * stepMs);
}

/** The expected value of the window at `startMs`: the median of the periods with data, if enough. */
function expectedAt(input: SeasonalSpikeInput, startMs: number, back: readonly number[]): number | undefined {
  const values = back.map((b) => input.past(startMs - b)).filter((v): v is number => v !== undefined);
  return values.length > 0 ? median(values) : undefined;
}

/** Chooses the basis by the current window (weeks with data, else days, else none). */
export function spikeBasis(
  input: SeasonalSpikeInput,
  options: SeasonalSpikeOptions,
): { basis: SpikeBasis; back: number[] } {
  const had = (back: readonly number[]) => back.filter((b) => input.past(input.current.startMs - b) !== undefined);
  const seasons = had(offsets(options.seasonMs, options.periods));
  if (seasons.length >= options.minPeriods) return { basis: 'season', back: seasons };
  const days = had(offsets(DAY_MS, options.days));
  if (days.length > 0) return { basis: 'days', back: days };
  return { basis: 'trailing', back: [] };
}

/** The seasonal-residual spike score of the current window (see the module comment). */
export function seasonalSpike(input: SeasonalSpikeInput, options: SeasonalSpikeOptions): SeasonalSpike {
  const { basis, back } = spikeBasis(input, options);
  const now = input.current.value;
  if (basis === 'trailing') {
    const history = input.trailing.map((w) => w.value);
    if (history.length < options.minSamples) return { sigma: null, expected: null, basis, periods: 0 };
    const m = history.length > 0 ? median(history) : 0;
    const floor = options.count ? Math.sqrt(Math.max(Math.abs(m), 1)) : Math.abs(m) * 0.01;
    return { sigma: score(now, history, floor), expected: null, basis, periods: 0 };
  }
  const expected = expectedAt(input, input.current.startMs, back) as number;
  const residuals: number[] = [];
  for (const w of input.trailing) {
    const e = expectedAt(input, w.startMs, back);
    if (e !== undefined) residuals.push(w.value - e);
  }
  if (residuals.length < options.minSamples) return { sigma: null, expected, basis, periods: back.length };
  const floor = options.count ? Math.sqrt(Math.max(Math.abs(expected), 1)) : Math.abs(expected) * 0.01;
  return { sigma: score(now - expected, residuals, floor), expected, basis, periods: back.length };
}
