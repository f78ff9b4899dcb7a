/**
 * The `stats` stage:
 *
 *   stats item ("," item)* ("by" key ("," key)*)?
 *   item := name "=" agg | agg ("as" name)?
 *   key  := name "=" keyExpr | keyExpr ("as" name)?
 *   keyExpr := field | bin(field, duration)
 *
 * Every aggregation and key gets an output name here (the alias, or a
 * default), so later stages and the compiler never have to invent one.
 */
import type { AggFn, Aggregation, Filter, GroupKey, Stage } from './ir.ts';
import type { ColumnScope } from './column-scope.ts';
import { expectedError, unclosedPosition } from './expr-parser.ts';
import { parseFilterAt } from './filter-parser.ts';
import { describeToken, invalidError, isKeyword, isPunct, quote, syntaxError } from './lexer.ts';
import type { PipeLexer, PipeToken } from './lexer.ts';
import { parseDuration } from '../util/duration.ts';

/** Aggregation names as written, in the order error messages list them. */
const AGG_NAMES = ['count', 'countif', 'sum', 'avg', 'min', 'max', 'dc', 'p50', 'p90', 'p95', 'p99', 'percentile'];

const FIXED_PERCENTILES: Readonly<Record<string, number>> = { p50: 50, p90: 90, p95: 95, p99: 99 };

/** An aggregation before naming, with what naming and scope checks need. */
interface ParsedAgg {
  readonly fn: AggFn;
  readonly field?: string;
  readonly filter?: Filter;
  readonly percentile?: number;
  /** The explicit name, if any. */
  readonly alias?: PipeToken;
}

interface ParsedKey {
  readonly key: GroupKey;
  /** The token naming the output column: the alias, or the field. */
  readonly nameToken: PipeToken;
}

/**
 * Parses a stats stage; the `stats` keyword has been read. Checks the
 * fields it reads against `scope`, then replaces the scope with its output.
 */
export function parseStats(lx: PipeLexer, scope: ColumnScope, kusto = false): Stage {
  const first = lx.peek();
  if (first.kind !== 'ident' || isKeyword(first, 'by')) {
    throw syntaxError(
      `Expected an aggregation such as count() or avg(field) after "stats" but found ${describeToken(first)}; ` +
        'a stats stage needs at least one',
      first.start,
    );
  }
  const aggs: ParsedAgg[] = [];
  do {
    aggs.push(parseAggItem(lx, scope));
  } while (lx.accept(','));

  const keys: ParsedKey[] = [];
  if (isKeyword(lx.peek(), 'by')) {
    lx.next();
    do {
      keys.push(parseKeyItem(lx, scope));
    } while (lx.accept(','));
  }
  const named = nameAggregations(aggs, keys, kusto);
  scope.set([...named.map((a) => a.as), ...keys.map((k) => k.key.as)], 'stats');
  return { kind: 'stats', aggs: named, by: keys.map((k) => k.key) };
}

function parseAggItem(lx: PipeLexer, scope: ColumnScope): ParsedAgg {
  if (lx.peek().kind !== 'ident') throw expectedError(lx, 'an aggregation such as count() or avg(field)');
  const first = lx.next();
  if (isPunct(lx.peek(), '=')) {
    // Kusto style: `name = agg(...)`.
    lx.next();
    if (lx.peek().kind !== 'ident') throw expectedError(lx, 'an aggregation such as count() or avg(field)');
    return { ...parseAggCall(lx, lx.next(), scope), alias: first };
  }
  const agg = parseAggCall(lx, first, scope);
  if (!isKeyword(lx.peek(), 'as')) return agg;
  lx.next();
  return { ...agg, alias: expectName(lx, 'a column name') };
}

/** `fn(...)`; `name` has been read. */
function parseAggCall(lx: PipeLexer, name: PipeToken, scope: ColumnScope): ParsedAgg {
  const written = name.value.toLowerCase();
  if (name.quoted || !AGG_NAMES.includes(written)) {
    throw invalidError(`Unknown aggregation ${quote(name.value)}; expected one of ${AGG_NAMES.join(', ')}`, name.start);
  }
  if (!isPunct(lx.peek(), '(')) throw expectedError(lx, `"(" to start the arguments of ${written}()`);
  const open = lx.next();
  let agg: ParsedAgg;
  if (written === 'count') {
    const found = lx.peek();
    if (!isPunct(found, ')') && found.kind !== 'eof' && !isPunct(found, '|')) {
      throw syntaxError(
        `Expected ")" after "count(" but found ${describeToken(found)}; count() takes no arguments ` +
          '(to count matching events use countif(filter))',
        found.start,
      );
    }
    agg = { fn: 'count' };
  } else if (written === 'countif') {
    agg = { fn: 'countif', filter: parseCountIfFilter(lx, open, scope) };
  } else if (written === 'percentile') {
    const field = expectField(lx, scope);
    if (!isPunct(lx.peek(), ',')) throw expectedError(lx, '"," and a percentile such as 95');
    lx.next();
    agg = { fn: 'percentile', field, percentile: expectPercentile(lx) };
  } else {
    const fixed = FIXED_PERCENTILES[written];
    const field = expectField(lx, scope);
    agg =
      fixed === undefined
        ? { fn: written as Exclude<AggFn, 'count' | 'countif' | 'percentile'>, field }
        : { fn: 'percentile', field, percentile: fixed };
  }
  expectClose(lx, open, `${written}(`);
  return agg;
}

/** The KQL filter inside `countif( ... )`; the `(` has been read. */
function parseCountIfFilter(lx: PipeLexer, open: PipeToken, scope: ColumnScope): Filter {
  const { filter, end } = parseFilterAt(lx.text, open.end, { label: 'countif(', position: open.start }, lx.budget);
  if (filter.kind === 'all' && lx.text.slice(open.end, end).trim() === '') {
    throw syntaxError('Expected a filter inside countif(), e.g. countif(event.outcome:failure), but found ")"', end);
  }
  lx.reset(end);
  scope.checkFilter(filter);
  return filter;
}

function expectPercentile(lx: PipeLexer): number {
  const token = lx.peek();
  if (token.kind !== 'number') throw expectedError(lx, 'a percentile between 0 and 100, such as 95');
  lx.next();
  const value = Number(token.raw);
  if (!(value > 0 && value < 100)) {
    throw invalidError(`Expected a percentile between 0 and 100 (exclusive) but found ${token.raw}`, token.start);
  }
  return value;
}

function parseKeyItem(lx: PipeLexer, scope: ColumnScope): ParsedKey {
  const what = 'a group key (a field or bin(field, interval))';
  if (lx.peek().kind !== 'ident') throw expectedError(lx, what);
  const first = lx.next();
  let alias: PipeToken | undefined;
  let keyToken = first;
  if (isPunct(lx.peek(), '=')) {
    lx.next();
    alias = first;
    if (lx.peek().kind !== 'ident') throw expectedError(lx, what);
    keyToken = lx.next();
  }
  const isBin = !keyToken.quoted && keyToken.value.toLowerCase() === 'bin' && isPunct(lx.peek(), '(');
  let field = keyToken;
  let intervalMs: number | undefined;
  if (isBin) {
    const open = lx.next();
    field = expectName(lx, 'a field name');
    if (!isPunct(lx.peek(), ',')) throw expectedError(lx, '"," and an interval such as 5m');
    lx.next();
    intervalMs = expectInterval(lx);
    expectClose(lx, open, 'bin(');
  }
  scope.check(field.value, field.start);
  if (alias === undefined && isKeyword(lx.peek(), 'as')) {
    lx.next();
    alias = expectName(lx, 'a column name');
  }
  const as = alias?.value ?? field.value;
  const key: GroupKey =
    intervalMs === undefined
      ? { kind: 'field', field: field.value, as }
      : { kind: 'bin', field: field.value, intervalMs, as };
  return { key, nameToken: alias ?? field };
}

/** A bin interval: `5m`, `1h30m`, or the same in quotes. */
function expectInterval(lx: PipeLexer): number {
  const token = lx.peek();
  if (token.kind !== 'duration' && token.kind !== 'string' && token.kind !== 'number') {
    throw expectedError(lx, 'an interval such as 5m');
  }
  lx.next();
  let ms: number;
  try {
    ms = parseDuration(token.value);
  } catch (err) {
    throw invalidError(`Invalid bin interval: ${(err as Error).message}`, token.start);
  }
  if (ms <= 0)
    throw invalidError(`Expected a bin interval greater than zero but found ${quote(token.raw)}`, token.start);
  return ms;
}

function expectField(lx: PipeLexer, scope: ColumnScope): string {
  const token = expectName(lx, 'a field name');
  scope.check(token.value, token.start);
  return token.value;
}

/** A name token (dotted or backtick-quoted). */
export function expectName(lx: PipeLexer, what: string): PipeToken {
  const token = lx.peek();
  if (token.kind !== 'ident' || token.value === '') throw expectedError(lx, what);
  return lx.next();
}

function expectClose(lx: PipeLexer, open: PipeToken, label: string): void {
  const found = lx.peek();
  if (!isPunct(found, ')')) {
    throw syntaxError(
      `Expected ")" to close ${quote(label)} at position ${open.start} but found ${describeToken(found)}`,
      unclosedPosition(open, found),
    );
  }
  lx.next();
}

/**
 * Gives every aggregation its output name. Explicit names (and key names)
 * must be unique; default names are made unique by appending `_2`, `_3`, ...
 */
function nameAggregations(aggs: readonly ParsedAgg[], keys: readonly ParsedKey[], kusto: boolean): Aggregation[] {
  const used = new Set<string>();
  const explicit = [...aggs.flatMap((a) => (a.alias === undefined ? [] : [a.alias])), ...keys.map((k) => k.nameToken)];
  for (const token of explicit) {
    if (used.has(token.value)) {
      throw invalidError(
        `Expected a unique column name in stats but found ${quote(token.value)} twice; rename one with "as"`,
        token.start,
      );
    }
    used.add(token.value);
  }
  return aggs.map((agg) => {
    let as = agg.alias?.value;
    if (as === undefined) {
      // Kusto's `summarize` names `count()` `count_` (and `sum(x)` `sum_x`, as here).
      const base = kusto && (agg.fn === 'count' || agg.fn === 'countif') ? `${agg.fn}_` : defaultName(agg);
      as = base;
      for (let n = 2; used.has(as); n++) as = `${base}_${n}`;
      used.add(as);
    }
    return toAggregation(agg, as);
  });
}

function defaultName(agg: ParsedAgg): string {
  if (agg.fn === 'count' || agg.fn === 'countif') return agg.fn;
  if (agg.fn === 'percentile') return `p${String(agg.percentile).replace('.', '_')}_${agg.field ?? ''}`;
  return `${agg.fn}_${agg.field ?? ''}`;
}

/** Builds the IR node, leaving out absent optional fields so that it compares cleanly. */
function toAggregation(agg: ParsedAgg, as: string): Aggregation {
  return {
    fn: agg.fn,
    ...(agg.field === undefined ? {} : { field: agg.field }),
    ...(agg.filter === undefined ? {} : { filter: agg.filter }),
    ...(agg.percentile === undefined ? {} : { percentile: agg.percentile }),
    as,
  };
}
