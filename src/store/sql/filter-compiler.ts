/**
 * Filter IR → SQL boolean expression, with every user value as a parameter.
 */
import { QueryError } from '../../errors.ts';
import type { Filter, FilterValue, RangeOp } from '../../query/ir.ts';
import { parseTimeExpr } from '../../query/time-range.ts';
import { canonicalEventType } from '../../schema/event-types.ts';
import { resolveField } from '../../schema/fields.ts';
import type { ParamList } from './param-list.ts';
import type { ColumnRef, Scope } from './scope.ts';
import type { SqlDialect } from './sql-dialect.ts';

/** Context shared by the filter and expression compilers. */
export interface CompileContext {
  readonly dialect: SqlDialect;
  readonly params: ParamList;
  /** "now" for relative times inside filters (`@timestamp:>now-5m`), ms. */
  readonly nowMs: number;
}

/** Fields searched by free text. */
const FREE_TEXT_FIELDS = ['message', 'exception.message'] as const;

const NUMERIC = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;

/** True when an unquoted value has an unescaped `*`. */
export function hasWildcard(value: FilterValue): boolean {
  if (value.quoted) return false;
  for (let i = 0; i < value.text.length; i++) {
    const ch = value.text[i];
    if (ch === '\\') i++;
    else if (ch === '*') return true;
  }
  return false;
}

/** The value without wildcard escapes (`a\*b` → `a*b`) for exact comparisons. */
export function literalText(value: FilterValue): string {
  return value.quoted ? value.text : value.text.replace(/\\(.)/g, '$1');
}

/** KQL wildcard value → SQL LIKE pattern escaped with backslash. */
export function likePattern(value: FilterValue): string {
  // One pass, characters collected in an array and joined once.
  const out: string[] = [];
  const text = value.text;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\' && i + 1 < text.length) {
      out.push(escapeLike(text[++i] as string));
    } else if (ch === '*' && !value.quoted) {
      // Runs of stars are one `%`: `a**b` means what `a*b` does, and the
      // engine's LIKE never sees a run to backtrack over.
      if (out[out.length - 1] !== '%') out.push('%');
    } else {
      out.push(escapeLike(ch));
    }
  }
  return out.join('');
}

function escapeLike(ch: string): string {
  return ch === '%' || ch === '_' || ch === '\\' ? `\\${ch}` : ch;
}

const SQL_OP: Record<RangeOp, string> = { '>': '>', '>=': '>=', '<': '<', '<=': '<=' };

export function compileFilter(filter: Filter, scope: Scope, ctx: CompileContext): string {
  switch (filter.kind) {
    case 'all':
      return '1 = 1';
    case 'and':
      return filter.items.length === 0
        ? '1 = 1'
        : `(${filter.items.map((f) => compileFilter(f, scope, ctx)).join(' AND ')})`;
    case 'or':
      return filter.items.length === 0 ? '1 = 0' : `(${compileAlternatives(filter.items, scope, ctx).join(' OR ')})`;
    case 'not':
      // `1 = 0` rather than `false`, which ClickHouse before 21 does not know.
      return `(NOT coalesce(${compileFilter(filter.item, scope, ctx)}, 1 = 0))`;
    case 'exists':
      return scope.resolve(filter.field, filter.span?.start ?? 0).existsSql;
    case 'match':
      return compileMatch(
        scope.resolve(filter.field, filter.span?.start ?? 0),
        filter.value,
        filter.span?.start ?? 0,
        ctx,
      );
    case 'range':
      return compileRange(
        scope.resolve(filter.field, filter.span?.start ?? 0),
        filter.op,
        filter.value,
        filter.span?.start ?? 0,
        ctx,
      );
    case 'text':
      return compileFreeText(filter.value, scope, filter.span?.start ?? 0, ctx);
  }
}

/** Exact values of one field in an OR, compiled together as `IN (...)`. */
interface ValueList {
  readonly ref: ColumnRef;
  readonly position: number;
  readonly values: FilterValue[];
}

/**
 * The alternatives of an OR. Exact matches on one keyword, number or
 * attribute field (`a:(x or y or ...)`) become one `IN (...)`: the value is
 * read once per row instead of once per alternative, which matters for
 * attributes (DuckDB parses the JSON for every extraction in an OR, and
 * holds each one's parse at once: 50 alternatives on a 2 KB attributes
 * column ran out of 1 GB where one IN takes 35 ms).
 */
function compileAlternatives(items: readonly Filter[], scope: Scope, ctx: CompileContext): string[] {
  const out: (string | ValueList)[] = [];
  const lists = new Map<string, ValueList>();
  // Each field is resolved once (an attribute's path is one parameter).
  const refs = new Map<string, ColumnRef>();
  for (const item of items) {
    if (item.kind === 'match' && !hasWildcard(item.value)) {
      const position = item.span?.start ?? 0;
      let ref = refs.get(item.field);
      if (!ref) {
        ref = scope.resolve(item.field, position);
        refs.set(item.field, ref);
      }
      if (ref.type === 'keyword' || ref.type === 'attribute' || ref.type === 'double' || ref.type === 'integer') {
        let list = lists.get(item.field);
        if (!list) {
          list = { ref, position, values: [] };
          lists.set(item.field, list);
          out.push(list);
        }
        list.values.push(item.value);
        continue;
      }
      out.push(compileMatch(ref, item.value, position, ctx));
      continue;
    }
    out.push(compileFilter(item, scope, ctx));
  }
  return out.map((part) => (typeof part === 'string' ? part : compileValueList(part, ctx)));
}

function compileValueList(list: ValueList, ctx: CompileContext): string {
  const { ref, position } = list;
  const [only] = list.values;
  if (list.values.length === 1 && only !== undefined) return compileMatch(ref, only, position, ctx);
  const { params } = ctx;
  const values = list.values.map(literalText);
  const strings = (texts: readonly string[]) => texts.map((t) => params.add(t, 'string')).join(', ');
  switch (ref.type) {
    case 'double':
    case 'integer': {
      const bad = values.find((v) => !NUMERIC.test(v));
      if (bad !== undefined) {
        throw new QueryError('query.invalid', `"${ref.name}" holds numbers, but "${bad}" is not a number`, position);
      }
      return `${ref.sql} IN (${values.map((v) => params.add(Number(v), 'double')).join(', ')})`;
    }
    case 'attribute': {
      // As for one value: numbers may be stored as JSON numbers or strings.
      const numbers = list.values.filter((v) => !v.quoted && NUMERIC.test(v.text)).map((v) => v.text);
      const inStrings = `${ref.sql} IN (${strings(values)})`;
      if (numbers.length === 0) return inStrings;
      return `(${inStrings} OR ${ref.numberSql} IN (${numbers.map((v) => params.add(Number(v), 'double')).join(', ')}))`;
    }
    default: {
      const wanted = ref.name === 'event.type' ? values.map(canonicalEventType) : values;
      return `${ref.sql} IN (${strings(wanted)})`;
    }
  }
}

function compileMatch(ref: ColumnRef, value: FilterValue, position: number, ctx: CompileContext): string {
  const { dialect: d, params } = ctx;
  const wildcard = hasWildcard(value);
  const text = literalText(value);
  switch (ref.type) {
    case 'keyword': {
      if (wildcard) return d.like(ref.sql, params.add(likePattern(value), 'string'));
      const wanted = ref.name === 'event.type' ? canonicalEventType(text) : text;
      return `${ref.sql} = ${params.add(wanted, 'string')}`;
    }
    case 'text': {
      if (wildcard) return d.like(`lower(${ref.sql})`, params.add(`%${likePattern(value).toLowerCase()}%`, 'string'));
      return d.containsLower(ref.sql, params.add(text.toLowerCase(), 'string'));
    }
    case 'double':
    case 'integer': {
      if (!NUMERIC.test(text)) {
        throw new QueryError('query.invalid', `"${ref.name}" holds numbers, but "${text}" is not a number`, position);
      }
      return `${ref.sql} = ${params.add(Number(text), 'double')}`;
    }
    case 'timestamp':
      return `${ref.sql} = ${params.add(timeParamValue(text, ref.name, position, ctx), 'timestamp')}`;
    case 'keyword[]':
      return wildcard
        ? d.arrayAnyLike(ref.sql, params.add(likePattern(value), 'string'))
        : d.arrayContains(ref.sql, params.add(text, 'string'));
    case 'attribute': {
      if (wildcard) return d.like(ref.sql, params.add(likePattern(value), 'string'));
      if (!value.quoted && NUMERIC.test(text)) {
        // Attributes are untyped: 15 may be stored as the JSON number 15 or the string "15".
        return `(${ref.sql} = ${params.add(text, 'string')} OR ${ref.numberSql} = ${params.add(Number(text), 'double')})`;
      }
      return `${ref.sql} = ${params.add(text, 'string')}`;
    }
  }
}

function compileRange(ref: ColumnRef, op: RangeOp, value: FilterValue, position: number, ctx: CompileContext): string {
  const { params } = ctx;
  const text = literalText(value);
  const sqlOp = SQL_OP[op];
  switch (ref.type) {
    case 'double':
    case 'integer':
      if (!NUMERIC.test(text)) {
        throw new QueryError('query.invalid', `"${ref.name}" holds numbers, but "${text}" is not a number`, position);
      }
      return `${ref.sql} ${sqlOp} ${params.add(Number(text), 'double')}`;
    case 'timestamp':
      return `${ref.sql} ${sqlOp} ${params.add(timeParamValue(text, ref.name, position, ctx), 'timestamp')}`;
    case 'attribute':
      if (NUMERIC.test(text) && !value.quoted) return `${ref.numberSql} ${sqlOp} ${params.add(Number(text), 'double')}`;
      return `${ref.sql} ${sqlOp} ${params.add(text, 'string')}`;
    default:
      return `${ref.sql} ${sqlOp} ${params.add(text, 'string')}`;
  }
}

function compileFreeText(value: FilterValue, scope: Scope, position: number, ctx: CompileContext): string {
  if (!scope.isEvents) {
    throw new QueryError(
      'query.invalid',
      'Free-text search needs events; after "stats" name a column, e.g. count:>5',
      position,
    );
  }
  const { dialect: d, params } = ctx;
  const parts = FREE_TEXT_FIELDS.map((name) => {
    const field = resolveField(name);
    const column = field.kind === 'column' ? d.quoteIdent(field.def.column) : name;
    return hasWildcard(value)
      ? d.like(`lower(${column})`, params.add(`%${likePattern(value).toLowerCase()}%`, 'string'))
      : d.containsLower(column, params.add(literalText(value).toLowerCase(), 'string'));
  });
  return `(${parts.join(' OR ')})`;
}

/** A time value in a filter, as epoch microseconds. */
function timeParamValue(text: string, field: string, position: number, ctx: CompileContext): number {
  try {
    return parseTimeExpr(text, ctx.nowMs) * 1000;
  } catch {
    throw new QueryError(
      'query.invalid',
      `"${field}" holds times, but "${text}" is not a time; use ISO-8601 (2025-06-28T14:30:00Z), epoch milliseconds or now-15m`,
      position,
    );
  }
}
