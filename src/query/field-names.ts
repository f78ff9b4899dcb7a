/**
 * Which event fields a query names, and which known names are close to a
 * misspelt one. The query service uses both to warn about a field that
 * matches nothing (`query.unknown_field`), as Kibana flags a field that is
 * not in the index pattern, instead of silently answering no rows.
 */
import type { Expr, Filter, Query } from './ir.ts';

/** A field name as the query writes it, with where it first appears (0 when unknown). */
export interface FieldMention {
  readonly name: string;
  readonly position: number;
}

/**
 * The event fields `query` reads, in order of first mention, each once:
 * filter terms, countif filters, and the names used by stages while rows are
 * still events (before the first `stats`), minus names that an `eval` defines.
 */
export function referencedFields(query: Query): FieldMention[] {
  const found = new Map<string, number>();
  const defined = new Set<string>();
  const add = (name: string, position = 0): void => {
    if (!defined.has(name) && !found.has(name)) found.set(name, position);
  };
  filterFields(query.filter, add);
  let events = true;
  for (const stage of query.stages) {
    if (!events) break;
    switch (stage.kind) {
      case 'where':
        exprFields(stage.expr, add);
        break;
      case 'eval':
        for (const { name, expr } of stage.assignments) {
          exprFields(expr, add);
          defined.add(name);
        }
        break;
      case 'sort':
        for (const key of stage.keys) exprFields(key.expr, add);
        break;
      case 'fields':
        for (const name of stage.fields) add(name);
        events = false;
        break;
      case 'stats':
        for (const agg of stage.aggs) {
          if (agg.field !== undefined) add(agg.field);
          if (agg.filter !== undefined) filterFields(agg.filter, add);
        }
        for (const key of stage.by) add(key.field);
        events = false;
        break;
      case 'limit':
        break;
    }
  }
  return [...found].map(([name, position]) => ({ name, position }));
}

function filterFields(filter: Filter, add: (name: string, position?: number) => void): void {
  switch (filter.kind) {
    case 'and':
    case 'or':
      for (const item of filter.items) filterFields(item, add);
      return;
    case 'not':
      filterFields(filter.item, add);
      return;
    case 'match':
    case 'range':
    case 'exists':
      add(filter.field, filter.span?.start);
      return;
    case 'text':
    case 'all':
      return;
  }
}

function exprFields(expr: Expr, add: (name: string, position?: number) => void): void {
  switch (expr.kind) {
    case 'column':
      add(expr.name, expr.span?.start);
      return;
    case 'unary':
      exprFields(expr.arg, add);
      return;
    case 'binary':
      exprFields(expr.left, add);
      exprFields(expr.right, add);
      return;
    case 'call':
      for (const arg of expr.args) exprFields(arg, add);
      return;
    default:
      return;
  }
}

/** Longest name compared by edit distance (longer ones get no suggestions: the cost is length²). */
const MAX_COMPARED_LENGTH = 100;

/**
 * Up to `max` of `candidates` close to `name`, closest first: within an
 * edit distance (insertions, deletions, substitutions, swaps of neighbours)
 * of a third of the name's length (at least 2, at most 4), compared without
 * case, or (for a name without a dot) equal to the last dotted part of one
 * (`gateway` → `transaction.gateway`).
 */
export function suggestFields(name: string, candidates: Iterable<string>, max = 3): string[] {
  if (name.length > MAX_COMPARED_LENGTH) return [];
  const wanted = name.toLowerCase();
  const limit = Math.min(4, Math.max(2, Math.floor(wanted.length / 3)));
  const bare = !wanted.includes('.');
  const scored: { name: string; score: number }[] = [];
  const seen = new Set<string>();
  for (const candidate of candidates) {
    if (candidate === name || seen.has(candidate) || candidate.length > MAX_COMPARED_LENGTH) continue;
    seen.add(candidate);
    const lower = candidate.toLowerCase();
    let score = Math.abs(lower.length - wanted.length) <= limit ? editDistance(wanted, lower, limit) : limit + 1;
    // A bare name (`gateway`) may be the last part of a dotted one (`transaction.gateway`).
    if (score > limit && bare && lastPart(lower) === wanted) score = limit;
    if (score <= limit) scored.push({ name: candidate, score });
  }
  scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  return scored.slice(0, max).map((s) => s.name);
}

function lastPart(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? name : name.slice(dot + 1);
}

/**
 * Optimal string alignment distance between `a` and `b`, or `limit + 1`
 * as soon as it must exceed `limit`. Three rows of the table; O(|a|·|b|).
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let d = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (before[j - 2] as number) + 1);
      }
      current[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > limit) return limit + 1;
    [before, previous, current] = [previous, current, before];
  }
  return Math.min(previous[b.length] as number, limit + 1);
}
