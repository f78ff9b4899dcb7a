/**
 * The alerting loop inside the server: every tick, for every tenant, run the
 * rules that are due (each on its own `every`), dispatch notifications, and
 * deliver the outbox. Besides, once started, the rules a newly visible batch
 * can change are evaluated as soon as it is visible, and their notifications
 * sent right after (batch-trigger.ts). Time comes from an injected clock so
 * tests drive it. Schedules are derived from the persisted
 * `lastEvaluatedMs` (which triggered evaluations update too), so a restart
 * continues where the last process stopped.
 */
import { ErrorGroupService } from '../errors/error-group-service.ts';
import { ErrorGrouper } from '../errors/grouping-rules.ts';
import type { Store } from '../store/store.ts';
import type { AlertsConfig } from './alerts-config.ts';
import { evaluateRule, type EvaluationResult } from './alert-evaluator.ts';
import { KIND, type Notification, type RuleStateDoc } from './alert-model.ts';
import { BatchTrigger, DEFAULT_TRIGGER_OPTIONS, type TriggerOptions } from './batch-trigger.ts';
import { dispatch } from './dispatcher.ts';
import { readErrorGroupRule } from './error-group-rules.ts';
import { readRule, type RuleReading } from './rule-query.ts';
import { deliverOutbox, type DeliveryOutcome } from './outbox.ts';
import { compileRule, RuleError, type CompiledRule, type RuleInput } from './rule.ts';
import { formatProblem, loadRuleDirectory, type RuleFileProblem } from './rule-files.ts';

/**
 * Why a rule was evaluated: its `every` came (`schedule`), a visible batch
 * could change it or its `for:` elapsed (`batch`), or a caller asked for it
 * directly (`manual`).
 */
export type EvaluationTrigger = 'schedule' | 'batch' | 'manual';

/** Hooks for metrics and logs (all optional). */
export interface AlertEngineObserver {
  onEvaluation?(tenant: string, result: EvaluationResult, seconds: number, trigger: EvaluationTrigger): void;
  /** Newly visible rows of `tenant` were checked against its rules; `matched` rules may change and were queued. */
  onBatchChecked?(tenant: string, matched: number): void;
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
  /** Evaluation on visible batches (started with the engine); default from `config.onIngest`, `false` turns it off. */
  readonly trigger?: TriggerOptions | false;
  /** What `error_group` rules read (default: a service with no grouping rules of the configuration). */
  readonly errorGroups?: ErrorGroupService;
}

/** A rule stored through the API (`alert_rule` document body). */
export interface StoredRule {
  readonly spec: RuleInput;
}

export class AlertEngine {
  readonly #options: AlertEngineOptions;
  readonly #now: () => number;
  readonly #errorGroups: { readonly service: ErrorGroupService; readonly startedMs: number };
  #fileRules: CompiledRule[] = [];
  #problems: RuleFileProblem[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  #trigger: BatchTrigger | undefined;
  #unlisten: (() => void) | undefined;
  /** One evaluation of a rule at a time (`tenant\0rule`), and one dispatch + delivery per tenant. */
  readonly #busy = new Map<string, Promise<unknown>>();

  constructor(options: AlertEngineOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#errorGroups = {
      service:
        options.errorGroups ??
        new ErrorGroupService(options.store, new ErrorGrouper(), { timeoutMs: options.queryTimeoutMs ?? 30_000 }),
      // Error groups first seen before the engine existed are not new to it (no storm at start-up).
      startedMs: this.#now(),
    };
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

  /** Runs `job` after the previous job of the same key has finished (a tick and a batch never race on a rule). */
  #serially<T>(key: string, job: () => Promise<T>): Promise<T> {
    const previous = this.#busy.get(key) ?? Promise.resolve();
    const next = previous.then(job, job);
    const settled = next.catch(() => undefined);
    this.#busy.set(key, settled);
    void settled.then(() => {
      if (this.#busy.get(key) === settled) this.#busy.delete(key);
    });
    return next;
  }

  /** What a rule reads at `atMs`, without changing its state (the API's "test"). */
  async read(tenant: string, rule: CompiledRule, atMs: number): Promise<RuleReading> {
    const { store, queryTimeoutMs } = this.#options;
    if (!rule.errorGroup) return readRule(store, tenant, rule, atMs, queryTimeoutMs);
    const state = await store.documents.get<RuleStateDoc>(tenant, KIND.state, rule.id);
    const watchFromMs = state?.body.watchFromMs ?? Math.min(this.#errorGroups.startedMs, atMs);
    return readErrorGroupRule({ groups: this.#errorGroups.service, tenant, nowMs: atMs, watchFromMs }, rule);
  }

  /** Evaluates one rule now (also used by `rules test` and the API's "evaluate now"). */
  evaluate(tenant: string, rule: CompiledRule, trigger: EvaluationTrigger = 'manual'): Promise<EvaluationResult> {
    return this.#serially(`${tenant}\u0000${rule.id}`, async () => {
      const started = performance.now();
      const { store, queryTimeoutMs, observer } = this.#options;
      const result = await evaluateRule(store, tenant, rule, this.#now(), queryTimeoutMs, this.#errorGroups);
      observer?.onEvaluation?.(tenant, result, (performance.now() - started) / 1000, trigger);
      if (result.error) observer?.log?.('warn', `rule ${rule.id} failed: ${result.error}`, { tenant });
      this.#lookAgainWhenPendingFires(tenant, rule, result);
      return result;
    });
  }

  /** A pending alert whose `for:` elapses before the rule's next `every` gets a triggered look then. */
  #lookAgainWhenPendingFires(tenant: string, rule: CompiledRule, { state }: EvaluationResult): void {
    if (!this.#trigger) return;
    const scheduled = (state.lastEvaluatedMs ?? this.#now()) + rule.spec.every;
    let first = Infinity;
    for (const i of state.instances) {
      if (i.status === 'pending') first = Math.min(first, i.activeSinceMs + rule.spec.for);
    }
    if (first < scheduled) this.#trigger.lookAgain(tenant, rule.id, first);
  }

  /** Batch-triggered evaluation of some rules of a tenant, then dispatch and delivery at once. */
  async evaluateTriggered(tenant: string, rules: readonly CompiledRule[]): Promise<void> {
    let changed = false;
    for (const rule of rules) {
      const { transitions } = await this.evaluate(tenant, rule, 'batch');
      if (transitions.length > 0) changed = true;
    }
    // Nothing changed state: nothing new to dispatch (the tick still delivers retries and group waits).
    if (changed) await this.notify(tenant, await this.rules(tenant));
  }

  /** One pass: due rules, dispatch, delivery, for every tenant. */
  async tick(): Promise<void> {
    for (const tenant of await this.tenants()) await this.tickTenant(tenant);
  }

  /** One pass for one tenant. */
  async tickTenant(tenant: string): Promise<void> {
    const { store } = this.#options;
    const rules = await this.rules(tenant);
    const states = new Map(
      (await store.documents.list<RuleStateDoc>(tenant, KIND.state, { limit: 10_000 })).map((d) => [d.id, d.body]),
    );
    for (const rule of rules.values()) {
      if (!rule.spec.enabled) continue;
      const last = states.get(rule.id)?.lastEvaluatedMs;
      if (last !== undefined && this.#now() < last + rule.spec.every) continue;
      await this.evaluate(tenant, rule, 'schedule');
    }
    await this.notify(tenant, rules);
  }

  /** Dispatches what the tenant's alert states call for and delivers the outbox (one pass at a time per tenant). */
  notify(tenant: string, rules: ReadonlyMap<string, CompiledRule>): Promise<void> {
    return this.#serially(`${tenant}\u0000`, async () => {
      const { store, config, observer } = this.#options;
      const log = (m: string) => observer?.log?.('warn', m, { tenant });
      for (const n of await dispatch({ store, config, log }, tenant, rules, this.#now())) observer?.onNotification?.(n);
      for (const o of await deliverOutbox(store, config, tenant, this.#now(), this.#now)) {
        observer?.onDelivery?.(o);
        if (!o.ok) observer?.log?.('warn', `notification ${o.id} to ${o.receiver} failed: ${o.error}`, { tenant });
      }
      const pending = await store.documents.list(tenant, KIND.outbox, { limit: 10_000 });
      observer?.onOutboxSize?.(pending.length);
    });
  }

  /** Starts ticking every `tickInterval` (the first tick after one interval), and evaluating on visible batches. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule();
    const { store, config, observer } = this.#options;
    const onIngest = config.onIngest ?? { enabled: true, ...DEFAULT_TRIGGER_OPTIONS };
    const trigger =
      this.#options.trigger ??
      (onIngest.enabled ? { minSpacingMs: onIngest.minSpacing, cpuShare: onIngest.cpuShare } : false);
    if (trigger === false || !store.onVisibleRows) return;
    const batches = new BatchTrigger(
      {
        now: () => this.#now(),
        tenants: () => this.tenants(),
        rules: (tenant) => this.rules(tenant),
        evaluateTriggered: (tenant, rules) => this.evaluateTriggered(tenant, rules),
        log: (level, message) => observer?.log?.(level, message),
        onChecked: (tenant, matched) => observer?.onBatchChecked?.(tenant, matched),
      },
      trigger,
    );
    this.#trigger = batches;
    this.#unlisten = store.onVisibleRows((rows) => batches.add(rows));
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
    this.#unlisten?.();
    this.#unlisten = undefined;
    await this.#trigger?.stop();
    this.#trigger = undefined;
    await this.#running;
  }
}
