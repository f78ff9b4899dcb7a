import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QueryError } from '../../src/errors.ts';
import { parseQuery } from '../../src/query/index.ts';

const STAGES = 'stats, summarize, where, eval, extend, sort, order by, top, limit, head, take, fields';
const AGGS = 'count, countif, sum, avg, min, max, dc, p50, p90, p95, p99, percentile';

/** [query, code, position, exact message] */
type Case = readonly [string, 'query.syntax' | 'query.invalid', number, string];

function expectError([query, code, position, message]: Case): void {
  assert.throws(
    () => parseQuery(query),
    (err: unknown) => {
      assert.ok(err instanceof QueryError, `not a QueryError: ${String(err)}`);
      assert.equal(err.message, message, query);
      assert.equal(err.code, code, query);
      assert.equal(err.position, position, query);
      assert.equal(err.status, 400);
      assert.deepEqual(err.details, { position });
      return true;
    },
    query,
  );
}

describe('filter errors', () => {
  const cases: Case[] = [
    ['message:"abc', 'query.syntax', 8, 'Unclosed quote starting at position 8'],
    ['(a:1 OR b:2', 'query.syntax', 0, 'Expected ")" to close "(" at position 0 but found end of query'],
    ['x:1 AND (a:1 | limit 1', 'query.syntax', 8, 'Expected ")" to close "(" at position 8 but found "|"'],
    ['a:1 AND', 'query.syntax', 7, 'Expected a filter term after "AND" but found end of query'],
    ['a:1 or', 'query.syntax', 6, 'Expected a filter term after "or" but found end of query'],
    ['a:1 AND AND b:2', 'query.syntax', 8, 'Expected a filter term after "AND" but found "AND"'],
    ['NOT', 'query.syntax', 3, 'Expected a filter term after "NOT" but found end of query'],
    ['OR a:1', 'query.syntax', 0, 'Expected a filter term but found "OR"'],
    ['event.type:', 'query.syntax', 11, 'Expected a value after "event.type:" but found end of query'],
    ['event.type: | limit 1', 'query.syntax', 12, 'Expected a value after "event.type:" but found "|"'],
    ['(event.type:)', 'query.syntax', 12, 'Expected a value after "event.type:" but found ")"'],
    ['a:1 )', 'query.syntax', 4, 'Unexpected ")" at position 4: there is no "(" for it to close'],
    [
      'payment.risk_score:>',
      'query.syntax',
      20,
      'Expected a value after "payment.risk_score:>" but found end of query',
    ],
    ['f: >= ', 'query.syntax', 6, 'Expected a value after "f:>=" but found end of query'],
    [
      'f:>1*',
      'query.invalid',
      3,
      'Expected a plain value after "f:>" but found the wildcard pattern "1*"; ranges do not take wildcards',
    ],
    [
      'foo-bar:baz',
      'query.syntax',
      0,
      'Expected a field name before ":" (letters, digits, "_" and "." parts, optionally starting with "@") ' +
        'but found "foo-bar"; to search for text containing ":", quote it or write "\\:"',
    ],
    [
      'a:1 foo(bar)',
      'query.syntax',
      7,
      'Expected whitespace or an operator after "foo" but found "("; to include "(" in a value, escape it as "\\(" or quote the whole value',
    ],
    [
      'url:/a\\*b*',
      'query.invalid',
      4,
      'Expected either "*" wildcards or escaped "\\*"/"\\\\" in "/a\\*b*" but found both; ' +
        'a wildcard pattern cannot also contain a literal star or backslash',
    ],
    ['f:(a or', 'query.syntax', 7, 'Expected a value after "or" but found end of query'],
    ['f:(or a)', 'query.syntax', 3, 'Expected a value for "f" after "(" but found "or"'],
    ['f:(a b', 'query.syntax', 2, 'Expected ")" to close "(" at position 2 but found end of query'],
    ['trailing\\', 'query.syntax', 8, 'Expected a character after "\\" at position 8 but found end of query'],
  ];
  for (const c of cases) it(c[0], () => expectError(c));
});

describe('stage errors', () => {
  const cases: Case[] = [
    ['a:1 | frobnicate x', 'query.syntax', 6, `Unknown stage "frobnicate"; expected one of ${STAGES}`],
    ['a:1 |', 'query.syntax', 5, `Expected a stage name (${STAGES}) after "|" but found end of query`],
    ['a:1 | | limit 1', 'query.syntax', 6, `Expected a stage name (${STAGES}) after "|" but found "|"`],
    ['| limit 10 20', 'query.syntax', 11, 'Expected "|" or end of query after the limit stage but found "20"'],
    ['| stats avgg(x)', 'query.invalid', 8, `Unknown aggregation "avgg"; expected one of ${AGGS}`],
    [
      '| stats',
      'query.syntax',
      7,
      'Expected an aggregation such as count() or avg(field) after "stats" but found end of query; a stats stage needs at least one',
    ],
    [
      '| stats by route',
      'query.syntax',
      8,
      'Expected an aggregation such as count() or avg(field) after "stats" but found "by"; a stats stage needs at least one',
    ],
    [
      '| stats count(x)',
      'query.syntax',
      14,
      'Expected ")" after "count(" but found "x"; count() takes no arguments (to count matching events use countif(filter))',
    ],
    ['| stats sum(1)', 'query.syntax', 12, 'Expected a field name after "(" but found "1"'],
    [
      '| stats percentile(d, 100)',
      'query.invalid',
      22,
      'Expected a percentile between 0 and 100 (exclusive) but found 100',
    ],
    [
      '| stats countif(a:1',
      'query.syntax',
      15,
      'Expected ")" to close "countif(" at position 15 but found end of query',
    ],
    [
      '| stats countif( )',
      'query.syntax',
      17,
      'Expected a filter inside countif(), e.g. countif(event.outcome:failure), but found ")"',
    ],
    [
      '| stats count() by bin(@timestamp, 5x)',
      'query.invalid',
      35,
      'Invalid bin interval: Invalid duration "5x": cannot read "5x"; expected a whole number followed by a unit ' +
        '(ms, s, m, h, d, w), e.g. 250ms, 10s, 5m, 1h30m, 7d',
    ],
    [
      '| stats count() by bin(@timestamp, 0m)',
      'query.invalid',
      35,
      'Expected a bin interval greater than zero but found "0m"',
    ],
    [
      '| stats count() by bin(@timestamp 5m)',
      'query.syntax',
      34,
      'Expected "," and an interval such as 5m after "@timestamp" but found "5m"',
    ],
    [
      '| stats count() as n, sum(x) as n',
      'query.invalid',
      32,
      'Expected a unique column name in stats but found "n" twice; rename one with "as"',
    ],
    ['| limit 0', 'query.invalid', 8, 'Expected a whole number of rows between 1 and 1000000 but found 0'],
    ['| limit 1000001', 'query.invalid', 8, 'Expected a whole number of rows between 1 and 1000000 but found 1000001'],
    ['| take 2.5', 'query.invalid', 7, 'Expected a whole number of rows between 1 and 1000000 but found 2.5'],
    ['| head x', 'query.syntax', 7, 'Expected a number of rows between 1 and 1000000 after "head" but found "x"'],
    ['| order x', 'query.syntax', 8, 'Expected "by" after "order" but found "x"'],
    ['| eval x == 1', 'query.syntax', 9, 'Expected "=" after "x" but found "=="'],
  ];
  for (const c of cases) it(c[0], () => expectError(c));
});

describe('expression errors', () => {
  const cases: Case[] = [
    ['| where a >', 'query.syntax', 11, 'Expected an expression after ">" but found end of query'],
    ["| where x = 'abc", 'query.syntax', 12, 'Unclosed quote starting at position 12'],
    ['| where (x > 1', 'query.syntax', 8, 'Expected ")" to close "(" at position 8 but found end of query'],
    ['| where (x > 1 y)', 'query.syntax', 15, 'Expected ")" to close "(" at position 8 but found "y"'],
    [
      '| where round(x',
      'query.syntax',
      13,
      'Expected "," or ")" to close "round(" at position 13 but found end of query',
    ],
    [
      '| where sqrt(x) > 1',
      'query.invalid',
      8,
      'Unknown function "sqrt"; expected one of abs, round, floor, ceil, coalesce, lower, upper, if',
    ],
    ['| where abs(x, y) > 1', 'query.invalid', 8, 'Expected 1 argument for abs() but found 2'],
    ['| eval v = if(a, b)', 'query.invalid', 11, 'Expected 3 arguments for if() but found 2'],
    [
      '| where a < b < c',
      'query.syntax',
      14,
      'Expected "and" or "or" between comparisons but found "<"; write a < b and b < c',
    ],
    [
      '| where x = 5m',
      'query.syntax',
      12,
      'Expected an expression after "=" but found "5m"; durations are only allowed in bin()',
    ],
    [
      '| where x # 1',
      'query.syntax',
      10,
      'Unexpected character "#" at position 10; expected a name, number, quoted string or operator',
    ],
    ['| where a and', 'query.syntax', 13, 'Expected an expression after "and" but found end of query'],
  ];
  for (const c of cases) it(c[0], () => expectError(c));
});

describe('column reference errors after stats', () => {
  const cases: Case[] = [
    [
      '| stats count() as n by route | where total > 1',
      'query.invalid',
      38,
      'Unknown column "total": after stats the only columns are n, route',
    ],
    [
      '| stats count() as n | fields n, x',
      'query.invalid',
      33,
      'Unknown column "x": after stats the only columns are n',
    ],
    [
      '| stats count() as n | sort m desc',
      'query.invalid',
      28,
      'Unknown column "m": after stats the only columns are n',
    ],
    [
      '| stats count() as n | eval r = n / total',
      'query.invalid',
      36,
      'Unknown column "total": after stats the only columns are n',
    ],
    // The column set of the second stats replaces the first one's.
    [
      '| stats count() as n by route | stats sum(n) as s | where route = "x"',
      'query.invalid',
      58,
      'Unknown column "route": after stats the only columns are s',
    ],
    [
      '| stats count() as n | stats avg(latency)',
      'query.invalid',
      33,
      'Unknown column "latency": after stats the only columns are n',
    ],
    [
      '| stats count() as n | stats count() by route',
      'query.invalid',
      40,
      'Unknown column "route": after stats the only columns are n',
    ],
    [
      '| stats count() as n | stats countif(m:>1) as t',
      'query.invalid',
      37,
      'Unknown column "m": after stats the only columns are n',
    ],
    [
      '| stats count() as n | stats countif(timeout) as t',
      'query.invalid',
      37,
      'Expected field:value terms after stats but found free text; free-text search only applies to events',
    ],
    ['| fields a, b | where c > 1', 'query.invalid', 22, 'Unknown column "c": after fields the only columns are a, b'],
    [
      '| stats count() by a, a',
      'query.invalid',
      22,
      'Expected a unique column name in stats but found "a" twice; rename one with "as"',
    ],
  ];
  for (const c of cases) it(c[0], () => expectError(c));
});
