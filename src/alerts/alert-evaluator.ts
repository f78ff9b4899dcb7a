/**
 * Evaluates one rule for one tenant at one instant: reads the rule's values,
 * steps every instance's state machine, and persists the state and the
 * history. The state document is the source of truth across restarts: a
 * firing alert stays firing, and notifications are driven from it by the
 * dispatcher (which keeps its own record of what was sent).
 */
import type { ErrorGroupService } from '../errors/error-group-service.ts';
import type { Store } from '../store/store.ts';
import { readErrorGroupRule } from './error-group-rules.ts';
import { KIND, type RuleStateDoc } from './alert-model.ts';
import type { CompiledRule } from './rule.ts';
import { readRule } from './rule-query.ts';
import { fingerprintOf, step, type AlertInstance, type Transition } from './state-machine.ts';

/** Result of one evaluation, for metrics and `rules test`. */
export interface EvaluationResult {
  readonly rule: string;
  readonly state: RuleStateDoc;
  readonly transitions: readonly Transition[];
  readonly error?: string;
}

/** History id: sortable by time within a rule. */
export function historyId(t: Transition): string {
  return `${t.rule}|${new Date(t.atMs).toISOString()}|${t.fingerprint}|${t.to}`;
}

export async function evaluateRule(
  store: Store,
  tenant: string,
  rule: CompiledRule,
  nowMs: number,
  timeoutMs?: number,
  errorGroups?: { readonly service: ErrorGroupService; readonly startedMs: number },
): Promise<EvaluationResult> {
  const previousDoc = await store.documents.get<RuleStateDoc>(tenant, KIND.state, rule.id);
  const previous = previousDoc?.body;
  const transitions: Transition[] = [];
  let state: RuleStateDoc;
  let error: string | undefined;
  try {
    let reading;
    if (rule.errorGroup) {
      if (!errorGroups) throw new Error('error group rules need the error group service');
      const watchFromMs = previous?.watchFromMs ?? Math.min(errorGroups.startedMs, nowMs);
      reading = await readErrorGroupRule({ groups: errorGroups.service, tenant, nowMs, watchFromMs }, rule);
    } else {
      reading = await readRule(store, tenant, rule, nowMs, timeoutMs);
    }
    const timing = { forMs: rule.spec.for, keepFiringForMs: rule.spec.keep_firing_for };
    const old = new Map((previous?.instances ?? []).map((i) => [i.fingerprint, i]));
    const next: AlertInstance[] = [];
    const seen = new Set<string>();
    for (const sample of reading.samples) {
      const fp = fingerprintOf(rule.id, sample.labels);
      seen.add(fp);
      const stepped = step(
        old.get(fp),
        { rule: rule.id, groupLabels: sample.labels, active: sample.active, values: sample.values },
        nowMs,
        timing,
        transitions,
      );
      if (stepped) next.push(stepped);
    }
    // Groups that vanished from the answer: their condition no longer holds.
    for (const [fp, instance] of old) {
      if (seen.has(fp)) continue;
      const stepped = step(
        instance,
        { rule: rule.id, groupLabels: instance.groupLabels, active: false },
        nowMs,
        timing,
        transitions,
      );
      if (stepped) next.push(stepped);
    }
    state = {
      rule: rule.id,
      ...(rule.errorGroup
        ? { watchFromMs: previous?.watchFromMs ?? Math.min(errorGroups?.startedMs ?? nowMs, nowMs) }
        : {}),
      lastEvaluatedMs: nowMs,
      lastDurationMs: Math.round(reading.elapsedMs * 10) / 10,
      lastSamples: reading.samples
        .slice(0, 20)
        .map((s) => ({ labels: { ...s.labels }, values: { ...s.values }, active: s.active })),
      instances: next,
    };
  } catch (err) {
    error = (err as Error).message;
    // A failing query keeps the instances as they were: a broken rule neither fires nor resolves.
    state = { ...(previous ?? { rule: rule.id, instances: [] }), lastEvaluatedMs: nowMs, lastError: error };
  }
  // History first: if the state write fails, the transitions are replayed at the next evaluation
  // under the same ids (same time only if same evaluation), never lost.
  for (const t of transitions) await store.documents.put(tenant, KIND.history, historyId(t), t);
  await store.documents.put(tenant, KIND.state, rule.id, state);
  return { rule: rule.id, state, transitions, ...(error ? { error } : {}) };
}
