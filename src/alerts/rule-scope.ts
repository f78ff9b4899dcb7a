/**
 * Which newly visible rows can change a rule's answer: read from the rule's
 * compiled filter, conservatively. A rule restricted to `event.type:X` (or an
 * `_index`) by its top-level filter cannot be changed by rows of other types;
 * anything the reading is not sure of (a wildcard, a negation, an `or` with
 * an unrestricted branch, a field without a typed column) counts as "any".
 */
import type { Filter } from '../query/index.ts';
import { canonicalEventType } from '../schema/event-types.ts';
import { typedField } from '../schema/fields.ts';
import type { VisibleRows } from '../store/visible-rows.ts';
import type { CompiledRule } from './rule.ts';

/** Values a rule's rows must have; undefined: any value. */
export interface RuleScope {
  readonly eventTypes: ReadonlySet<string> | undefined;
  readonly indices: ReadonlySet<string> | undefined;
  /** Rows older than this before the evaluation instant cannot change the answer, ms. */
  readonly horizonMs: number;
}

/** The values of `column` a row must hold to pass `filter`; undefined when the filter does not say. */
function restriction(filter: Filter, column: string, canonical: (text: string) => string): Set<string> | undefined {
  switch (filter.kind) {
    case 'match': {
      if (typedField(filter.field)?.column !== column) return undefined;
      if (!filter.value.quoted && filter.value.text.includes('*')) return undefined;
      return new Set([canonical(filter.value.text)]);
    }
    case 'and': {
      let out: Set<string> | undefined;
      for (const item of filter.items) {
        const r = restriction(item, column, canonical);
        if (!r) continue;
        out = out ? new Set([...out].filter((v) => r.has(v))) : r;
      }
      return out;
    }
    case 'or': {
      const out = new Set<string>();
      for (const item of filter.items) {
        const r = restriction(item, column, canonical);
        if (!r) return undefined;
        for (const v of r) out.add(v);
      }
      return out;
    }
    default:
      return undefined;
  }
}

/** The scope of a rule: its event types and indices, and how far back its reading looks. */
export function ruleScope(rule: CompiledRule): RuleScope {
  const { filter } = rule.query;
  const { spec } = rule;
  return {
    eventTypes: restriction(filter, 'event_type', canonicalEventType),
    indices: restriction(filter, 'index_name', (t) => t),
    // Baselines and spike histories end before the window (and are cached); absence looks back further.
    horizonMs: Math.max(spec.window, spec.absent?.lookback ?? 0),
  };
}

function overlaps(wanted: ReadonlySet<string> | undefined, present: ReadonlySet<string> | undefined): boolean {
  if (!wanted || !present) return true;
  for (const v of present) if (wanted.has(v)) return true;
  return false;
}

/** Whether `rows` can change the reading of a rule of this scope at `nowMs` (true when unsure). */
export function mayChange(scope: RuleScope, rows: VisibleRows, nowMs: number): boolean {
  if (rows.toMs < nowMs - scope.horizonMs) return false;
  return overlaps(scope.eventTypes, rows.eventTypes) && overlaps(scope.indices, rows.indices);
}

/** Merges what became visible for one tenant into one summary (sets united; undefined wins). */
export function mergeRows(a: VisibleRows | undefined, b: VisibleRows): VisibleRows {
  if (!a) return b;
  const union = (x: ReadonlySet<string> | undefined, y: ReadonlySet<string> | undefined) =>
    x && y ? new Set([...x, ...y]) : undefined;
  return {
    tenant: a.tenant,
    rows: a.rows + b.rows,
    eventTypes: union(a.eventTypes, b.eventTypes),
    indices: union(a.indices, b.indices),
    fromMs: Math.min(a.fromMs, b.fromMs),
    toMs: Math.max(a.toMs, b.toMs),
  };
}
