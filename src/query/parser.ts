/**
 * Entry points of the query language: a KQL-style filter, then optional
 * pipe stages. See filter-parser.ts and pipe-parser.ts for the grammar.
 */
import type { Filter, Query } from './ir.ts';
import { parseFilterAt } from './filter-parser.ts';
import { quote, syntaxError } from './lexer.ts';
import { checkQueryLength, MAX_QUERY_LENGTH, QueryBudget } from './limits.ts';
import { parseStages } from './pipe-parser.ts';
import { kustoTableAt, overTable } from './kusto-tables.ts';

/** Bounds a caller may tighten (the server passes its config). */
export interface ParseOptions {
  /** Most characters of query text (default MAX_QUERY_LENGTH). */
  readonly maxLength?: number;
}

/**
 * Parses a whole query, e.g.
 * `event.type:api_request | stats count() as total by http.route | sort total desc`.
 * An empty query (or one starting with `|`) filters nothing.
 *
 * @throws QueryError (`query.syntax` or `query.invalid`) with the 0-based
 *   position of the offending text; `query.too_long`, `query.too_deep` or
 *   `query.too_complex` past the bounds of ./limits.ts.
 */
export function parseQuery(text: string, options: ParseOptions = {}): Query {
  checkQueryLength(text, options.maxLength ?? MAX_QUERY_LENGTH);
  const budget = new QueryBudget();
  // `exceptions | ...`: a Kusto table name instead of a filter (kusto-tables.ts).
  const kusto = kustoTableAt(text);
  if (kusto) return overTable(kusto.table, parseStages(text, kusto.stagesAt, budget));
  const { filter, end } = parseFilterAt(text, 0, undefined, budget);
  return { filter, stages: parseStages(text, end, budget) };
}

/**
 * Parses a filter on its own (no pipe stages), e.g. for alert rules and
 * dashboard panels that store just a filter.
 *
 * @throws QueryError as parseQuery does; a `|` is reported as unexpected.
 */
export function parseFilter(text: string, options: ParseOptions = {}): Filter {
  checkQueryLength(text, options.maxLength ?? MAX_QUERY_LENGTH);
  const { filter, end } = parseFilterAt(text, 0);
  if (end < text.length) {
    throw syntaxError(
      `Expected end of filter but found ${quote(text.charAt(end))}; pipe stages are not allowed here`,
      end,
    );
  }
  return filter;
}
