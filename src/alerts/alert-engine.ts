/**
 * The alerting loop inside the server: every tick, for every tenant, run the
 * rules that are due (each on its own `every`), dispatch notifications, and
 * deliver the outbox. Time comes from an injected clock so tests drive it.
 * Schedules are derived from the persisted `lastEvaluatedMs`, so a restart
 * continues where the last process stopped.
 */
import type { Store } from '../store/store.ts';
import type { AlertsConfig } from './alerts-config.ts';
import { evaluateRule, type EvaluationResult } from './alert-evaluator.ts';
import { KIND, type Notification, type RuleStateDoc } from './alert-model.ts';
import { dispatch } from './dispatcher.ts';
import { deliverOutbox, type DeliveryOutcome } from './outbox.ts';
import { compileRule, RuleError, type CompiledRule, type RuleInput } from './rule.ts';
import { formatProblem, loadRuleDirectory, type RuleFileProblem } from './rule-files.ts';

/** Hooks for metrics and logs (all optional). */
export interface AlertEngineObserver {
  onEvaluation?(tenant: string, result: EvaluationResult, seconds: number): void;
  onNotification?(notification: Notification): void;
  onDelivery?(outcome: DeliveryOutcome): void;
  onOutboxSize?(pending: number): void;
  log?(level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>): void;
}

export interface AlertEngineOptions {
  readonly store: Store;
  readonly config: AlertsConfig;
  /** The clock (ms); default Date.now. */
  readonly now?: () => number;
  readonly queryTimeoutMs?: number;
  readonly observer?: AlertEngineObserver;
}

/** A rule stored through the API (`alert_rule` document body). */
export interface StoredRule {
  readonly spec: RuleInput;
}

export class AlertEngine {
  readonly #options: AlertEngineOptions;
  readonly #now: () => number;
  #fileRules: CompiledRule[] = [];
  #problems: RuleFileProblem[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(options: AlertEngineOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.reloadFiles();
  }

  /** Problems found in the rule files at the last (re)load. */
  get problems(): readonly RuleFileProblem[] {
    return this.#problems;
  }

  now(): number {
    return this.#now();
  }

  /** Reads the pack and the rules directory again. */
  reloadFiles(): void {
    const { config } = this.#options;
    const result = loadRuleDirectory(config.rulesDir, config.pack);
    this.#fileRules = result.rules;
    this.#problems = result.problems;
    for (const p of result.problems) this.#options.observer?.log?.('warn', `rule file: ${formatProblem(p)}`);
  }

  /** File rules plus the tenant's API rules (an API rule replaces a file rule of the same name). */
  async rules(tenant: string): Promise<Map<string, CompiledRule>> {
    const rules = new Map(this.#fileRules.map((r) => [r.id, r]));
    const stored = await this.#options.store.documents.list<StoredRule>(tenant, KIND.rule, { limit: 10_000 });
    for (const doc of stored) {
      try {
        rules.set(doc.id, compileRule(doc.body.spec, { kind: 'api' }));
      } catch (err) {
        if (!(err instanceof RuleError)) throw err;
        this.#options.observer?.log?.('warn', `stored rule ${doc.id} is invalid: ${err.message}`);
      }
    }
    return rules;
  }

  async tenants(): Promise<string[]> {
    const { store, config } = this.#options;
    const more = await Promise.all([KIND.rule, KIND.outbox, KIND.state].map((k) => store.documents.tenants(k)));
    return [...new Set([...config.tenants, ...more.flat()])];
  }

  /** Evaluates one rule now (also used by `rules test` and the API's "evaluate now"). */
  async evaluate(tenant: string, rule: CompiledRule): Promise<EvaluationResult> {
    const started = performance.now();
    const result = await evaluateRule(this.#options.store, tenant, rule, this.#now(), this.#options.queryTimeoutMs);
    this.#options.observer?.onEvaluation?.(tenant, result, (performance.now() - started) / 1000);
    if (result.error) this.#options.observer?.log?.('warn', `rule ${rule.id} failed: ${result.error}`, { tenant });
    return result;
  }

  /** One pass: due rules, dispatch, delivery, for every tenant. */
  async tick(): Promise<void> {
    for (const tenant of await this.tenants()) await this.tickTenant(tenant);
  }

  /** One pass for one tenant. */
  async tickTenant(tenant: string): Promise<void> {
    const { store, config, observer } = this.#options;
    const rules = await this.rules(tenant);
    const states = new Map(
      (await store.documents.list<RuleStateDoc>(tenant, KIND.state, { limit: 10_000 })).map((d) => [d.id, d.body]),
    );
    for (const rule of rules.values()) {
      if (!rule.spec.enabled) continue;
      const last = states.get(rule.id)?.lastEvaluatedMs;
      if (last !== undefined && this.#now() < last + rule.spec.every) continue;
      await this.evaluate(tenant, rule);
    }
    const log = (m: string) => observer?.log?.('warn', m, { tenant });
    for (const n of await dispatch({ store, config, log }, tenant, rules, this.#now())) observer?.onNotification?.(n);
    for (const o of await deliverOutbox(store, config, tenant, this.#now(), this.#now)) {
      observer?.onDelivery?.(o);
      if (!o.ok) observer?.log?.('warn', `notification ${o.id} to ${o.receiver} failed: ${o.error}`, { tenant });
    }
    const pending = await store.documents.list(tenant, KIND.outbox, { limit: 10_000 });
    observer?.onOutboxSize?.(pending.length);
  }

  /** Starts ticking every `tickInterval` (the first tick after one interval). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.tick()
        .catch((err: unknown) => this.#options.observer?.log?.('error', `alert tick failed: ${(err as Error).message}`))
        .finally(() => {
          this.#running = undefined;
          this.#schedule();
        });
    }, this.#options.config.tickInterval);
    this.#timer.unref();
  }

  /** Stops the loop and waits for a running tick to finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}
