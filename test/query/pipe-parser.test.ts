import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuery } from '../../src/query/index.ts';
import type { Expr, Stage } from '../../src/query/index.ts';

/** A column expression for `name` at its `nth` (0-based) whole-name occurrence in `query`. */
function col(query: string, name: string, nth = 0): Expr {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const found = [...query.matchAll(new RegExp(`(?<![\\w.@])${escaped}(?![\\w.])`, 'g'))][nth];
  assert.ok(found !== undefined, `${name} #${nth} not in query`);
  return { kind: 'column', name, span: { start: found.index, end: found.index + name.length } };
}

function stagesOf(query: string): readonly Stage[] {
  return parseQuery(query).stages;
}

function whereExpr(query: string): Expr {
  const [stage] = stagesOf(query);
  assert.equal(stage?.kind, 'where');
  return stage.expr;
}

const num = (value: number): Expr => ({ kind: 'number', value });

describe('error and latency analysis queries', () => {
  it('1. top 10 errors by type and message', () => {
    const q =
      'exception.type:* | stats count() as occurrences by exception.type, exception.message | sort occurrences desc | limit 10';
    assert.deepEqual(parseQuery(q), {
      filter: { kind: 'exists', field: 'exception.type', span: { start: 0, end: 16 } },
      stages: [
        {
          kind: 'stats',
          aggs: [{ fn: 'count', as: 'occurrences' }],
          by: [
            { kind: 'field', field: 'exception.type', as: 'exception.type' },
            { kind: 'field', field: 'exception.message', as: 'exception.message' },
          ],
        },
        {
          kind: 'sort',
          keys: [{ expr: { kind: 'column', name: 'occurrences', span: { start: 92, end: 103 } }, desc: true }],
        },
        { kind: 'limit', n: 10 },
      ],
    });
  });

  it('2. error rate per endpoint', () => {
    const q =
      'event.type:api_request | stats count() as total, countif(event.outcome:failure) as errors by http.route' +
      ' | eval errorRate = errors * 100.0 / total | where errorRate > 1 | sort errorRate desc';
    assert.deepEqual(parseQuery(q), {
      filter: {
        kind: 'match',
        field: 'event.type',
        value: { text: 'api_request', quoted: false },
        span: { start: 0, end: 22 },
      },
      stages: [
        {
          kind: 'stats',
          aggs: [
            { fn: 'count', as: 'total' },
            {
              fn: 'countif',
              filter: {
                kind: 'match',
                field: 'event.outcome',
                value: { text: 'failure', quoted: false },
                span: { start: 57, end: 78 },
              },
              as: 'errors',
            },
          ],
          by: [{ kind: 'field', field: 'http.route', as: 'http.route' }],
        },
        {
          kind: 'eval',
          assignments: [
            {
              name: 'errorRate',
              expr: {
                kind: 'binary',
                op: '/',
                left: { kind: 'binary', op: '*', left: col(q, 'errors', 1), right: num(100) },
                right: col(q, 'total', 1),
              },
            },
          ],
        },
        { kind: 'where', expr: { kind: 'binary', op: '>', left: col(q, 'errorRate', 1), right: num(1) } },
        { kind: 'sort', keys: [{ expr: col(q, 'errorRate', 2), desc: true }] },
      ],
    });
  });

  it('3. p95 per endpoint per 5 minutes', () => {
    const q =
      'http.route:("/api/checkout" or "/api/payment/process") | stats p95(event.duration) as P95 by http.route, bin(@timestamp, 5m)';
    assert.deepEqual(parseQuery(q).stages, [
      {
        kind: 'stats',
        aggs: [{ fn: 'percentile', field: 'event.duration', percentile: 95, as: 'P95' }],
        by: [
          { kind: 'field', field: 'http.route', as: 'http.route' },
          { kind: 'bin', field: '@timestamp', intervalMs: 300_000, as: '@timestamp' },
        ],
      },
    ]);
    assert.equal(parseQuery(q).filter.kind, 'or');
  });
});

describe('stats', () => {
  it('gives default names, unique within the stage', () => {
    const [stats] = stagesOf(
      '| stats count(), count(), countif(a:1), countif(b:2), sum(transaction.amount), avg(x), min(x), max(x),' +
        ' dc(user.id), p50(d), p90(d), p95(d), p99(d), percentile(d, 99.9), percentile(d, 75), sum(transaction.amount)',
    );
    assert.equal(stats?.kind, 'stats');
    assert.deepEqual(
      stats.aggs.map((a) => a.as),
      [
        'count',
        'count_2',
        'countif',
        'countif_2',
        'sum_transaction.amount',
        'avg_x',
        'min_x',
        'max_x',
        'dc_user.id',
        'p50_d',
        'p90_d',
        'p95_d',
        'p99_d',
        'p99_9_d',
        'p75_d',
        'sum_transaction.amount_2',
      ],
    );
    assert.deepEqual(stats.aggs[8], { fn: 'dc', field: 'user.id', as: 'dc_user.id' });
    assert.deepEqual(stats.aggs[13], { fn: 'percentile', field: 'd', percentile: 99.9, as: 'p99_9_d' });
  });

  it('a default name steps around explicit names and keys', () => {
    const [stats] = stagesOf('| stats count(), sum(x) as count_2 by count');
    assert.equal(stats?.kind, 'stats');
    assert.deepEqual(
      stats.aggs.map((a) => a.as),
      ['count_3', 'count_2'],
    );
  });

  it('accepts Kusto-style name = agg and key aliases', () => {
    assert.deepEqual(
      stagesOf('| stats total = count(), errors = countif(event.outcome:failure) by route = http.route'),
      [
        {
          kind: 'stats',
          aggs: [
            { fn: 'count', as: 'total' },
            {
              fn: 'countif',
              filter: {
                kind: 'match',
                field: 'event.outcome',
                value: { text: 'failure', quoted: false },
                span: { start: 42, end: 63 },
              },
              as: 'errors',
            },
          ],
          by: [{ kind: 'field', field: 'http.route', as: 'route' }],
        },
      ],
    );
    assert.deepEqual(stagesOf('| stats avg(x) by service.name as svc, bin(order.created_at, 1h) as hour'), [
      {
        kind: 'stats',
        aggs: [{ fn: 'avg', field: 'x', as: 'avg_x' }],
        by: [
          { kind: 'field', field: 'service.name', as: 'svc' },
          { kind: 'bin', field: 'order.created_at', intervalMs: 3_600_000, as: 'hour' },
        ],
      },
    ]);
  });

  it('countif takes a full filter, including parens, ranges and wildcards', () => {
    const [stats] = stagesOf('| stats countif((a:1 OR b:>2) AND url:/api/*) as n');
    assert.equal(stats?.kind, 'stats');
    assert.deepEqual(stats.aggs[0]?.filter, {
      kind: 'and',
      items: [
        {
          kind: 'or',
          items: [
            { kind: 'match', field: 'a', value: { text: '1', quoted: false }, span: { start: 17, end: 20 } },
            { kind: 'range', field: 'b', op: '>', value: { text: '2', quoted: false }, span: { start: 24, end: 28 } },
          ],
        },
        { kind: 'match', field: 'url', value: { text: '/api/*', quoted: false }, span: { start: 34, end: 44 } },
      ],
    });
  });

  it('stage keywords, aggregations and by are case-insensitive', () => {
    assert.deepEqual(stagesOf('| STATS Count() BY x | SORT count DESC | LIMIT 5'), [
      { kind: 'stats', aggs: [{ fn: 'count', as: 'count' }], by: [{ kind: 'field', field: 'x', as: 'x' }] },
      { kind: 'sort', keys: [{ expr: { kind: 'column', name: 'count', span: { start: 28, end: 33 } }, desc: true }] },
      { kind: 'limit', n: 5 },
    ]);
  });

  it('a second stats aggregates the first one output', () => {
    assert.deepEqual(stagesOf('| stats count() as n by route | stats avg(n) as perRoute, countif(n:>5) as busy'), [
      { kind: 'stats', aggs: [{ fn: 'count', as: 'n' }], by: [{ kind: 'field', field: 'route', as: 'route' }] },
      {
        kind: 'stats',
        aggs: [
          { fn: 'avg', field: 'n', as: 'perRoute' },
          {
            fn: 'countif',
            filter: {
              kind: 'range',
              field: 'n',
              op: '>',
              value: { text: '5', quoted: false },
              span: { start: 66, end: 70 },
            },
            as: 'busy',
          },
        ],
        by: [],
      },
    ]);
  });
});

describe('where expressions', () => {
  it('follows precedence: * / % > + - > comparisons > not > and > or', () => {
    const q = '| where a + b * c > 2 and not d = "x" or e != null';
    assert.deepEqual(whereExpr(q), {
      kind: 'binary',
      op: 'or',
      left: {
        kind: 'binary',
        op: 'and',
        left: {
          kind: 'binary',
          op: '>',
          left: {
            kind: 'binary',
            op: '+',
            left: col(q, 'a'),
            right: { kind: 'binary', op: '*', left: col(q, 'b'), right: col(q, 'c') },
          },
          right: num(2),
        },
        right: {
          kind: 'unary',
          op: 'not',
          arg: { kind: 'binary', op: '=', left: col(q, 'd'), right: { kind: 'string', value: 'x' } },
        },
      },
      right: { kind: 'binary', op: '!=', left: col(q, 'e'), right: { kind: 'null' } },
    });
  });

  it('is left-associative and honours parentheses', () => {
    const q = '| where (a - b - c) % 2 == 0';
    assert.deepEqual(whereExpr(q), {
      kind: 'binary',
      op: '=',
      left: {
        kind: 'binary',
        op: '%',
        left: {
          kind: 'binary',
          op: '-',
          left: { kind: 'binary', op: '-', left: col(q, 'a'), right: col(q, 'b') },
          right: col(q, 'c'),
        },
        right: num(2),
      },
      right: num(0),
    });
  });

  it('maps == to = and <> to !=, and reads literals', () => {
    const q = "| where x <> 'it\\'s' OR flag == TRUE and y = False";
    assert.deepEqual(whereExpr(q), {
      kind: 'binary',
      op: 'or',
      left: { kind: 'binary', op: '!=', left: col(q, 'x'), right: { kind: 'string', value: "it's" } },
      right: {
        kind: 'binary',
        op: 'and',
        left: { kind: 'binary', op: '=', left: col(q, 'flag'), right: { kind: 'bool', value: true } },
        right: { kind: 'binary', op: '=', left: col(q, 'y'), right: { kind: 'bool', value: false } },
      },
    });
  });

  it('folds -number into a literal and keeps unary minus on other operands', () => {
    const q = '| where -x < -2.5';
    assert.deepEqual(whereExpr(q), {
      kind: 'binary',
      op: '<',
      left: { kind: 'unary', op: '-', arg: col(q, 'x') },
      right: num(-2.5),
    });
  });

  it('reads calls, dotted and backtick-quoted names', () => {
    const q =
      '| where round(event.duration / 1000, 2) > coalesce(`odd name`, @timestamp, 0) and if(a > 1, "hi", lower(b)) = "x"';
    const expr = whereExpr(q);
    assert.deepEqual(expr, {
      kind: 'binary',
      op: 'and',
      left: {
        kind: 'binary',
        op: '>',
        left: {
          kind: 'call',
          fn: 'round',
          args: [{ kind: 'binary', op: '/', left: col(q, 'event.duration'), right: num(1000) }, num(2)],
        },
        right: {
          kind: 'call',
          fn: 'coalesce',
          args: [{ kind: 'column', name: 'odd name', span: { start: 51, end: 61 } }, col(q, '@timestamp'), num(0)],
        },
      },
      right: {
        kind: 'binary',
        op: '=',
        left: {
          kind: 'call',
          fn: 'if',
          args: [
            { kind: 'binary', op: '>', left: col(q, 'a'), right: num(1) },
            { kind: 'string', value: 'hi' },
            { kind: 'call', fn: 'lower', args: [col(q, 'b')] },
          ],
        },
        right: { kind: 'string', value: 'x' },
      },
    });
  });

  it('function names are case-insensitive', () => {
    assert.deepEqual(whereExpr('| where ABS(x) > 1'), {
      kind: 'binary',
      op: '>',
      left: { kind: 'call', fn: 'abs', args: [{ kind: 'column', name: 'x', span: { start: 12, end: 13 } }] },
      right: num(1),
    });
  });
});

describe('eval, sort, limit, fields', () => {
  it('eval and its synonym extend; later assignments see earlier ones', () => {
    const q = '| stats count() as n | extend double = n * 2, quad = double * 2 | eval ok = quad > 3';
    assert.deepEqual(stagesOf(q).slice(1), [
      {
        kind: 'eval',
        assignments: [
          { name: 'double', expr: { kind: 'binary', op: '*', left: col(q, 'n', 1), right: num(2) } },
          { name: 'quad', expr: { kind: 'binary', op: '*', left: col(q, 'double', 1), right: num(2) } },
        ],
      },
      {
        kind: 'eval',
        assignments: [{ name: 'ok', expr: { kind: 'binary', op: '>', left: col(q, 'quad', 1), right: num(3) } }],
      },
    ]);
  });

  it('sort, sort by and order by, ascending by default', () => {
    const expected = (q: string): Stage[] => [
      {
        kind: 'sort',
        keys: [
          { expr: col(q, 'a'), desc: false },
          { expr: col(q, 'b'), desc: true },
          { expr: col(q, 'c'), desc: false },
        ],
      },
    ];
    for (const q of ['| sort a, b desc, c asc', '| sort by a, b DESC, c ASC', '| order by a asc, b desc, c']) {
      assert.deepEqual(stagesOf(q), expected(q), q);
    }
  });

  it('limit, head and take', () => {
    assert.deepEqual(stagesOf('| limit 10 | head 5 | take 1000000'), [
      { kind: 'limit', n: 10 },
      { kind: 'limit', n: 5 },
      { kind: 'limit', n: 1_000_000 },
    ]);
  });

  it('fields, before and after stats', () => {
    assert.deepEqual(stagesOf('| fields @timestamp, event.type, `odd name`'), [
      { kind: 'fields', fields: ['@timestamp', 'event.type', 'odd name'] },
    ]);
    assert.deepEqual(stagesOf('| stats count() as n by route | eval pct = n / 10 | fields route, pct').at(-1), {
      kind: 'fields',
      fields: ['route', 'pct'],
    });
  });

  it('before stats any field name may be used', () => {
    const stages = stagesOf('| where anything.at_all > 1 | eval x = y | sort whatever | fields a, b');
    assert.deepEqual(
      stages.map((s) => s.kind),
      ['where', 'eval', 'sort', 'fields'],
    );
  });
});

describe('Kusto forms', () => {
  it('reads seed 003 §8 as written: the exceptions table, summarize, top N by', () => {
    const q = parseQuery('exceptions | summarize count() by type, outerMessage | top 10 by count_ desc');
    assert.deepEqual(q.filter, { kind: 'exists', field: 'exception.type' });
    assert.deepEqual(q.stages, [
      {
        kind: 'stats',
        aggs: [{ fn: 'count', as: 'count_' }],
        by: [
          { kind: 'field', field: 'exception.type', as: 'type' },
          { kind: 'field', field: 'exception.message', as: 'outerMessage' },
        ],
      },
      { kind: 'sort', keys: [{ expr: { kind: 'column', name: 'count_', span: { start: 65, end: 71 } }, desc: true }] },
      { kind: 'limit', n: 10 },
    ]);
    // top sorts descending unless told otherwise; stats keeps its own default names.
    const asc = parseQuery('* | stats count() by service.name | top 3 by count asc');
    assert.deepEqual(asc.stages[1], {
      kind: 'sort',
      keys: [{ expr: { kind: 'column', name: 'count', span: { start: 45, end: 50 } }, desc: false }],
    });
  });
});
