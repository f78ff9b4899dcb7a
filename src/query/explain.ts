/**
 * Query IR → the plan in plain English, one sentence per step, for the UI's
 * "explain" panel and for alert descriptions. Wording is stable (tests pin
 * it), so change it deliberately.
 */
import type { Aggregation, Expr, Filter, GroupKey, Query, SortKey, Stage, TimeRange } from './ir.ts';
import { formatDuration } from '../util/duration.ts';

/**
 * Explains a query, e.g. `Find events where event.outcome is "failure", from
 * 2025-06-28T13:30:00.000Z to 2025-06-28T14:30:00.000Z. Then keep the first 10 events.`
 */
export function explainQuery(query: Query, range?: TimeRange): string {
  const sentences = [findSentence(query.filter, range)];
  // Before the first stats the rows are events; say so, it reads better.
  let rows = 'events';
  for (const stage of query.stages) {
    sentences.push(`Then ${describeStage(stage, rows)}.`);
    if (stage.kind === 'stats') rows = 'rows';
  }
  return sentences.join(' ');
}

/** Describes a filter as a phrase, e.g. `event.type is "page_view" and not (a is "1" or b is "2")`. */
export function explainFilter(filter: Filter): string {
  switch (filter.kind) {
    case 'all':
      return 'all events';
    case 'and':
    case 'or':
      return filter.items.map((item) => nestedFilter(item, filter.kind)).join(` ${filter.kind} `);
    case 'not':
      return negatedFilter(filter.item);
    case 'match':
      return isPattern(filter.value)
        ? `${filter.field} matches ${filter.value.text}`
        : `${filter.field} is ${JSON.stringify(filter.value.text)}`;
    case 'range':
      return `${filter.field} is ${RANGE_WORDS[filter.op]} ${rangeValue(filter.value)}`;
    case 'exists':
      return `has ${filter.field}`;
    case 'text':
      return isPattern(filter.value)
        ? `text matches ${filter.value.text}`
        : `text contains ${JSON.stringify(filter.value.text)}`;
  }
}

const RANGE_WORDS = { '>': 'greater than', '>=': 'at least', '<': 'less than', '<=': 'at most' } as const;

function isPattern(value: { readonly text: string; readonly quoted: boolean }): boolean {
  return !value.quoted && value.text.includes('*');
}

function rangeValue(value: { readonly text: string; readonly quoted: boolean }): string {
  return value.quoted ? JSON.stringify(value.text) : value.text;
}

/** An item of an and/or: parenthesized when it is itself an and/or of the other kind. */
function nestedFilter(item: Filter, parent: 'and' | 'or'): string {
  const text = explainFilter(item);
  return (item.kind === 'and' || item.kind === 'or') && item.kind !== parent ? `(${text})` : text;
}

function negatedFilter(item: Filter): string {
  switch (item.kind) {
    case 'match':
      return isPattern(item.value)
        ? `${item.field} does not match ${item.value.text}`
        : `${item.field} is not ${JSON.stringify(item.value.text)}`;
    case 'range':
      return `${item.field} is not ${RANGE_WORDS[item.op]} ${rangeValue(item.value)}`;
    case 'exists':
      return `does not have ${item.field}`;
    case 'text':
      return isPattern(item.value)
        ? `text does not match ${item.value.text}`
        : `text does not contain ${JSON.stringify(item.value.text)}`;
    case 'all':
      return 'no events';
    default:
      return `not (${explainFilter(item)})`;
  }
}

function findSentence(filter: Filter, range: TimeRange | undefined): string {
  const when = range === undefined ? '' : `from ${iso(range.fromMs)} to ${iso(range.toMs)}`;
  if (filter.kind === 'all') return when === '' ? 'Find all events.' : `Find all events ${when}.`;
  return `Find events where ${explainFilter(filter)}${when === '' ? '' : `, ${when}`}.`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function describeStage(stage: Stage, rows: string): string {
  switch (stage.kind) {
    case 'stats': {
      const aggs = englishList(stage.aggs.map(describeAggregation));
      const by = stage.by.length === 0 ? '' : `, grouped by ${englishList(stage.by.map(describeKey))}`;
      return `compute ${aggs}${by}`;
    }
    case 'where':
      return `keep ${rows} where ${explainExpr(stage.expr)}`;
    case 'eval':
      return `compute ${englishList(stage.assignments.map((a) => `${explainExpr(a.expr)} as ${a.name}`))}`;
    case 'sort':
      return `sort by ${stage.keys.map(describeSortKey).join(', then by ')}`;
    case 'limit':
      return stage.n === 1 ? `keep the first ${rows.slice(0, -1)}` : `keep the first ${stage.n} ${rows}`;
    case 'fields':
      return `keep only the ${rows === 'events' ? 'fields' : 'columns'} ${englishList(stage.fields)}`;
  }
}

function describeAggregation(agg: Aggregation): string {
  const phrase = aggregationPhrase(agg);
  return phrase === agg.as ? phrase : `${phrase} as ${agg.as}`;
}

function aggregationPhrase(agg: Aggregation): string {
  const field = agg.field ?? '';
  switch (agg.fn) {
    case 'count':
      return 'count';
    case 'countif':
      return agg.filter === undefined || agg.filter.kind === 'all'
        ? 'count of all events'
        : `count of events where ${explainFilter(agg.filter)}`;
    case 'sum':
      return `sum of ${field}`;
    case 'avg':
      return `average of ${field}`;
    case 'min':
      return `minimum of ${field}`;
    case 'max':
      return `maximum of ${field}`;
    case 'dc':
      return `distinct count of ${field}`;
    case 'percentile':
      return `${ordinal(agg.percentile ?? 50)} percentile of ${field}`;
  }
}

function describeKey(key: GroupKey): string {
  const base = key.kind === 'bin' ? `${key.field} in ${formatDuration(key.intervalMs)} buckets` : key.field;
  return key.as === key.field ? base : `${base} as ${key.as}`;
}

function describeSortKey(key: SortKey): string {
  return `${explainExpr(key.expr)} ${key.desc ? 'descending' : 'ascending'}`;
}

/** 1 → 1st, 2 → 2nd, 95 → 95th, 99.9 → 99.9th. */
function ordinal(n: number): string {
  if (!Number.isInteger(n)) return `${n}th`;
  const lastTwo = n % 100;
  if (lastTwo >= 11 && lastTwo <= 13) return `${n}th`;
  const suffix = { 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/** `a`, `a and b`, `a, b and c`. */
function englishList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`;
}

/** How tightly each operator binds, for minimal parentheses. */
const PRECEDENCE: Readonly<Record<string, number>> = {
  or: 1,
  and: 2,
  not: 3,
  '=': 4,
  '!=': 4,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
};
const COMPARISON = 4;
const UNARY_MINUS = 7;
const ATOM = 8;

/** Renders an expression in query syntax with only the parentheses it needs: `errors * 100 / total > 1`. */
export function explainExpr(expr: Expr): string {
  return render(expr, 0);
}

function render(expr: Expr, context: number): string {
  const [text, precedence] = renderWithPrecedence(expr);
  return precedence < context ? `(${text})` : text;
}

function renderWithPrecedence(expr: Expr): [string, number] {
  switch (expr.kind) {
    case 'number':
      return [String(expr.value), expr.value < 0 ? UNARY_MINUS : ATOM];
    case 'string':
      return [JSON.stringify(expr.value), ATOM];
    case 'bool':
      return [String(expr.value), ATOM];
    case 'null':
      return ['null', ATOM];
    case 'column':
      return [expr.name, ATOM];
    case 'call':
      return [`${expr.fn}(${expr.args.map((a) => render(a, 0)).join(', ')})`, ATOM];
    case 'unary': {
      const p = expr.op === 'not' ? (PRECEDENCE['not'] ?? 3) : UNARY_MINUS;
      return [expr.op === 'not' ? `not ${render(expr.arg, p)}` : `-${render(expr.arg, p)}`, p];
    }
    case 'binary': {
      const p = PRECEDENCE[expr.op] ?? 0;
      // Left-associative, so the right side needs parentheses at equal
      // precedence (a - (b - c)); comparisons do not chain, so both sides do.
      const leftContext = p === COMPARISON ? p + 1 : p;
      return [`${render(expr.left, leftContext)} ${expr.op} ${render(expr.right, p + 1)}`, p];
    }
  }
}
