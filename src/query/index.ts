/**
 * The query language: parse text into the IR (./ir.ts), resolve time
 * ranges, and explain a query in plain English.
 */
export type * from './ir.ts';
export { parseQuery, parseFilter } from './parser.ts';
export type { ParseOptions } from './parser.ts';
export { checkQueryLength, MAX_DEPTH, MAX_QUERY_LENGTH, MAX_STAGES, MAX_TERMS } from './limits.ts';
export { MAX_LIMIT } from './pipe-parser.ts';
export { parseTimeExpr, resolveTimeRange } from './time-range.ts';
export type { TimeRangeInput } from './time-range.ts';
export { explainQuery, explainFilter, explainExpr } from './explain.ts';
