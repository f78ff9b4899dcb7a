/**
 * Evaluation on ingest: when rows become visible, the rules they can change
 * (rule-scope.ts) are evaluated at once instead of at their next `every`.
 * A flood of batches cannot starve queries: batches arriving meanwhile are
 * merged per tenant, one round runs at a time (so at most one triggered
 * evaluation of a rule is in flight), a rule is evaluated by a batch at most
 * once per `minSpacingMs`, and after a round that cost d ms the next waits
 * d × (1 / cpuShare − 1), so triggered work takes at most `cpuShare` of the
 * time. d is the CPU time the process spent during the round (its queries
 * run on the engine's threads), at most the round's wall time: on a machine
 * busy with other programs a round takes longer without costing more, and
 * resting in proportion to its wall time would only delay alerts. The rest
 * is at most MAX_REST_MS. A pending alert also gets a round when its `for:` has elapsed, so it
 * fires then rather than at the rule's next `every`.
 */
import type { VisibleRows } from '../store/visible-rows.ts';
import type { CompiledRule } from './rule.ts';
import { mayChange, mergeRows, ruleScope, type RuleScope } from './rule-scope.ts';

/** What the trigger needs of the engine. */
export interface TriggerTarget {
  now(): number;
  tenants(): Promise<string[]>;
  rules(tenant: string): Promise<Map<string, CompiledRule>>;
  /** Evaluates these rules of `tenant`, then dispatches and delivers. */
  evaluateTriggered(tenant: string, rules: readonly CompiledRule[]): Promise<void>;
  log?(level: 'warn' | 'error', message: string): void;
  /** Rows of `tenant` that became visible were checked against its rules: `matched` of them may change. */
  onChecked?(tenant: string, matched: number): void;
}

export interface TriggerOptions {
  /** Least time between two batch-triggered evaluations of one rule, ms. */
  readonly minSpacingMs: number;
  /** Largest share of wall time triggered rounds may take (0 < share ≤ 1). */
  readonly cpuShare: number;
}

/** Longest rest between two rounds, ms. */
const MAX_REST_MS = 5_000;

export const DEFAULT_TRIGGER_OPTIONS: TriggerOptions = { minSpacingMs: 1000, cpuShare: 0.25 };

interface TenantState {
  /** Rows visible since the last round, merged; matched against the rules at the next round. */
  pending: VisibleRows | undefined;
  /** Rule id → when it may run (epoch ms): matched, waiting for its spacing (or a `for:` to elapse). */
  readonly owed: Map<string, number>;
  /** Rule id → when its last triggered evaluation started. */
  readonly lastRun: Map<string, number>;
}

export class BatchTrigger {
  readonly #target: TriggerTarget;
  readonly #options: TriggerOptions;
  readonly #tenants = new Map<string, TenantState>();
  /** Rows whose tenant is not known: every tenant's rules are matched against them. */
  #anyTenant: VisibleRows | undefined;
  readonly #scopes = new WeakMap<CompiledRule, RuleScope>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #round: Promise<void> | undefined;
  /** No round starts before this (performance.now()): the CPU share. */
  #restUntil = 0;
  #stopped = false;

  constructor(target: TriggerTarget, options: TriggerOptions = DEFAULT_TRIGGER_OPTIONS) {
    this.#target = target;
    this.#options = options;
  }

  /** Rows became visible (the store's onVisibleRows listener). */
  add(batches: readonly VisibleRows[]): void {
    if (this.#stopped) return;
    for (const b of batches) {
      if (b.tenant === undefined) {
        this.#anyTenant = mergeRows(this.#anyTenant, b);
        continue;
      }
      const state = this.#state(b.tenant);
      state.pending = mergeRows(state.pending, b);
    }
    this.#wake(0);
  }

  /** Evaluates rule `ruleId` of `tenant` again at `atMs` (epoch ms; a pending alert's `for:` elapses then). */
  lookAgain(tenant: string, ruleId: string, atMs: number): void {
    if (this.#stopped) return;
    const state = this.#state(tenant);
    state.owed.set(ruleId, Math.min(state.owed.get(ruleId) ?? Infinity, atMs));
    this.#wake(Math.max(0, atMs - this.#target.now()));
  }

  /** Stops; waits for a round in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#round;
  }

  #state(tenant: string): TenantState {
    let state = this.#tenants.get(tenant);
    if (!state) this.#tenants.set(tenant, (state = { pending: undefined, owed: new Map(), lastRun: new Map() }));
    return state;
  }

  #scope(rule: CompiledRule): RuleScope {
    let scope = this.#scopes.get(rule);
    if (!scope) this.#scopes.set(rule, (scope = ruleScope(rule)));
    return scope;
  }

  /** Runs a round in `delayMs` (or later, for the CPU share), unless one is set sooner. */
  #wake(delayMs: number): void {
    if (this.#stopped || this.#round) return;
    const at = Math.max(performance.now() + delayMs, this.#restUntil);
    if (this.#timer && this.#timerAt <= at) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Infinity;
        const started = performance.now();
        const cpuBefore = process.cpuUsage();
        this.#round = this.#runRound()
          .catch((err: unknown) =>
            this.#target.log?.('error', `triggered evaluation failed: ${(err as Error).message}`),
          )
          .finally(() => {
            const cpu = process.cpuUsage(cpuBefore);
            const cost = Math.min(performance.now() - started, (cpu.user + cpu.system) / 1000);
            const rest = Math.min(MAX_REST_MS, cost * (1 / this.#options.cpuShare - 1));
            this.#restUntil = performance.now() + rest;
            this.#round = undefined;
            this.#rearm();
          });
      },
      Math.max(0, at - performance.now()),
    );
    this.#timer.unref();
  }

  /** After a round: the next one when something is pending or owed. */
  #rearm(): void {
    if (this.#anyTenant || [...this.#tenants.values()].some((s) => s.pending)) return this.#wake(0);
    let next = Infinity;
    for (const s of this.#tenants.values()) for (const at of s.owed.values()) next = Math.min(next, at);
    if (next < Infinity) this.#wake(Math.max(0, next - this.#target.now()));
  }

  async #runRound(): Promise<void> {
    const now = this.#target.now();
    const anyTenant = this.#anyTenant;
    this.#anyTenant = undefined;
    const known = new Set(await this.#target.tenants());
    if (anyTenant) for (const t of known) this.#state(t).pending = mergeRows(this.#state(t).pending, anyTenant);
    for (const [tenant, state] of this.#tenants) {
      const rows = state.pending;
      state.pending = undefined;
      if (!rows || !known.has(tenant)) continue;
      let matched = 0;
      for (const rule of (await this.#target.rules(tenant)).values()) {
        if (!rule.spec.enabled || !mayChange(this.#scope(rule), rows, now)) continue;
        matched++;
        const earliest = (state.lastRun.get(rule.id) ?? -Infinity) + this.#options.minSpacingMs;
        const owed = state.owed.get(rule.id);
        state.owed.set(rule.id, Math.min(owed ?? Infinity, Math.max(now, earliest)));
      }
      this.#target.onChecked?.(tenant, matched);
    }
    for (const [tenant, state] of this.#tenants) {
      const due = [...state.owed].filter(([, at]) => at <= now).map(([id]) => id);
      if (due.length === 0) continue;
      for (const id of due) state.owed.delete(id);
      const rules = await this.#target.rules(tenant);
      const run = due.map((id) => rules.get(id)).filter((r): r is CompiledRule => r?.spec.enabled === true);
      if (run.length === 0) continue;
      const started = this.#target.now();
      for (const rule of run) state.lastRun.set(rule.id, started);
      await this.#target.evaluateTriggered(tenant, run);
    }
    // Forget what no longer limits anything (rules evaluated longer than the spacing ago).
    const spaced = this.#target.now() - this.#options.minSpacingMs;
    for (const [tenant, state] of this.#tenants) {
      for (const [id, at] of state.lastRun) if (at < spaced) state.lastRun.delete(id);
      if (!state.pending && state.owed.size === 0 && state.lastRun.size === 0) this.#tenants.delete(tenant);
    }
  }
}
