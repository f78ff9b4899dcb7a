/**
 * Alert rules: what a rule file, the API or the UI may say, validated by one
 * zod schema, and the compiled form the evaluator runs (query and condition
 * parsed, durations in ms, severity normalised).
 */
import { z } from 'zod';
import { QueryError } from '../errors.ts';
import { parseQuery } from '../query/index.ts';
import type { Expr, Query } from '../query/index.ts';
import { parseDuration } from '../util/duration.ts';

/**
 * Priorities and the word each maps to, which the label `severity` carries:
 * P0 critical (answer within 15 minutes: outage, payments failing), P1 high
 * (within an hour: degradation, high error rates), P2 warning (within 4 hours),
 * P3 info (next business day).
 */
export const SEVERITIES = {
  P0: 'critical',
  P1: 'high',
  P2: 'warning',
  P3: 'info',
} as const;
export type Priority = keyof typeof SEVERITIES;
export type SeverityWord = (typeof SEVERITIES)[Priority];

/** Severity words a rule may use (a Map: a rule's text is looked up, and `constructor` is no severity). */
const SEVERITY_ALIASES: ReadonlyMap<string, Priority> = new Map<string, Priority>([
  ['p0', 'P0'],
  ['critical', 'P0'],
  ['p1', 'P1'],
  ['high', 'P1'],
  ['p2', 'P2'],
  ['warning', 'P2'],
  ['medium', 'P2'],
  ['p3', 'P3'],
  ['low', 'P3'],
  ['info', 'P3'],
]);

const MIN_EVERY_MS = 5_000;

/** The longest window, period or interval a rule may name: past a year of retention there is nothing to read. */
const MAX_RULE_DURATION_MS = 400 * 86_400_000;
/** Annotation and label values are templates and short texts; a megabyte of them stalled every evaluation. */
const MAX_RULE_TEXT = 4096;

const durationText = z.union([z.string(), z.number()]).transform((value, ctx) => {
  let ms: number;
  try {
    ms = typeof value === 'number' ? value : parseDuration(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected a duration like "30s", "5m" or "24h", got "${value}"` });
    return z.NEVER;
  }
  // Unbounded, `window: 1e29` was accepted and then failed every evaluation (micros out of int64 range).
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_RULE_DURATION_MS) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration from 0s to 400d' });
    return z.NEVER;
  }
  return ms;
});

const labelName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'expected a label name like "team" or "gateway"');

/** One rule as written in YAML or sent to the API (snake_case keys as in Prometheus rule files). */
export const ruleSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'expected a name of letters, digits, "_", "-" or "." (max 100)'),
    description: z.string().optional(),
    /** The query language; its `stats` columns are the named values the condition uses. */
    query: z.string().min(1, 'expected a query').optional(),
    window: durationText.prefault('5m'),
    every: durationText.prefault('30s').refine((ms) => ms >= MIN_EVERY_MS, 'must be at least 5s'),
    /** An expression over the named values, e.g. `ok / total < 0.95 and total >= 20`. */
    condition: z.string().min(1, 'expected a condition such as "error_rate > 0.05"').optional(),
    /**
     * A rule on error groups instead of a query (error-group-rules.ts): `new`
     * (a group first seen in the window), `regression` (a resolved group seen
     * again), `rate` (a group's events per minute above `rate.per_minute`
     * and/or above `rate.factor` × its own rate over the previous 24 h, with
     * at least `rate.min_count` events in the window).
     */
    error_group: z
      .string()
      .transform((value, ctx) => {
        const kind = value.toLowerCase();
        if (kind !== 'new' && kind !== 'regression' && kind !== 'rate') {
          ctx.addIssue({ code: 'custom', message: `expected new, regression or rate, got "${value}"` });
          return z.NEVER;
        }
        return kind;
      })
      .optional(),
    rate: z
      .object({
        per_minute: z.number().positive('must be more than 0').optional(),
        factor: z.number().gt(1, 'must be more than 1').optional(),
        min_count: z.number().int().min(1).default(20),
      })
      .strict()
      .refine((r) => r.per_minute !== undefined || r.factor !== undefined, {
        message: 'expected per_minute (events a minute) or factor (× the last 24 h rate), or both',
      })
      .optional(),
    /** Error group rules only: which groups count. */
    filter: z
      .object({
        service: z.string().min(1).optional(),
        environment: z.string().min(1).optional(),
        min_users: z.number().int().min(0).default(0),
        min_events: z.number().int().min(1).default(1),
      })
      .strict()
      .optional(),
    for: durationText.prefault('0s'),
    keep_firing_for: durationText.prefault('0s'),
    severity: z.string().transform((value, ctx) => {
      const priority = SEVERITY_ALIASES.get(value.toLowerCase());
      if (!priority) {
        ctx.addIssue({ code: 'custom', message: `expected P0, P1, P2, P3 (or critical, high, warning, info)` });
        return z.NEVER;
      }
      return priority;
    }),
    labels: z.record(labelName, z.string().max(MAX_RULE_TEXT)).default({}),
    annotations: z.record(z.string(), z.string().max(MAX_RULE_TEXT)).default({}),
    /** Fields of the query's `stats ... by`: one alert instance per group. */
    group_by: z.array(z.string().min(1)).default([]),
    /**
     * Change against what is usual: `<value>_baseline` and `<value>_change`
     * (a fraction) become usable. Without `season`, the usual is the mean of
     * the previous `window`. With `season: 7d`, it is the median of the same
     * window at the same time of week over the last `periods` weeks that had
     * data; with fewer than `min_periods` of them, the median of the same
     * time of day over the last `days` days, and without any, the previous
     * `window` (see rule-baseline.ts). `baseline_basis` (season, days or
     * window) and `baseline_periods` say which was used.
     */
    baseline: z
      .object({
        window: durationText.prefault('24h'),
        season: durationText.refine((ms) => ms >= 3_600_000, 'must be at least 1h').optional(),
        periods: z.number().int().min(1).max(12).default(4),
        min_periods: z.number().int().min(1).max(12).optional(),
        days: z.number().int().min(0).max(14).default(7),
        /**
         * How long a stretch each seasonal period reads, centred on the same
         * time (default: the rule's window). Wider is steadier for a ratio of
         * two counts; keep the window for a value that depends on it (a share
         * of sessions that had time to order).
         */
        width: durationText.optional(),
      })
      .strict()
      .refine((b) => (b.min_periods ?? 1) <= b.periods, {
        message: 'min_periods must not be more than periods',
        path: ['min_periods'],
      })
      .optional(),
    /**
     * Robust spike detection: `<value>_sigma` = (value − median) / (1.4826 · MAD) over the trailing
     * windows of the last `over`. With `season` (e.g. `7d`), on the seasonal residual instead
     * (seasonal-spike.ts): each window less what is usual for it (the median of the same window at
     * the same time of week over the last `periods` weeks; with fewer than `min_periods` of them, of
     * the same time of day over the last `days` days), so that the daily ramp is no spike;
     * `<value>_expected` and `spike_basis` (season, days or trailing) say what it was compared with.
     */
    spike: z
      .object({
        over: durationText.prefault('1h'),
        min_samples: z.number().int().min(3).default(6),
        season: durationText.refine((ms) => ms >= 3_600_000, 'must be at least 1h').optional(),
        periods: z.number().int().min(1).max(12).default(4),
        min_periods: z.number().int().min(1).max(12).default(2),
        days: z.number().int().min(0).max(14).default(1),
      })
      .strict()
      .refine((b) => b.min_periods <= b.periods, {
        message: 'min_periods must not be more than periods',
        path: ['min_periods'],
      })
      .optional(),
    /**
     * Absence of data: groups seen in the previous `lookback` but silent in
     * the window fire (one alert per silent stream). The condition is then
     * evaluated on the absent groups only (`count` is 0 for them). With
     * `slices`, the lookback is cut into that many equal parts and only a
     * group seen in at least `min_slices` of them is expected to keep
     * sending: a one-off source (a document sent by hand, an admin's audit
     * trail) never counts as silent.
     */
    absent: z
      .object({
        lookback: durationText.prefault('1h'),
        slices: z.number().int().min(1).max(60).default(1),
        min_slices: z.number().int().min(1).max(60).optional(),
      })
      .strict()
      .refine((a) => (a.min_slices ?? a.slices) <= a.slices, {
        message: 'min_slices must not be more than slices',
        path: ['min_slices'],
      })
      .optional(),
    /** Link back to a dashboard (path or URL) shown in notifications and the UI. */
    dashboard: z.string().optional(),
    enabled: z.boolean().default(true),
  })
  .strict();

/** A rule as written (input of the schema). */
export type RuleInput = z.input<typeof ruleSchema>;
/** A validated rule (durations in ms, severity as P0–P3; an error_group rule's query and condition are its stand-ins). */
export type RuleSpec = Omit<z.output<typeof ruleSchema>, 'query' | 'condition'> & {
  readonly query: string;
  readonly condition: string;
};

/** Where a rule came from: the built-in pack, a YAML file, or the API. */
export type RuleSource = { readonly kind: 'pack' | 'file'; readonly path: string } | { readonly kind: 'api' };

/** A rule ready to run. */
export interface CompiledRule {
  /** Stable id: the name. */
  readonly id: string;
  readonly spec: RuleSpec;
  readonly source: RuleSource;
  readonly query: Query;
  readonly condition: Expr;
  readonly severity: SeverityWord;
  /** Set for an `error_group` rule (its query and condition are then stand-ins, see errorGroupStandIn). */
  readonly errorGroup?: ErrorGroupRule;
}

/** What an `error_group` rule watches. */
export interface ErrorGroupRule {
  readonly kind: 'new' | 'regression' | 'rate';
  readonly perMinute?: number;
  readonly factor?: number;
  readonly minCount: number;
  readonly service?: string;
  readonly environment?: string;
  readonly minUsers: number;
  /** Least events of the group in the window. */
  readonly minEvents: number;
}

/**
 * The query and condition an `error_group` rule stands for (what it reads,
 * as the UI and the rule's scope see it; the evaluation reads the groups).
 */
export const ERROR_GROUP_QUERY =
  'error.fingerprint:* | stats count() as events, dc(user.id) as users by error.fingerprint';
export const ERROR_GROUP_CONDITION = 'events > 0';

const ERROR_GROUP_SUMMARY =
  '{{ value.title }}: {{ value.events }} events, {{ value.users }} users, {{ value.revenue_at_risk }} at risk' +
  ' in the last {{ value.window }} (service {{ value.service }}, release {{ value.release }})';
const ERROR_GROUP_FIELDS = 'events, users, revenue_at_risk, per_minute, baseline_per_minute';

/** What an error group alert says unless its rule says otherwise (values: error-group-rules.ts). */
const ERROR_GROUP_ANNOTATIONS: Readonly<Record<ErrorGroupRule['kind'], Readonly<Record<string, string>>>> = {
  new: { title: 'New error: {{ value.title }}', summary: ERROR_GROUP_SUMMARY, fields: ERROR_GROUP_FIELDS },
  regression: {
    title: 'Regressed error: {{ value.title }}',
    summary: ERROR_GROUP_SUMMARY,
    fields: ERROR_GROUP_FIELDS,
  },
  rate: { title: 'Error spike: {{ value.title }}', summary: ERROR_GROUP_SUMMARY, fields: ERROR_GROUP_FIELDS },
};

/** Where conditions start inside the `| where ` wrapper used to parse them. */
const WHERE_PREFIX = '| where ';

/** Parses a condition with the query language's expression parser (errors carry the position in the condition). */
export function parseCondition(text: string): Expr {
  try {
    const stages = parseQuery(WHERE_PREFIX + text).stages;
    const stage = stages[0];
    if (stages.length !== 1 || stage?.kind !== 'where')
      throw new QueryError('query.invalid', 'a condition is one expression, without "|"', WHERE_PREFIX.length);
    return stage.expr;
  } catch (err) {
    if (err instanceof QueryError) {
      throw new QueryError(err.code as 'query.syntax', err.message, Math.max(0, err.position - WHERE_PREFIX.length));
    }
    throw err;
  }
}

/** A rule that failed to compile: `path` points into the rule (`query`, `condition`, ...). */
export class RuleError extends Error {
  readonly path: readonly (string | number)[];
  constructor(path: readonly (string | number)[], message: string) {
    super(message);
    this.name = 'RuleError';
    this.path = path;
  }
}

/** Validates and compiles one rule; throws RuleError naming the key. */
export function compileRule(input: unknown, source: RuleSource): CompiledRule {
  const parsed = ruleSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = (issue?.path ?? []) as (string | number)[];
    const message =
      issue?.code === 'unrecognized_keys' ? `unknown key ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid rule');
    throw new RuleError(path, message);
  }
  const written = parsed.data;
  let errorGroup: ErrorGroupRule | undefined;
  let spec: RuleSpec;
  if (written.error_group) {
    for (const key of ['query', 'condition', 'group_by', 'baseline', 'spike', 'absent'] as const) {
      const value = written[key];
      const standIn = key === 'query' ? ERROR_GROUP_QUERY : key === 'condition' ? ERROR_GROUP_CONDITION : undefined;
      // The stand-ins themselves (a rule read back from the API and sent again) are fine.
      const grouped = Array.isArray(value) && value.every((v) => v === 'error.fingerprint');
      if (value === undefined || value === standIn || grouped) continue;
      throw new RuleError([key], `an error_group rule has no ${key}: it watches error groups (see docs/alerting.md)`);
    }
    if (written.error_group === 'rate' && !written.rate)
      throw new RuleError(['rate'], 'error_group: rate needs rate: { per_minute: N } or rate: { factor: F }');
    if (written.error_group !== 'rate' && written.rate)
      throw new RuleError(['rate'], `rate applies to error_group: rate only, not "${written.error_group}"`);
    errorGroup = {
      kind: written.error_group,
      ...(written.rate?.per_minute === undefined ? {} : { perMinute: written.rate.per_minute }),
      ...(written.rate?.factor === undefined ? {} : { factor: written.rate.factor }),
      minCount: written.rate?.min_count ?? 1,
      ...(written.filter?.service ? { service: written.filter.service } : {}),
      ...(written.filter?.environment ? { environment: written.filter.environment } : {}),
      minUsers: written.filter?.min_users ?? 0,
      minEvents: written.filter?.min_events ?? 1,
    };
    spec = {
      ...written,
      query: ERROR_GROUP_QUERY,
      condition: ERROR_GROUP_CONDITION,
      group_by: ['error.fingerprint'],
      annotations: { ...ERROR_GROUP_ANNOTATIONS[errorGroup.kind], ...written.annotations },
    };
  } else {
    if (written.rate) throw new RuleError(['rate'], 'rate applies to error_group: rate rules only');
    if (written.filter)
      throw new RuleError(['filter'], 'filter applies to error_group rules only (put it in the query)');
    if (written.query === undefined)
      throw new RuleError(['query'], 'expected a query (or error_group: new, regression or rate)');
    if (written.condition === undefined)
      throw new RuleError(['condition'], 'expected a condition such as "error_rate > 0.05"');
    spec = { ...written, query: written.query, condition: written.condition };
  }
  const queryText = spec.query;
  const conditionText = spec.condition;
  let query: Query;
  try {
    query = parseQuery(queryText);
  } catch (err) {
    throw new RuleError(['query'], describeQueryError(err, queryText));
  }
  let condition: Expr;
  try {
    condition = parseCondition(conditionText);
  } catch (err) {
    throw new RuleError(['condition'], describeQueryError(err, conditionText));
  }
  const stats = query.stages.find((s) => s.kind === 'stats');
  if (!stats) throw new RuleError(['query'], 'the query needs a "| stats ..." stage that computes the named values');
  const keys = new Set(stats.by.map((k) => k.as));
  for (const field of spec.group_by) {
    if (!keys.has(field)) throw new RuleError(['group_by'], `"${field}" is not a "by" key of the query's stats stage`);
  }
  if (stats.by.some((k) => k.kind === 'bin'))
    throw new RuleError(['query'], 'bin(@timestamp, ...) is not allowed in a rule: the window is the time range');
  const compiled = { id: spec.name, spec, source, query, condition, severity: SEVERITIES[spec.severity] };
  return errorGroup ? { ...compiled, errorGroup } : compiled;
}

function describeQueryError(err: unknown, text: string): string {
  if (err instanceof QueryError) return `${err.message} (at character ${err.position + 1} of "${text}")`;
  return (err as Error).message;
}
