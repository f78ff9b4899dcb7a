/**
 * The life of one alert instance (rule + group labels, identified by a
 * fingerprint): inactive → pending → firing → resolved. Pure functions of
 * (previous instance, reading, now), so restarts and tests replay exactly.
 *
 * - `for`: the condition must hold that long before pending becomes firing.
 * - `keep_firing_for`: a firing alert stays firing that long after the
 *   condition stops holding (no resolve/fire churn on a noisy signal).
 * - Flapping: an instance that started firing FLAP_STARTS times within
 *   FLAP_WINDOW is marked flapping and held firing until the condition has
 *   been false for FLAP_HOLD, so it notifies once instead of every minute.
 */
import { createHash } from 'node:crypto';
import type { Values } from './expr-eval.ts';

export type AlertStatus = 'pending' | 'firing' | 'resolved';

/** One alert instance as persisted (inactive instances are not kept). */
export interface AlertInstance {
  readonly fingerprint: string;
  readonly rule: string;
  /** Group labels of the instance (`transaction.gateway: stripe`). */
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly status: AlertStatus;
  /** When the condition started holding (pending since), ms. */
  readonly activeSinceMs: number;
  /** When it went firing, ms (firing and resolved). */
  readonly firingSinceMs?: number;
  /** Last evaluation at which the condition held, ms. */
  readonly lastActiveMs: number;
  readonly resolvedAtMs?: number;
  /** The values at the last evaluation. */
  readonly values: Values;
  /** Times it started firing within the flapping window, ms. */
  readonly fireStartsMs: readonly number[];
  readonly flapping: boolean;
}

/** A change worth recording in the history. */
export interface Transition {
  readonly fingerprint: string;
  readonly rule: string;
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly from: AlertStatus | 'inactive';
  readonly to: AlertStatus | 'inactive';
  readonly atMs: number;
  readonly values: Values;
}

export const FLAP_WINDOW_MS = 60 * 60_000;
export const FLAP_STARTS = 4;
export const FLAP_HOLD_MS = 10 * 60_000;
/** Resolved instances stay visible (UI, resolved notifications) this long. */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

/** Fingerprint of rule + group labels (label order does not matter). */
export function fingerprintOf(rule: string, groupLabels: Readonly<Record<string, string>>): string {
  const sorted = Object.keys(groupLabels)
    .sort()
    .map((k) => [k, groupLabels[k]]);
  return createHash('sha256')
    .update(JSON.stringify([rule, sorted]))
    .digest('hex')
    .slice(0, 16);
}

export interface StepTiming {
  readonly forMs: number;
  readonly keepFiringForMs: number;
}

/**
 * The next state of one instance. `active` is undefined when the instance's
 * group did not appear in the reading (treated as "condition false").
 * Returns undefined when the instance is gone (inactive).
 */
export function step(
  previous: AlertInstance | undefined,
  reading: { rule: string; groupLabels: Readonly<Record<string, string>>; active: boolean; values?: Values },
  nowMs: number,
  timing: StepTiming,
  transitions: Transition[],
): AlertInstance | undefined {
  const fingerprint = previous?.fingerprint ?? fingerprintOf(reading.rule, reading.groupLabels);
  const values = reading.values ?? previous?.values ?? {};
  const record = (from: Transition['from'], to: Transition['to']): void => {
    transitions.push({
      fingerprint,
      rule: reading.rule,
      groupLabels: reading.groupLabels,
      from,
      to,
      atMs: nowMs,
      values,
    });
  };
  const recentStarts = (previous?.fireStartsMs ?? []).filter((t) => nowMs - t < FLAP_WINDOW_MS);

  if (reading.active) {
    if (!previous || previous.status === 'resolved') {
      const base: AlertInstance = {
        fingerprint,
        rule: reading.rule,
        groupLabels: reading.groupLabels,
        status: 'pending',
        activeSinceMs: nowMs,
        lastActiveMs: nowMs,
        values,
        fireStartsMs: recentStarts,
        flapping: previous?.flapping === true && recentStarts.length > 0,
      };
      record(previous ? 'resolved' : 'inactive', 'pending');
      return timing.forMs <= 0 ? fire(base, nowMs, record) : base;
    }
    const updated: AlertInstance = { ...previous, lastActiveMs: nowMs, values, fireStartsMs: recentStarts };
    if (previous.status === 'pending' && nowMs - previous.activeSinceMs >= timing.forMs)
      return fire(updated, nowMs, record);
    return updated;
  }

  if (!previous) return undefined;
  switch (previous.status) {
    case 'pending':
      record('pending', 'inactive');
      return undefined;
    case 'firing': {
      const hold = previous.flapping ? Math.max(timing.keepFiringForMs, FLAP_HOLD_MS) : timing.keepFiringForMs;
      if (nowMs - previous.lastActiveMs < hold) return { ...previous, values, fireStartsMs: recentStarts };
      record('firing', 'resolved');
      return { ...previous, status: 'resolved', resolvedAtMs: nowMs, values, fireStartsMs: recentStarts };
    }
    case 'resolved':
      return nowMs - (previous.resolvedAtMs ?? nowMs) > RESOLVED_RETENTION_MS ? undefined : previous;
  }
}

function fire(
  instance: AlertInstance,
  nowMs: number,
  record: (from: Transition['from'], to: Transition['to']) => void,
): AlertInstance {
  record('pending', 'firing');
  const starts = [...instance.fireStartsMs, nowMs];
  return {
    ...instance,
    status: 'firing',
    firingSinceMs: nowMs,
    fireStartsMs: starts,
    flapping: starts.length >= FLAP_STARTS,
  };
}
