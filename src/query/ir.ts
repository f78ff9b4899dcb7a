/**
 * The query IR: what the query language parses into and what every store
 * dialect compiles to SQL. It names fields by their dotted names as users
 * write them (`payment.risk_score`); resolving a name to a typed column or to
 * an attribute is the compiler's job (see `src/schema/fields.ts`).
 *
 * The IR is plain JSON-serialisable data so that rules, dashboards and the
 * UI can store and exchange it.
 */

/** A position in the query text: 0-based character offsets, end exclusive. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A filter value as written. The compiler decides how to read it for the field's type. */
export interface FilterValue {
  /** The text of the value with quotes and escapes removed. */
  readonly text: string;
  /** True when the user wrote it in double quotes: no wildcard expansion then. */
  readonly quoted: boolean;
}

/**
 * The filter part of a query (Kibana KQL style).
 *
 * - `match`: `field:value`. Unquoted values may contain `*` wildcards
 *   (`url.path:/api/cart/*`). Numeric fields compare numerically.
 * - `range`: `field:>75`, `field:>=80`, `field:<3`, `field:<=3`.
 * - `exists`: `field:*` — the field is present (and, for arrays, not empty).
 * - `text`: free text, matched case-insensitively against the message and
 *   error message. A field-less value.
 * - `all`: the empty filter.
 */
export type Filter =
  | { readonly kind: 'and'; readonly items: readonly Filter[] }
  | { readonly kind: 'or'; readonly items: readonly Filter[] }
  | { readonly kind: 'not'; readonly item: Filter }
  | { readonly kind: 'match'; readonly field: string; readonly value: FilterValue; readonly span?: Span }
  | {
      readonly kind: 'range';
      readonly field: string;
      readonly op: RangeOp;
      readonly value: FilterValue;
      readonly span?: Span;
    }
  | { readonly kind: 'exists'; readonly field: string; readonly span?: Span }
  | { readonly kind: 'text'; readonly value: FilterValue; readonly span?: Span }
  | { readonly kind: 'all' };

export type RangeOp = '>' | '>=' | '<' | '<=';

/** Aggregation functions of the `stats` stage. */
export type AggFn = 'count' | 'countif' | 'sum' | 'avg' | 'min' | 'max' | 'dc' | 'percentile';

/**
 * One aggregation in `| stats`. `as` is always filled in by the parser: the
 * alias the user gave, or a default name (`count`, `sum_transaction.amount`,
 * `p95_event.duration`, `countif`, ...), made unique within the stage.
 */
export interface Aggregation {
  readonly fn: AggFn;
  /** The field aggregated; absent for count() and countif(). */
  readonly field?: string;
  /** For countif(<filter>). */
  readonly filter?: Filter;
  /** For percentile: 0 < p < 100 (p95 → 95). */
  readonly percentile?: number;
  readonly as: string;
}

/** A group key in `| stats ... by k1, k2`. */
export type GroupKey =
  | { readonly kind: 'field'; readonly field: string; readonly as: string }
  /** `bin(@timestamp, 5m)`: time buckets of `intervalMs` milliseconds. */
  | { readonly kind: 'bin'; readonly field: string; readonly intervalMs: number; readonly as: string };

/**
 * Row expressions for `where`, `eval` and `sort`. A `column` refers to a
 * column of the current relation: before `stats` that is any event field
 * (dotted name), after `stats` it is an output name of `stats` or `eval`.
 */
export type Expr =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'column'; readonly name: string; readonly span?: Span }
  | { readonly kind: 'unary'; readonly op: '-' | 'not'; readonly arg: Expr }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr }
  /** Scalar functions: abs, round(x[, digits]), floor, ceil, coalesce, lower, upper, if(cond, a, b). */
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly Expr[] };

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '=' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or';

export interface SortKey {
  readonly expr: Expr;
  readonly desc: boolean;
}

/** Pipe stages, applied in order after the filter. */
export type Stage =
  | { readonly kind: 'stats'; readonly aggs: readonly Aggregation[]; readonly by: readonly GroupKey[] }
  | { readonly kind: 'where'; readonly expr: Expr }
  | { readonly kind: 'eval'; readonly assignments: readonly { readonly name: string; readonly expr: Expr }[] }
  | { readonly kind: 'sort'; readonly keys: readonly SortKey[] }
  | { readonly kind: 'limit'; readonly n: number }
  | { readonly kind: 'fields'; readonly fields: readonly string[] };

/** A whole parsed query: filter then stages. */
export interface Query {
  readonly filter: Filter;
  readonly stages: readonly Stage[];
}

/** A resolved, absolute time range. Milliseconds since the epoch; `from` inclusive, `to` exclusive. */
export interface TimeRange {
  readonly fromMs: number;
  readonly toMs: number;
}
