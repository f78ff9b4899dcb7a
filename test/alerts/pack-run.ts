/**
 * Runs the prebuilt rule pack on an injected clock for one tenant, as the
 * server's engine does (each rule on its own `every`, `for`, group_wait,
 * delivery to a real webhook receiver), and reads back what it did: the
 * state transitions and the notifications that left the dispatcher. Shared
 * by the pack tests and the alert bench.
 */
import { AlertEngine } from '../../src/alerts/alert-engine.ts';
import { KIND, type Notification, type RuleStateDoc } from '../../src/alerts/alert-model.ts';
import { alertsConfigSchema, DEFAULT_ROUTES } from '../../src/alerts/alerts-config.ts';
import type { Priority } from '../../src/alerts/rule.ts';
import { loadRuleDirectory } from '../../src/alerts/rule-files.ts';
import type { Transition } from '../../src/alerts/state-machine.ts';
import type { Store } from '../../src/store/store.ts';
import { mayChange, ruleScope } from '../../src/alerts/rule-scope.ts';
import type { Arrival } from './demo-scenario.ts';
import type { HttpRecorder } from './peers.ts';

export interface PackRun {
  readonly transitions: Transition[];
  readonly notifications: Notification[];
  /** Per evaluation of each rule: when, and the group labels whose condition held (for condition episodes). */
  readonly activeByRule: Map<string, { atMs: number; active: string[] }[]>;
}

export interface PackSteps {
  readonly fromMs: number;
  readonly toMs: number;
  /** Clock step before `fineFromMs` and after `fineToMs` (default 30 s). */
  readonly stepMs?: number;
  /** Clock step in [fineFromMs, fineToMs) (default 5 s, so every rule runs on its own `every`). */
  readonly fineStepMs?: number;
  readonly fineFromMs?: number;
  readonly fineToMs?: number;
  /** Stops early once this holds (checked after each tick). */
  readonly until?: (notifications: readonly Notification[]) => boolean;
  /**
   * Evaluation on ingest, as the server does it (batch-trigger.ts), in [fineFromMs, fineToMs): the
   * events of the scenario arrive as the live demo sends them (each at the first 1 s tick at or after
   * its timestamp) and are visible `visibleAfterMs` later (default 1 s); at that moment the rules
   * they can change (rule-scope.ts) are evaluated, and a pending alert is looked at again when its
   * `for:` elapses. Use a fine step of 1 s (the server's tick: group_wait, delivery).
   * The queries read the store as loaded, so a query at time t also sees events of the last
   * `visibleAfterMs` before t: what triggers an evaluation is timed as in the server, what the
   * query reads may be up to a second ahead of it.
   */
  readonly live?: {
    readonly arrivals: readonly Arrival[];
    readonly visibleAfterMs?: number;
    /**
     * Only these rules are evaluated on batches (default: every rule they can change), the others
     * on their `every`: the server evaluates every rule a batch can change, but a test timing one
     * rule needs only that one (each evaluation costs a query).
     */
    readonly rules?: readonly string[];
  };
}

/** The pack's priority of each rule (P0–P3), by name. */
export const PACK_PRIORITY: ReadonlyMap<string, Priority> = new Map(
  loadRuleDirectory('/nonexistent', true).rules.map((r) => [r.id, r.spec.severity]),
);

/** Runs the pack for `tenant` over [fromMs, toMs], notifications to `webhook` at /<tenant>. */
export async function runPack(store: Store, webhook: HttpRecorder, tenant: string, steps: PackSteps): Promise<PackRun> {
  let clock = steps.fromMs;
  const notifications: Notification[] = [];
  const activeByRule = new Map<string, { atMs: number; active: string[] }[]>();
  /** Rule id → when its first pending alert's `for:` elapses. */
  const forElapses = new Map<string, number>();
  const forMs = new Map<string, number>();
  const engine = new AlertEngine({
    store,
    now: () => clock,
    config: alertsConfigSchema.parse({
      tenants: [tenant],
      rulesDir: '/nonexistent',
      pack: true,
      receivers: { hook: { type: 'webhook', url: webhook.url(`/${tenant}`) } },
      // As the demo routes them (withInAppRoute): every alert to the in-app inbox at once, and to the webhook.
      routes: [...DEFAULT_ROUTES.slice(0, 1), { receivers: ['hook'] }],
    }),
    observer: {
      onNotification: (n) => notifications.push(n),
      onEvaluation: (_tenant, result) => {
        const state: RuleStateDoc = result.state;
        const active = (state.lastSamples ?? []).filter((s) => s.active).map((s) => JSON.stringify(s.labels));
        activeByRule.set(result.rule, [...(activeByRule.get(result.rule) ?? []), { atMs: clock, active }]);
        const pending = state.instances.filter((i) => i.status === 'pending');
        if (pending.length === 0) forElapses.delete(result.rule);
        else
          forElapses.set(result.rule, Math.min(...pending.map((i) => i.activeSinceMs + (forMs.get(result.rule) ?? 0))));
      },
    },
  });
  const rules = [...(await engine.rules(tenant)).values()].filter(
    (r) => r.spec.enabled && (!steps.live?.rules || steps.live.rules.includes(r.id)),
  );
  for (const r of rules) forMs.set(r.id, r.spec.for);
  const fineFromMs = steps.fineFromMs ?? steps.fromMs;
  const fineToMs = steps.fineToMs ?? steps.fromMs;
  const live = steps.live;
  const visibleAfterMs = live?.visibleAfterMs ?? 1_000;
  let cursor = 0;
  let lastLiveMs: number | undefined;
  while (clock <= steps.toMs) {
    if (live && clock + 1 >= fineFromMs && clock < fineToMs) {
      // Sent at the first whole second at or after its timestamp, visible visibleAfterMs later.
      const visibleAt = (a: Arrival) => Math.ceil(a.tsMs / 1000) * 1000 + visibleAfterMs;
      const since = lastLiveMs ?? clock - 1;
      while (cursor < live.arrivals.length && visibleAt(live.arrivals[cursor]!) <= since) cursor++;
      const batch: Arrival[] = [];
      while (cursor < live.arrivals.length && visibleAt(live.arrivals[cursor]!) <= clock)
        batch.push(live.arrivals[cursor++]!);
      lastLiveMs = clock;
      const rows = batch.length
        ? {
            tenant,
            rows: batch.length,
            eventTypes: new Set(batch.map((a) => a.eventType)),
            indices: undefined,
            fromMs: batch[0]!.tsMs,
            toMs: batch.at(-1)!.tsMs,
          }
        : undefined;
      const due = rules.filter(
        (r) => (rows && mayChange(ruleScope(r), rows, clock)) || (forElapses.get(r.id) ?? Infinity) <= clock,
      );
      if (due.length > 0) await engine.evaluateTriggered(tenant, due);
    }
    await engine.tickTenant(tenant);
    if (steps.until?.(notifications)) break;
    const fine = clock + 1 >= fineFromMs && clock < fineToMs;
    clock += fine ? (steps.fineStepMs ?? 5_000) : (steps.stepMs ?? 30_000);
  }
  const docs = await store.documents.list<Transition>(tenant, KIND.history, { limit: 100_000 });
  return { transitions: docs.map((d) => d.body), notifications, activeByRule };
}

/** "Rule {labels} at N s" for each firing transition, N counted from `originMs`. */
export function firings(transitions: readonly Transition[], originMs: number): string[] {
  return transitions
    .filter((t) => t.to === 'firing')
    .map((t) => `${t.rule} ${JSON.stringify(t.groupLabels)} at ${Math.round((t.atMs - originMs) / 1000)} s`);
}

/** The first firing notification carrying a firing alert of `rule` with these labels. */
export function firstNotification(
  notifications: readonly Notification[],
  rule: string,
  labels: Readonly<Record<string, string>>,
): Notification | undefined {
  return notifications.find(
    (n) =>
      n.status === 'firing' &&
      n.alerts.some(
        (a) =>
          a.status === 'firing' &&
          a.labels['alertname'] === rule &&
          Object.entries(labels).every(([k, v]) => a.labels[k] === v),
      ),
  );
}

/** One alert episode: an instance (rule + group labels) from firing to resolved. */
export interface Episode {
  readonly rule: string;
  readonly labels: string;
  readonly priority: Priority;
  readonly atMs: number;
}

/** Alert episodes: each transition to firing starts one (a flapping alert held firing is one). */
export function episodes(transitions: readonly Transition[]): Episode[] {
  return transitions
    .filter((t) => t.to === 'firing')
    .map((t) => ({
      rule: t.rule,
      labels: JSON.stringify(t.groupLabels),
      priority: PACK_PRIORITY.get(t.rule) ?? 'P0',
      atMs: t.atMs,
    }))
    .sort((a, b) => a.atMs - b.atMs);
}

/**
 * Condition episodes (an upper bound on alert episodes, `for` not applied):
 * runs of consecutive evaluations in which a group's condition held.
 */
export function conditionEpisodes(run: PackRun): Episode[] {
  const out: Episode[] = [];
  for (const [rule, evaluations] of run.activeByRule) {
    let previous = new Set<string>();
    for (const { atMs, active } of evaluations) {
      for (const labels of active)
        if (!previous.has(labels)) out.push({ rule, labels, priority: PACK_PRIORITY.get(rule) ?? 'P0', atMs });
      previous = new Set(active);
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

/** "Rule {labels} (P1) at <iso>" lines, for assertion messages and the bench. */
export function describeEpisodes(list: readonly Episode[]): string[] {
  return list.map((e) => `${e.rule} ${e.labels} (${e.priority}) at ${new Date(e.atMs).toISOString()}`);
}
