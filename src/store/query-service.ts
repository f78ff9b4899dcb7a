/**
 * Runs a query written in the query language against a store: parse,
 * resolve the time range, compile and run, and optionally explain. Shared by
 * the HTTP API and the CLI's `query --data-dir`.
 */
import { explainQuery, parseQuery, resolveTimeRange } from '../query/index.ts';
import type { QueryResult, Store } from './store.ts';

export interface QueryInput {
  /** The query text, e.g. `event.type:payment_transaction | stats count() by transaction.gateway`. */
  readonly query: string;
  /** `now-1h` (default), ISO-8601 or epoch ms. */
  readonly from?: string;
  /** `now` (default). */
  readonly to?: string;
  readonly tenant: string;
  /** Also return the plan in plain English and the generated SQL. */
  readonly explain?: boolean;
  readonly timeoutMs?: number;
  /** "now" for relative times, ms (default: the current time). */
  readonly nowMs?: number;
}

export interface QueryAnswer extends QueryResult {
  readonly range: { readonly from: string; readonly to: string };
  readonly explain?: { readonly plan: string; readonly sql: string; readonly params: readonly unknown[] };
}

export async function runQuery(store: Store, input: QueryInput): Promise<QueryAnswer> {
  const query = parseQuery(input.query);
  const range = resolveTimeRange({ from: input.from, to: input.to }, input.nowMs ?? Date.now());
  const request = { query, range, tenant: input.tenant, ...(input.timeoutMs ? { timeoutMs: input.timeoutMs } : {}) };
  const result = await store.query(request);
  const answer: QueryAnswer = {
    ...result,
    range: { from: new Date(range.fromMs).toISOString(), to: new Date(range.toMs).toISOString() },
  };
  if (!input.explain) return answer;
  const compiled = store.explain(request);
  return { ...answer, explain: { plan: explainQuery(query, range), sql: compiled.sql, params: compiled.params } };
}
