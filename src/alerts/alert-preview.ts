/**
 * A rule's preview: the rule stepped through a past range as the engine
 * would have run it (same query, condition, baseline/spike/absence reading
 * and state machine with `for` and `keep_firing_for`), without persisting
 * anything or notifying. It answers when the rule would have fired: the
 * episodes (fired at, resolved at, the values when it fired) and a per-step
 * count for a timeline.
 *
 * Bounded: at most MAX_PREVIEW_STEPS evaluations, so the step is the rule's
 * `every` or range / MAX_PREVIEW_STEPS rounded up to a whole minute,
 * whichever is longer (24 h → 5-minute steps, 7 d → 35-minute steps); and
 * the whole preview stops at a deadline, answering what it computed with
 * `truncated`. A condition that held for less than a step between two steps
 * is not seen: the preview is an upper bound on noise only at step
 * resolution.
 */
import type { Store } from '../store/store.ts';
import type { AlertField } from './alert-model.ts';
import type { Values } from './expr-eval.ts';
import { alertFields } from './message-format.ts';
import type { CompiledRule } from './rule.ts';
import { readRule } from './rule-query.ts';
import { fingerprintOf, step, type AlertInstance, type Transition } from './state-machine.ts';

/** The most evaluations one preview runs. */
export const MAX_PREVIEW_STEPS = 288;
/** The longest range a preview covers (retention of raw events is longer, but 7 d is what a user compares). */
export const MAX_PREVIEW_RANGE_MS = 7 * 86_400_000;

export interface PreviewOptions {
  readonly fromMs: number;
  readonly toMs: number;
  /** Per query, ms. */
  readonly queryTimeoutMs?: number;
  /** Stop stepping after this much wall time, ms (default 30 s). */
  readonly budgetMs?: number;
  readonly maxSteps?: number;
}

/** One time the rule would have fired. */
export interface PreviewEpisode {
  readonly labels: Readonly<Record<string, string>>;
  /** When the condition started holding (pending), ms. */
  readonly activeSinceMs: number;
  /** When it would have fired (notified), ms. */
  readonly firedAtMs: number;
  /** When it would have resolved, ms; null when still firing at the end of the range. */
  readonly resolvedAtMs: number | null;
  /** The values at the step it fired. */
  readonly values: Values;
  /** The same values as a notification shows them. */
  readonly fields: readonly AlertField[];
}

/** One evaluation of the preview. */
export interface PreviewStep {
  readonly atMs: number;
  /** Groups whose condition held. */
  readonly active: number;
  /** Instances firing after this step. */
  readonly firing: number;
  readonly error?: string;
}

export interface PreviewResult {
  readonly fromMs: number;
  readonly toMs: number;
  readonly stepMs: number;
  readonly steps: readonly PreviewStep[];
  readonly episodes: readonly PreviewEpisode[];
  /** Set when the deadline stopped the preview before `toMs`: the last step computed. */
  readonly truncatedAtMs?: number;
}

/** The step between evaluations for a range (see the file comment). */
export function previewStepMs(rule: CompiledRule, rangeMs: number, maxSteps = MAX_PREVIEW_STEPS): number {
  const bySteps = Math.ceil(rangeMs / maxSteps / 60_000) * 60_000;
  return Math.max(rule.spec.every, bySteps);
}

/** Steps `rule` through [fromMs, toMs] for `tenant`; reads only, writes nothing. */
export async function previewRule(
  store: Store,
  tenant: string,
  rule: CompiledRule,
  options: PreviewOptions,
): Promise<PreviewResult> {
  const { fromMs, toMs } = options;
  const stepMs = previewStepMs(rule, toMs - fromMs, options.maxSteps);
  const deadline = performance.now() + (options.budgetMs ?? 30_000);
  const timing = { forMs: rule.spec.for, keepFiringForMs: rule.spec.keep_firing_for };
  let instances = new Map<string, AlertInstance>();
  const steps: PreviewStep[] = [];
  const open = new Map<string, Omit<PreviewEpisode, 'resolvedAtMs'>>();
  const episodes: PreviewEpisode[] = [];
  let truncatedAtMs: number | undefined;
  // The last step is at toMs; the first one step after fromMs (the range's start is the first window's end).
  const count = Math.max(1, Math.floor((toMs - fromMs) / stepMs));
  for (let atMs = toMs - (count - 1) * stepMs; atMs <= toMs; atMs += stepMs) {
    if (performance.now() > deadline) {
      truncatedAtMs = steps.at(-1)?.atMs ?? fromMs;
      break;
    }
    let reading;
    try {
      reading = await readRule(store, tenant, rule, atMs, options.queryTimeoutMs);
    } catch (err) {
      // A failing query keeps the instances as they were, as in the engine.
      steps.push({ atMs, active: 0, firing: countFiring(instances), error: (err as Error).message });
      continue;
    }
    const transitions: Transition[] = [];
    const next = new Map<string, AlertInstance>();
    const seen = new Set<string>();
    for (const sample of reading.samples) {
      const fp = fingerprintOf(rule.id, sample.labels);
      seen.add(fp);
      const input = { rule: rule.id, groupLabels: sample.labels, active: sample.active, values: sample.values };
      const stepped = step(instances.get(fp), input, atMs, timing, transitions);
      if (stepped) next.set(fp, stepped);
    }
    for (const [fp, instance] of instances) {
      if (seen.has(fp)) continue;
      const input = { rule: rule.id, groupLabels: instance.groupLabels, active: false };
      const stepped = step(instance, input, atMs, timing, transitions);
      if (stepped) next.set(fp, stepped);
    }
    instances = next;
    for (const t of transitions) {
      if (t.to === 'firing') {
        const instance = instances.get(t.fingerprint);
        open.set(t.fingerprint, {
          labels: t.groupLabels,
          activeSinceMs: instance?.activeSinceMs ?? t.atMs,
          firedAtMs: t.atMs,
          values: t.values,
          fields: alertFields(rule, t.groupLabels, t.groupLabels, t.values),
        });
      } else if (t.to === 'resolved') {
        const episode = open.get(t.fingerprint);
        if (episode) episodes.push({ ...episode, resolvedAtMs: t.atMs });
        open.delete(t.fingerprint);
      }
    }
    steps.push({ atMs, active: reading.samples.filter((s) => s.active).length, firing: countFiring(instances) });
  }
  for (const episode of open.values()) episodes.push({ ...episode, resolvedAtMs: null });
  episodes.sort((a, b) => a.firedAtMs - b.firedAtMs);
  return { fromMs, toMs, stepMs, steps, episodes, ...(truncatedAtMs === undefined ? {} : { truncatedAtMs }) };
}

function countFiring(instances: ReadonlyMap<string, AlertInstance>): number {
  let n = 0;
  for (const i of instances.values()) if (i.status === 'firing') n++;
  return n;
}
