/**
 * Runs a query written in the query language against a store: parse,
 * resolve the time range, compile and run, and optionally explain. Shared by
 * the HTTP API and the CLI's `query --data-dir`.
 */
import { explainQuery, parseQuery, resolveTimeRange } from '../query/index.ts';
import type { Filter, TimeRange } from '../query/ir.ts';
import { referencedFields, suggestFields, type FieldMention } from '../query/field-names.ts';
import { EVENT_FIELDS, typedField } from '../schema/fields.ts';
import type { QueryResult, Store } from './store.ts';

export interface QueryInput {
  /** The query text, e.g. `event.type:payment_transaction | stats count() by transaction.gateway`. */
  readonly query: string;
  /** `now-1h` (default), ISO-8601 or epoch ms. */
  readonly from?: string;
  /** `now` (default). */
  readonly to?: string;
  readonly tenant: string;
  /**
   * Whether the caller may read the audit trail (admins). Even then, audit
   * events only show when the filter names `data_class` (e.g.
   * `data_class:audit`), so that the trail of queries never clutters counts.
   */
  readonly auditAccess?: boolean;
  /** Also return the plan in plain English and the generated SQL. */
  readonly explain?: boolean;
  readonly timeoutMs?: number;
  /** Most characters of query text (config `query.maxLength`; default 65,536). */
  readonly maxLength?: number;
  /** "now" for relative times, ms (default: the current time). */
  readonly nowMs?: number;
}

/**
 * A field the query names that is neither in the field catalog nor held by
 * any event of the tenant in the time range: it matches nothing, which is
 * almost always a typo. The answer still runs; the UI shows the warning.
 */
export interface UnknownFieldWarning {
  readonly code: 'query.unknown_field';
  /** The field as written. */
  readonly field: string;
  /** Known fields close to it (catalog names and aliases, attribute names seen), closest first; maybe empty. */
  readonly suggestions: readonly string[];
  /** Offset of its first mention in the query text (0 when not known). */
  readonly position: number;
  readonly message: string;
}

export interface QueryAnswer extends QueryResult {
  readonly range: { readonly from: string; readonly to: string };
  /** Warnings about the query; empty when there is nothing to say. */
  readonly warnings: readonly UnknownFieldWarning[];
  readonly explain?: { readonly plan: string; readonly sql: string; readonly params: readonly unknown[] };
}

export async function runQuery(store: Store, input: QueryInput): Promise<QueryAnswer> {
  const query = parseQuery(input.query, input.maxLength === undefined ? {} : { maxLength: input.maxLength });
  const range = resolveTimeRange({ from: input.from, to: input.to }, input.nowMs ?? Date.now());
  const request = {
    query,
    range,
    tenant: input.tenant,
    ...(input.auditAccess && mentionsField(query.filter, 'data_class') ? {} : { excludeDataClasses: ['audit'] }),
    ...(input.timeoutMs ? { timeoutMs: input.timeoutMs } : {}),
  };
  const [result, warnings] = await Promise.all([
    store.query(request),
    unknownFieldWarnings(store, referencedFields(query), input.tenant, range, input.timeoutMs),
  ]);
  const answer: QueryAnswer = {
    ...result,
    range: { from: new Date(range.fromMs).toISOString(), to: new Date(range.toMs).toISOString() },
    warnings,
  };
  if (!input.explain) return answer;
  const compiled = store.explain(request);
  return { ...answer, explain: { plan: explainQuery(query, range), sql: compiled.sql, params: compiled.params } };
}

/** Most distinct attribute names checked per query (more are not warned about). */
const MAX_CHECKED_FIELDS = 32;

/** Catalog names and aliases, the candidates for suggestions. */
const CATALOG_NAMES: readonly string[] = EVENT_FIELDS.flatMap((f) => [f.name, ...f.aliases]);

/**
 * Warnings for the `fields` that are not typed columns and that no event of
 * the tenant in `range` holds, with suggestions. A failure of the check
 * (e.g. its own timeout) gives no warnings rather than failing the query.
 */
export async function unknownFieldWarnings(
  store: Store,
  fields: readonly FieldMention[],
  tenant: string,
  range: TimeRange,
  timeoutMs?: number,
): Promise<UnknownFieldWarning[]> {
  const attributes = fields.filter((f) => typedField(f.name) === undefined).slice(0, MAX_CHECKED_FIELDS);
  if (attributes.length === 0) return [];
  let checked: Awaited<ReturnType<Store['attributeFields']>>;
  try {
    checked = await store.attributeFields({
      tenant,
      range,
      names: attributes.map((f) => f.name),
      ...(timeoutMs ? { timeoutMs } : {}),
    });
  } catch {
    return [];
  }
  const candidates = [...CATALOG_NAMES, ...checked.seen];
  return attributes
    .filter((f) => !checked.present.has(f.name))
    .map((f) => {
      const suggestions = suggestFields(f.name, candidates);
      const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `"${s}"`).join(' or ')}?` : '';
      return {
        code: 'query.unknown_field',
        field: f.name,
        suggestions,
        position: f.position,
        message: `No field "${f.name}": it is not in the field catalog and no event in the time range has it${hint}`,
      };
    });
}

/** Whether a filter refers to `field` anywhere. */
export function mentionsField(filter: Filter, field: string): boolean {
  switch (filter.kind) {
    case 'and':
    case 'or':
      return filter.items.some((f) => mentionsField(f, field));
    case 'not':
      return mentionsField(filter.item, field);
    case 'match':
    case 'range':
    case 'exists':
      return filter.field === field;
    default:
      return false;
  }
}
