/**
 * Annotation templates: `{{ value }}` (the first value the query computes),
 * `{{ value.total_amount }}`, `{{ labels.gateway }}` (a label, or the label
 * whose dotted name ends in `.gateway`), `{{ rule }}`, `{{ severity }}`, with
 * optional formatting: `| number`, `| percent` (0.953 → 95.3 %),
 * `| currency` (USD) or `| currency:EUR`.
 */
import type { Values } from './expr-eval.ts';

export interface TemplateContext {
  readonly rule: string;
  readonly severity: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly values: Values;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.]*)\s*(?:\|\s*([a-z]+)(?::([A-Za-z]{3}))?\s*)?\}\}/g;

/** Renders `template`; an unknown name renders as `?` so a typo shows instead of breaking delivery. */
export function renderTemplate(template: string, ctx: TemplateContext): string {
  return template.replace(PLACEHOLDER, (_m, path: string, format: string | undefined, arg: string | undefined) =>
    formatValue(lookup(path, ctx), format, arg),
  );
}

function lookup(path: string, ctx: TemplateContext): unknown {
  const [head, ...rest] = path.split('.');
  const key = rest.join('.');
  switch (head) {
    case 'rule':
      return ctx.rule;
    case 'severity':
      return ctx.severity;
    case 'labels':
      return labelOf(ctx.labels, key);
    case 'value':
    case 'values':
      if (key === '') return Object.values(ctx.values).find((v) => typeof v === 'number');
      // Own values only: `{{ value.constructor }}` must not render Object's constructor.
      return Object.hasOwn(ctx.values, key) ? ctx.values[key] : undefined;
    default:
      return undefined;
  }
}

function labelOf(labels: Readonly<Record<string, string>>, key: string): string | undefined {
  if (Object.hasOwn(labels, key)) return labels[key];
  const suffix = `.${key}`;
  const match = Object.keys(labels).find((k) => k.endsWith(suffix));
  return match === undefined ? undefined : labels[match];
}

/** Formats a value for people: numbers get at most 2 decimals and thousands separators. */
export function formatValue(value: unknown, format?: string, arg?: string): string {
  if (value === undefined) return '?';
  if (value === null) return 'n/a';
  if (typeof value !== 'number') return String(value);
  switch (format) {
    case 'percent':
      return `${new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 }).format(value * 100)} %`;
    case 'currency':
      return new Intl.NumberFormat('en-US', { style: 'currency', currency: (arg ?? 'USD').toUpperCase() }).format(
        value,
      );
    default:
      return new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 }).format(value);
  }
}
