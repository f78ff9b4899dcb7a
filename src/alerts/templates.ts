/**
 * Annotation templates: `{{ value }}` (the first value the query computes),
 * `{{ value.total_amount }}`, `{{ labels.gateway }}` (a label, or the label
 * whose dotted name ends in `.gateway`), `{{ rule }}`, `{{ severity }}`, with
 * optional formatting: `| number`, `| count`, `| percent` (0.953 → 95.3 %),
 * `| duration` (milliseconds → "3.2 s"), `| currency` (the rule's currency,
 * USD when none is known) or `| currency:EUR`. Without a format a value is
 * shown as its kind says (see message-format.ts): an amount with its
 * currency, a ratio as a percentage, a count as a whole number.
 */
import type { Values } from './expr-eval.ts';

/** How a value reads to people; inferred from the rule's query (message-format.ts) or set in its annotations. */
export type ValueKind = 'money' | 'count' | 'percent' | 'percent_points' | 'duration' | 'sigma' | 'number';

export interface TemplateContext {
  readonly rule: string;
  readonly severity: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly values: Values;
  /** Kind of a value by name; without it every value is a plain number. */
  readonly kindOf?: (name: string) => ValueKind;
  /** ISO 4217 code money values are in (default USD). */
  readonly currency?: string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.]*)\s*(?:\|\s*([a-z_]+)(?::([A-Za-z]{3}))?\s*)?\}\}/g;

/** Renders `template`; an unknown name renders as `?` so a typo shows instead of breaking delivery. */
export function renderTemplate(template: string, ctx: TemplateContext): string {
  return template.replace(PLACEHOLDER, (_m, path: string, format: string | undefined, arg: string | undefined) => {
    const { value, name } = lookup(path, ctx);
    const kind = format ?? (name === undefined ? undefined : ctx.kindOf?.(name));
    return formatValue(value, kind, arg ?? ctx.currency);
  });
}

function lookup(path: string, ctx: TemplateContext): { value: unknown; name?: string } {
  const [head, ...rest] = path.split('.');
  const key = rest.join('.');
  switch (head) {
    case 'rule':
      return { value: ctx.rule };
    case 'severity':
      return { value: ctx.severity };
    case 'labels':
      return { value: labelOf(ctx.labels, key) };
    case 'value':
    case 'values': {
      if (key === '') {
        const first = Object.entries(ctx.values).find(([, v]) => typeof v === 'number');
        return first ? { value: first[1], name: first[0] } : { value: undefined };
      }
      // Own values only: `{{ value.constructor }}` must not render Object's constructor.
      return Object.hasOwn(ctx.values, key) ? { value: ctx.values[key], name: key } : { value: undefined };
    }
    default:
      return { value: undefined };
  }
}

function labelOf(labels: Readonly<Record<string, string>>, key: string): string | undefined {
  if (Object.hasOwn(labels, key)) return labels[key];
  const suffix = `.${key}`;
  const match = Object.keys(labels).find((k) => k.endsWith(suffix));
  return match === undefined ? undefined : labels[match];
}

const plain = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/**
 * Formats a value for people. `format` is a kind (`money`/`currency`,
 * `count`, `percent`, `percent_points`, `duration`, `sigma`, `number`);
 * `currency` the ISO code for money (USD when absent or unknown). Numbers
 * without a format get at most 2 decimals and thousands separators.
 */
export function formatValue(value: unknown, format?: string, currency?: string): string {
  if (value === undefined) return '?';
  if (value === null) return 'n/a';
  if (typeof value !== 'number') return String(value);
  if (!Number.isFinite(value)) return String(value);
  switch (format) {
    case 'percent':
      return `${oneDecimal.format(value * 100)} %`;
    case 'percent_points':
      return `${oneDecimal.format(value)} %`;
    case 'currency':
    case 'money':
      return formatMoney(value, currency);
    case 'count':
      return whole.format(value);
    case 'duration':
      return formatMilliseconds(value);
    case 'sigma':
      return `${oneDecimal.format(value)}σ`;
    default:
      return plain.format(value);
  }
}

function formatMoney(value: number, currency: string | undefined): string {
  const code = currency && /^[A-Za-z]{3}$/.test(currency) ? currency.toUpperCase() : 'USD';
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: code }).format(value);
  } catch {
    return `${plain.format(value)} ${code}`;
  }
}

/** A measured duration in ms (a latency): "850 ms", "3.2 s", then as formatElapsed. */
export function formatMilliseconds(ms: number): string {
  if (Math.abs(ms) < 1000) return `${whole.format(ms)} ms`;
  if (Math.abs(ms) < 60_000) return `${oneDecimal.format(ms / 1000)} s`;
  return formatElapsed(ms);
}

/**
 * How long something lasted, to the precision people say it: "40 s",
 * "12 min", "1 h 5 min", "2 d 3 h" (rounded down to the smaller unit).
 */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}
