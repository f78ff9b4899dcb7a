/**
 * Bounds on what one query may ask for, so that no client text can block
 * the event loop, overflow the stack or build SQL the engine chokes on
 * (docs/query-language.md, "Limits"). Each limit answers a 400 that
 * names it:
 *
 * - `query.too_long`: the text is longer than `maxLength` characters
 *   (config `query.maxLength`, default 65,536), checked before anything
 *   scans the text;
 * - `query.too_deep`: parentheses, NOT, unary minus, function calls and
 *   `field:( ... )` groups nest more than MAX_DEPTH levels;
 * - `query.too_complex`: more than MAX_TERMS terms (filter terms and
 *   expression operands), more than MAX_STAGES pipe stages, or an
 *   expression whose SQL would exceed MAX_EXPRESSION_SQL characters (an
 *   `eval` that refers to itself twice per step doubles at each step), or
 *   more than MAX_ATTRIBUTE_REFERENCES reads of attribute fields.
 */
import { QueryError } from '../errors.ts';

/** Default for config `query.maxLength`: characters of query text. */
export const MAX_QUERY_LENGTH = 65_536;
/** Nesting levels of parentheses, NOT, unary minus, calls and field groups. */
export const MAX_DEPTH = 64;
/**
 * Filter terms plus expression operands in one query, as Elasticsearch's
 * `indices.query.bool.max_clause_count` (1,024 before 8.0).
 */
export const MAX_TERMS = 1024;
/** Pipe stages in one query (each may nest the SQL one level deeper). */
export const MAX_STAGES = 64;
/**
 * Reads of attribute fields (no typed column) in one compiled query. Each
 * is a JSON extraction per row, and DuckDB holds the parse of each one of
 * an OR at once (about 16 MB per 2,048 rows of 2 KB attributes).
 */
export const MAX_ATTRIBUTE_REFERENCES = 32;
/** Characters of SQL one compiled expression may grow to. */
export const MAX_EXPRESSION_SQL = 1_000_000;

/** Throws `query.too_long` (400) when `text` is longer than `maxLength` characters. */
export function checkQueryLength(text: string, maxLength: number = MAX_QUERY_LENGTH): void {
  if (text.length <= maxLength) return;
  throw new QueryError(
    'query.too_long',
    `The query is ${text.length} characters long; the limit is ${maxLength} characters (query.maxLength)`,
    maxLength,
  );
}

/**
 * Counts nesting and terms while one query is parsed. The filter parser,
 * the expression parser and the stage parser share one budget per query.
 */
export class QueryBudget {
  #depth = 0;
  #terms = 0;
  #stages = 0;

  /** Enters one nesting level at `position`; pair with leave(). */
  enter(position: number): void {
    if (++this.#depth > MAX_DEPTH) {
      throw new QueryError(
        'query.too_deep',
        `The query nests more than ${MAX_DEPTH} levels deep at position ${position} ` +
          `(parentheses, NOT, unary minus, function calls); the limit is ${MAX_DEPTH} levels`,
        position,
      );
    }
  }

  leave(): void {
    this.#depth--;
  }

  /** Counts one filter term or expression operand at `position`. */
  term(position: number): void {
    if (++this.#terms > MAX_TERMS) {
      throw new QueryError(
        'query.too_complex',
        `The query has more than ${MAX_TERMS} terms (at position ${position}); the limit is ${MAX_TERMS} terms ` +
          'per query: use fewer values, or a wildcard',
        position,
      );
    }
  }

  /** Counts one pipe stage at `position`. */
  stage(position: number): void {
    if (++this.#stages > MAX_STAGES) {
      throw new QueryError(
        'query.too_complex',
        `The query has more than ${MAX_STAGES} stages (at position ${position}; after stats each eval ` +
          `assignment counts as one); the limit is ${MAX_STAGES} stages`,
        position,
      );
    }
  }
}
