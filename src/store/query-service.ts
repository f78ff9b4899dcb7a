/**
 * Runs a query written in the query language against a store: parse,
 * resolve the time range, compile and run, and optionally explain. Shared by
 * the HTTP API and the CLI's `query --data-dir`.
 */
import { explainQuery, parseQuery, resolveTimeRange } from '../query/index.ts';
import type { Filter } from '../query/ir.ts';
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

export interface QueryAnswer extends QueryResult {
  readonly range: { readonly from: string; readonly to: string };
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
  const result = await store.query(request);
  const answer: QueryAnswer = {
    ...result,
    range: { from: new Date(range.fromMs).toISOString(), to: new Date(range.toMs).toISOString() },
  };
  if (!input.explain) return answer;
  const compiled = store.explain(request);
  return { ...answer, explain: { plan: explainQuery(query, range), sql: compiled.sql, params: compiled.params } };
}

/** Whether a filter refers to `field` anywhere. */
function mentionsField(filter: Filter, field: string): boolean {
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
