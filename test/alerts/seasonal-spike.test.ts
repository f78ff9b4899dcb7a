/**
 * Spike detection on the seasonal residual (src/alerts/seasonal-spike.ts),
 * on synthetic series of errors per 5 minutes with a daily rhythm: a quiet
 * morning and a jump at 09:00 when the newsletter goes out, the same every
 * day, with Poisson noise. The plain robust score over the last hour calls
 * the jump a spike; the seasonal residual does not, and still sees a real
 * spike on top of it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { robustSigma } from '../../src/alerts/rule-query.ts';
import { DAY_MS, seasonalSpike, type SeasonalSpikeOptions } from '../../src/alerts/seasonal-spike.ts';
import { mulberry32 } from '../helpers/rng.ts';

const W = 5 * 60_000;
const WEEK_MS = 7 * DAY_MS;
/** Monday 6 October 2025, 00:00 UTC. */
const MONDAY = Date.UTC(2025, 9, 6);

/**
 * Expected errors per window at `t`: 4 until 09:00, then 30 (the daily newsletter goes out at 09:00 and
 * traffic, and its errors, jump with it; every day alike).
 */
function usual(t: number): number {
  const hour = ((t - MONDAY) % DAY_MS) / 3_600_000;
  return hour < 9 ? 4 : 30;
}

/** A Poisson draw (Knuth; small means), deterministic per seed. */
function poisson(mean: number, random: () => number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

/** A series of windows from `fromMs` on: bucket start → count; `extra` adds to some windows. */
function series(fromMs: number, toMs: number, seed: number, extra: (t: number) => number = () => 0) {
  const random = mulberry32(seed);
  const out = new Map<number, number>();
  for (let t = fromMs; t < toMs; t += W) out.set(t, poisson(usual(t), random) + extra(t));
  return out;
}

const OPTIONS: SeasonalSpikeOptions = {
  seasonMs: WEEK_MS,
  periods: 4,
  minPeriods: 2,
  days: 1,
  minSamples: 6,
  count: true,
};

/** The input at window `nowStart`: the last hour trailing, the past read from `data` (undefined before `since`). */
function inputAt(data: Map<number, number>, nowStart: number, since: number) {
  const trailing = [];
  for (let t = nowStart - 12 * W; t < nowStart; t += W) trailing.push({ startMs: t, value: data.get(t)! });
  return {
    current: { startMs: nowStart, value: data.get(nowStart)! },
    trailing,
    past: (t: number) => (t < since ? undefined : data.get(t)),
  };
}

describe('seasonal-residual spike detection', () => {
  // Four weeks of history, then Monday of week 5 at the newsletter's jump (09:00, 09:05, 09:10).
  const weekFive = MONDAY + 4 * WEEK_MS;
  const ramp = [0, 5, 10].map((m) => weekFive + 9 * 3_600_000 + m * 60_000);

  it('calls the usual 09:00 jump no spike, where the plain trailing score does', () => {
    const data = series(MONDAY, weekFive + DAY_MS, 1);
    for (const now of ramp) {
      const input = inputAt(data, now, MONDAY);
      const seasonal = seasonalSpike(input, OPTIONS);
      assert.equal(seasonal.basis, 'season');
      assert.equal(seasonal.periods, 4);
      assert.ok(
        seasonal.sigma !== null && seasonal.sigma < 3,
        `seasonal ${seasonal.sigma} at ${new Date(now).toISOString()}`,
      );
      // Against the last hour alone the jump looks like a rise of many sigma.
      const plain = robustSigma(
        input.current.value,
        input.trailing.map((w) => w.value),
        { count: true },
      )!;
      assert.ok(plain > 3, `plain ${plain} at ${new Date(now).toISOString()}`);
    }
  });

  it('sees a real spike on top of it (+35 errors in one window)', () => {
    const spikeAt = ramp[1]!;
    const data = series(MONDAY, weekFive + DAY_MS, 1, (t) => (t === spikeAt ? 35 : 0));
    const result = seasonalSpike(inputAt(data, spikeAt, MONDAY), OPTIONS);
    assert.equal(result.basis, 'season');
    assert.ok(result.sigma !== null && result.sigma > 3, `sigma ${result.sigma}`);
    // What was expected: about the usual count at that hour (the median of the 4 Mondays before).
    assert.ok(Math.abs(result.expected! - usual(spikeAt)) < 6, `expected ${result.expected} vs ${usual(spikeAt)}`);
  });

  it('falls back to the same time yesterday when the shop has less than 2 weeks, then to the trailing hour', () => {
    const data = series(MONDAY, weekFive + DAY_MS, 2);
    const now = ramp[1]!;
    // One week of history: one season, fewer than min_periods, so the day before.
    const young = seasonalSpike(inputAt(data, now, weekFive - WEEK_MS + 3_600_000), OPTIONS);
    assert.equal(young.basis, 'days');
    assert.equal(young.periods, 1);
    assert.ok(young.sigma !== null && young.sigma < 3, `days ${young.sigma}`);
    // No history before today: the plain trailing score (which the jump fools: the reason for the rest).
    const fresh = seasonalSpike(inputAt(data, now, weekFive), OPTIONS);
    assert.equal(fresh.basis, 'trailing');
    assert.equal(fresh.expected, null);
    assert.ok(fresh.sigma !== null && fresh.sigma > 3);
    // Too few trailing windows: no score at all.
    const input = inputAt(data, now, weekFive);
    const short = seasonalSpike({ ...input, trailing: input.trailing.slice(-3) }, OPTIONS);
    assert.equal(short.sigma, null);
  });

  it('scores a flat count series with the Poisson floor, not a zero spread', () => {
    // Exactly 2 errors every window, every week: MAD 0; 12 errors now is (12 - 2) / √2 ≈ 7 sigma, not infinite.
    const data = new Map<number, number>();
    for (let t = MONDAY; t < weekFive + DAY_MS; t += W) data.set(t, 2);
    const now = weekFive + 3 * 3_600_000;
    data.set(now, 12);
    const result = seasonalSpike(inputAt(data, now, MONDAY), OPTIONS);
    assert.equal(result.expected, 2);
    assert.ok(Math.abs(result.sigma! - 10 / Math.sqrt(2)) < 1e-9, `sigma ${result.sigma}`);
  });
});
