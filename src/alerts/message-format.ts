/**
 * What an alert's values and labels mean to a person: a human name
 * (`total_amount` → "Total amount", `transaction.gateway` → "Gateway") and a
 * kind that decides the formatting (`$2,042.10`, `95.3 %`, `3.2 s`), so a
 * notification reads "Total amount: $2,042.10", not "total_amount=2042.1".
 *
 * Kinds are read from the rule's query: count()/countif()/dc() are counts; an
 * aggregation over a money field is money (src/query/money-columns.ts); over
 * `event.duration` (ms) a duration; a ratio of two counts (`errors / total`)
 * a percentage; derived values follow their base (`x_baseline` as `x`,
 * `x_change` a percentage, `x_sigma` in σ). A rule can say otherwise with
 * annotations: `name.<value>: Risk transactions`, `format.<value>: count |
 * money | currency:EUR | percent | percent_points | duration | sigma |
 * number`, `currency: EUR` for all its money, and `fields: a, b` to choose
 * and order the values shown. The currency is, in order: `format.<value>`,
 * the `currency` annotation, the `transaction.currency` group label, the
 * currency the query's filter pins, else USD.
 */
import type { Expr, Query } from '../query/index.ts';
import { canonical, CURRENCY_FIELD, moneyColumns, pinnedCurrency } from '../query/money-columns.ts';
import type { AlertField } from './alert-model.ts';
import type { Values } from './expr-eval.ts';
import type { CompiledRule } from './rule.ts';
import { formatValue, type ValueKind } from './templates.ts';

const KINDS: ReadonlySet<string> = new Set([
  'money',
  'count',
  'percent',
  'percent_points',
  'duration',
  'sigma',
  'number',
]);
const COUNT_FNS = new Set(['count', 'countif', 'dc']);
const DURATION_FIELDS = new Set(['event.duration']);
/** Annotations that configure formatting: not shown to people, not sent as annotations. */
export function isFormatAnnotation(key: string): boolean {
  return key.startsWith('name.') || key.startsWith('format.') || key === 'fields' || key === 'currency';
}

/** Names of labels people know by a shorter word than their dotted field name. */
const LABEL_NAMES: ReadonlyMap<string, string> = new Map([
  ['transaction.gateway', 'Gateway'],
  ['service.name', 'Service'],
  ['http.route', 'Route'],
  ['http.request.method', 'Method'],
  ['http.response.status_code', 'Status code'],
  ['transaction.currency', 'Currency'],
  ['customer.region', 'Region'],
  ['payment.method', 'Payment method'],
  ['exception.type', 'Error type'],
  ['error.fingerprint', 'Error group'],
  ['kubernetes.pod', 'Pod'],
  ['_index', 'Index'],
]);

const ACRONYMS: ReadonlyMap<string, string> = new Map([
  ['http', 'HTTP'],
  ['ip', 'IP'],
  ['ips', 'IPs'],
  ['id', 'ID'],
  ['url', 'URL'],
  ['api', 'API'],
  ['cpu', 'CPU'],
  ['sku', 'SKU'],
  ['mb', 'MB'],
  ['gb', 'GB'],
  ['p50', 'P50'],
  ['p90', 'P90'],
  ['p95', 'P95'],
  ['p99', 'P99'],
]);

/** `total_amount` → "Total amount", `http.route` → "HTTP route", `ip_addresses` → "IP addresses". */
export function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[._\s-]+/)
    .filter(Boolean)
    .map((w) => ACRONYMS.get(w.toLowerCase()) ?? w.toLowerCase());
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The human name of a label (group key), from the field catalog's canonical name. */
export function labelTitle(label: string): string {
  const name = canonical(label);
  const known = LABEL_NAMES.get(name);
  if (known) return known;
  return humanize(name.endsWith('.name') ? name.slice(0, -'.name'.length) : name);
}

/** The formatting facts of one rule, computed once per rule text. */
export interface RuleFormat {
  readonly kinds: ReadonlyMap<string, ValueKind>;
  /** The currency the rule states or its filter pins; undefined when neither. */
  readonly currency?: string;
}

const cache = new WeakMap<CompiledRule, RuleFormat>();

/** Kinds and currency of a rule's values (cached per compiled rule). */
export function ruleFormat(rule: CompiledRule): RuleFormat {
  const hit = cache.get(rule);
  if (hit) return hit;
  const kinds = inferKinds(rule.query);
  if (rule.errorGroup) {
    kinds.set('revenue_at_risk', 'money');
    kinds.set('per_minute', 'number');
    kinds.set('baseline_per_minute', 'number');
  }
  for (const [key, text] of Object.entries(rule.spec.annotations)) {
    if (!key.startsWith('format.')) continue;
    const [kind] = text.trim().toLowerCase().split(':');
    const normal = kind === 'currency' ? 'money' : kind;
    if (normal && KINDS.has(normal)) kinds.set(key.slice('format.'.length), normal as ValueKind);
  }
  const stated = rule.spec.annotations['currency']?.trim();
  const currency = stated && /^[A-Za-z]{3}$/.test(stated) ? stated.toUpperCase() : pinnedCurrency(rule.query.filter);
  const format: RuleFormat = { kinds, ...(currency ? { currency: currency.toUpperCase() } : {}) };
  cache.set(rule, format);
  return format;
}

/**
 * The currency of one alert's money: the rule's, else its `transaction.currency`
 * group label, else a `currency` text among its values (error group alerts).
 */
export function currencyOf(
  format: RuleFormat,
  labels: Readonly<Record<string, string>>,
  values?: Values,
): string | undefined {
  if (format.currency) return format.currency;
  const label = Object.entries(labels).find(([k]) => canonical(k) === CURRENCY_FIELD)?.[1];
  if (label && /^[A-Za-z]{3}$/.test(label)) return label.toUpperCase();
  const carried = values?.['currency'];
  return typeof carried === 'string' && /^[A-Za-z]{3}$/.test(carried) ? carried.toUpperCase() : undefined;
}

function inferKinds(query: Query): Map<string, ValueKind> {
  const kinds = new Map<string, ValueKind>();
  const money = moneyColumns(query);
  for (const stage of query.stages) {
    if (stage.kind === 'stats') {
      const before = new Map(kinds);
      kinds.clear();
      for (const agg of stage.aggs) {
        const field = agg.field === undefined ? undefined : canonical(agg.field);
        if (COUNT_FNS.has(agg.fn)) kinds.set(agg.as, 'count');
        // A second stats over the first one's counts (sum of per-session indicators) still counts.
        else if (field !== undefined && before.get(field) === 'count' && agg.fn !== 'avg') kinds.set(agg.as, 'count');
        else if (field !== undefined && /quantity|(^|[._])count$/.test(field)) kinds.set(agg.as, 'count');
        else if (field !== undefined && DURATION_FIELDS.has(field)) kinds.set(agg.as, 'duration');
        else if (field !== undefined && /percent|pct/.test(field)) kinds.set(agg.as, 'percent_points');
        else kinds.set(agg.as, 'number');
      }
    } else if (stage.kind === 'eval') {
      for (const { name, expr } of stage.assignments) kinds.set(name, exprKind(expr, kinds));
    }
  }
  for (const name of money) kinds.set(name, 'money');
  for (const [name, kind] of kinds) if (kind === 'number') kinds.set(name, kindBySuffix(name));
  return kinds;
}

function exprKind(expr: Expr, kinds: ReadonlyMap<string, ValueKind>): ValueKind {
  switch (expr.kind) {
    case 'column':
      return kinds.get(expr.name) ?? 'number';
    case 'unary':
      return exprKind(expr.arg, kinds);
    case 'binary': {
      const left = exprKind(expr.left, kinds);
      const right = exprKind(expr.right, kinds);
      if (expr.op === '+' || expr.op === '-') return left === right ? left : 'number';
      if (expr.op === '/') {
        if (left === right && (left === 'count' || left === 'money' || left === 'duration')) return 'percent';
        if (right === 'number' && expr.right.kind === 'number') return left;
      }
      if (expr.op === '*' && (expr.left.kind === 'number' || expr.right.kind === 'number'))
        return expr.left.kind === 'number' ? right : left;
      return 'number';
    }
    case 'call':
      // if(cond, 1, 0): an indicator, which stats then sums into a count.
      if (expr.fn === 'if' && expr.args.slice(1).every((a) => a.kind === 'number' && (a.value === 0 || a.value === 1)))
        return 'count';
      if (['round', 'abs', 'floor', 'ceil', 'coalesce'].includes(expr.fn) && expr.args[0])
        return exprKind(expr.args[0], kinds);
      return 'number';
    default:
      return 'number';
  }
}

function kindBySuffix(name: string): ValueKind {
  if (/(_rate|_ratio|_share|_fraction|_success)$/.test(name)) return 'percent';
  if (/(_pct|_percent)$/.test(name)) return 'percent_points';
  if (/_ms$/.test(name)) return 'duration';
  return 'number';
}

/** The kind of a value, including the derived `_baseline`, `_change` and `_sigma`. */
export function kindOf(format: RuleFormat, name: string): ValueKind {
  const own = format.kinds.get(name);
  if (own) return own;
  if (name.endsWith('_sigma')) return 'sigma';
  if (name.endsWith('_change')) return 'percent';
  if (name.endsWith('_baseline')) return format.kinds.get(name.slice(0, -'_baseline'.length)) ?? 'number';
  return kindBySuffix(name);
}

/** Human name of a value: its `name.<value>` annotation, else from the name ("Errors baseline", "Errors spike"). */
function valueTitle(annotations: Readonly<Record<string, string>>, name: string): string {
  const given = annotations[`name.${name}`];
  if (given) return given;
  for (const [suffix, word] of [
    ['_baseline', 'baseline'],
    ['_change', 'change'],
    ['_sigma', 'spike'],
  ] as const) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      return `${annotations[`name.${base}`] ?? humanize(base.replace(/_(ms|pct|percent)$/, ''))} ${word}`;
    }
  }
  return humanize(name.replace(/_(ms|pct|percent)$/, ''));
}

/**
 * The fields a notification shows for one alert: its group labels, then its
 * numeric values (the `fields` annotation chooses and orders them), each
 * with a human name and formatted text.
 */
export function alertFields(
  rule: CompiledRule,
  labels: Readonly<Record<string, string>>,
  groupLabels: Readonly<Record<string, string>>,
  values: Values,
): AlertField[] {
  const format = ruleFormat(rule);
  const currency = currencyOf(format, labels, values);
  const annotations = rule.spec.annotations;
  const fields: AlertField[] = Object.entries(groupLabels).map(([name, value]) => ({
    name,
    title: annotations[`name.${name}`] ?? labelTitle(name),
    value,
    kind: 'label' as const,
  }));
  const chosen = annotations['fields']
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const names = chosen ?? Object.keys(values);
  for (const name of names) {
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    // A value that did not compute (a baseline with no history) is left out unless the rule asked for it.
    if (typeof value !== 'number' && !(chosen && value === null)) continue;
    const kind = kindOf(format, name);
    const text = formatValue(value, kind, currency);
    fields.push({
      name,
      title: valueTitle(annotations, name),
      value: name.endsWith('_change') && typeof value === 'number' && value > 0 ? `+${text}` : text,
      kind,
    });
  }
  return fields;
}
