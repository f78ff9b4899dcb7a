import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilter, parseQuery } from '../../src/query/index.ts';
import type { Filter, RangeOp } from '../../src/query/index.ts';

function match(field: string, text: string, start: number, end: number, quoted = false): Filter {
  return { kind: 'match', field, value: { text, quoted }, span: { start, end } };
}

function range(field: string, op: RangeOp, text: string, start: number, end: number): Filter {
  return { kind: 'range', field, op, value: { text, quoted: false }, span: { start, end } };
}

function text(value: string, start: number, end: number, quoted = false): Filter {
  return { kind: 'text', value: { text: value, quoted }, span: { start, end } };
}

/** Parses a filter-only query and checks that it has no stages. */
function filterOf(query: string): Filter {
  const parsed = parseQuery(query);
  assert.deepEqual(parsed.stages, []);
  return parsed.filter;
}

describe('filter: seed queries as written', () => {
  it('event.type:payment_transaction AND event.outcome:success', () => {
    assert.deepEqual(filterOf('event.type:payment_transaction AND event.outcome:success'), {
      kind: 'and',
      items: [match('event.type', 'payment_transaction', 0, 30), match('event.outcome', 'success', 35, 56)],
    });
  });

  it('payment.risk_score:>75 OR security.fraud_indicators:* (with the trailing space)', () => {
    assert.deepEqual(filterOf('payment.risk_score:>75 OR security.fraud_indicators:* '), {
      kind: 'or',
      items: [
        range('payment.risk_score', '>', '75', 0, 22),
        { kind: 'exists', field: 'security.fraud_indicators', span: { start: 26, end: 53 } },
      ],
    });
  });

  it('event.type:page_view AND page.category:homepage', () => {
    assert.deepEqual(filterOf('event.type:page_view AND page.category:homepage'), {
      kind: 'and',
      items: [match('event.type', 'page_view', 0, 20), match('page.category', 'homepage', 25, 47)],
    });
  });

  it('the single-term funnel filters', () => {
    assert.deepEqual(filterOf('event.type:add_to_cart'), match('event.type', 'add_to_cart', 0, 22));
    assert.deepEqual(filterOf('event.outcome:failure'), match('event.outcome', 'failure', 0, 21));
    assert.deepEqual(filterOf('event.type:checkout_started'), match('event.type', 'checkout_started', 0, 27));
    assert.deepEqual(filterOf('event.type:payment_completed'), match('event.type', 'payment_completed', 0, 28));
  });

  it('event.type:page_view AND page.category:product_detail', () => {
    const filter = filterOf('event.type:page_view AND page.category:product_detail');
    assert.deepEqual(filter, {
      kind: 'and',
      items: [match('event.type', 'page_view', 0, 20), match('page.category', 'product_detail', 25, 53)],
    });
  });
});

describe('filter: values', () => {
  it('unquoted wildcards stay unquoted', () => {
    assert.deepEqual(filterOf('url.path:/api/cart/*'), match('url.path', '/api/cart/*', 0, 20));
    assert.deepEqual(filterOf('service.name:*-service'), match('service.name', '*-service', 0, 22));
  });

  it('quoted phrases are marked quoted and keep spaces and stars', () => {
    assert.deepEqual(filterOf('message:"payment failed"'), match('message', 'payment failed', 0, 24, true));
    assert.deepEqual(filterOf('message:"a * b"'), match('message', 'a * b', 0, 15, true));
    assert.deepEqual(filterOf('message:"say \\"hi\\""'), match('message', 'say "hi"', 0, 20, true));
  });

  it('values may contain colons, dashes, slashes and dots', () => {
    assert.deepEqual(
      filterOf('@timestamp:>=2025-06-28T14:30:00Z'),
      range('@timestamp', '>=', '2025-06-28T14:30:00Z', 0, 33),
    );
    assert.deepEqual(filterOf('trace.id:a:b:c'), match('trace.id', 'a:b:c', 0, 14));
    assert.deepEqual(filterOf('client.ip:203.0.113.195'), match('client.ip', '203.0.113.195', 0, 23));
    assert.deepEqual(
      filterOf('@timestamp:2025-06-28T14:30:00.000Z'),
      match('@timestamp', '2025-06-28T14:30:00.000Z', 0, 35),
    );
  });

  it('whitespace after the colon is tolerated', () => {
    assert.deepEqual(filterOf('event.type: page_view'), match('event.type', 'page_view', 0, 21));
  });

  it('field names may have a digit after a dot and may start with @', () => {
    assert.deepEqual(filterOf('payment.3ds_status:authenticated'), match('payment.3ds_status', 'authenticated', 0, 32));
    assert.deepEqual(filterOf('@timestamp:*'), { kind: 'exists', field: '@timestamp', span: { start: 0, end: 12 } });
  });

  it('field names are kept as written, not resolved', () => {
    assert.deepEqual(filterOf('Some_Unknown.Field:x'), match('Some_Unknown.Field', 'x', 0, 20));
  });

  it('backslash escapes make characters literal', () => {
    // Only escaped stars and no wildcard: a literal value, so it is marked quoted (no expansion).
    assert.deepEqual(filterOf('url.path:/api/\\*'), match('url.path', '/api/*', 0, 16, true));
    assert.deepEqual(filterOf('message:a\\:b'), match('message', 'a:b', 0, 12, true));
    assert.deepEqual(filterOf('message:a\\ b'), match('message', 'a b', 0, 12, true));
    assert.deepEqual(filterOf('message:\\(x\\)'), match('message', '(x)', 0, 13, true));
    // Escapes of other characters next to a real wildcard keep the wildcard.
    assert.deepEqual(filterOf('message:\\(x\\)*'), match('message', '(x)*', 0, 14));
    assert.deepEqual(filterOf('foo\\:bar'), text('foo:bar', 0, 8, true));
  });

  it('a quoted star is a value, not exists', () => {
    assert.deepEqual(filterOf('tag:"*"'), match('tag', '*', 0, 7, true));
  });
});

describe('filter: ranges', () => {
  it('accepts each operator', () => {
    assert.deepEqual(filterOf('payment.risk_score:>75'), range('payment.risk_score', '>', '75', 0, 22));
    assert.deepEqual(filterOf('payment.risk_score:>=80'), range('payment.risk_score', '>=', '80', 0, 23));
    assert.deepEqual(filterOf('order.item_count:<3'), range('order.item_count', '<', '3', 0, 19));
    assert.deepEqual(filterOf('order.item_count:<=3'), range('order.item_count', '<=', '3', 0, 20));
  });

  it('tolerates whitespace around the operator', () => {
    assert.deepEqual(filterOf('field: > 75'), range('field', '>', '75', 0, 11));
    assert.deepEqual(filterOf('field:>= 1.5'), range('field', '>=', '1.5', 0, 12));
  });

  it('takes quoted and relative-time values', () => {
    assert.deepEqual(filterOf('name:<"m"'), {
      kind: 'range',
      field: 'name',
      op: '<',
      value: { text: 'm', quoted: true },
      span: { start: 0, end: 9 },
    });
    assert.deepEqual(filterOf('@timestamp:>now-5m'), range('@timestamp', '>', 'now-5m', 0, 18));
  });
});

describe('filter: boolean structure', () => {
  it('NOT, AND, OR in any case', () => {
    assert.deepEqual(filterOf('NOT event.outcome:success'), {
      kind: 'not',
      item: match('event.outcome', 'success', 4, 25),
    });
    assert.deepEqual(filterOf('a:1 and b:2 Or not c:3'), {
      kind: 'or',
      items: [
        { kind: 'and', items: [match('a', '1', 0, 3), match('b', '2', 8, 11)] },
        { kind: 'not', item: match('c', '3', 19, 22) },
      ],
    });
  });

  it('precedence is NOT > AND > OR', () => {
    assert.deepEqual(filterOf('a:1 OR b:2 AND c:3'), {
      kind: 'or',
      items: [match('a', '1', 0, 3), { kind: 'and', items: [match('b', '2', 7, 10), match('c', '3', 15, 18)] }],
    });
    assert.deepEqual(filterOf('NOT a:1 AND b:2'), {
      kind: 'and',
      items: [{ kind: 'not', item: match('a', '1', 4, 7) }, match('b', '2', 12, 15)],
    });
  });

  it('parentheses group, and same-kind groups are flattened', () => {
    assert.deepEqual(filterOf('(a:1 OR b:2) AND c:3'), {
      kind: 'and',
      items: [{ kind: 'or', items: [match('a', '1', 1, 4), match('b', '2', 8, 11)] }, match('c', '3', 17, 20)],
    });
    assert.deepEqual(filterOf('a:1 AND (b:2 AND c:3)'), {
      kind: 'and',
      items: [match('a', '1', 0, 3), match('b', '2', 9, 12), match('c', '3', 17, 20)],
    });
    assert.deepEqual(filterOf('NOT (a:1 OR b:2)'), {
      kind: 'not',
      item: { kind: 'or', items: [match('a', '1', 5, 8), match('b', '2', 12, 15)] },
    });
  });

  it('adjacent terms are ANDed, binding tighter than OR', () => {
    assert.deepEqual(filterOf('a:1 b:2'), { kind: 'and', items: [match('a', '1', 0, 3), match('b', '2', 4, 7)] });
    assert.deepEqual(filterOf('a:1 b:2 OR c:3'), {
      kind: 'or',
      items: [{ kind: 'and', items: [match('a', '1', 0, 3), match('b', '2', 4, 7)] }, match('c', '3', 11, 14)],
    });
  });

  it('keywords followed by a colon are field names', () => {
    assert.deepEqual(filterOf('not:x'), match('not', 'x', 0, 5));
    assert.deepEqual(filterOf('NOT(a:1)'), { kind: 'not', item: match('a', '1', 4, 7) });
  });
});

describe('filter: field groups', () => {
  it('field:(a or b) expands into an or of matches', () => {
    assert.deepEqual(filterOf('http.route:("/api/checkout" or "/api/payment/process")'), {
      kind: 'or',
      items: [
        match('http.route', '/api/checkout', 12, 27, true),
        match('http.route', '/api/payment/process', 31, 53, true),
      ],
    });
  });

  it('field:(a OR "b c" or d*)', () => {
    assert.deepEqual(filterOf('f:(a OR "b c" or d*)'), {
      kind: 'or',
      items: [match('f', 'a', 3, 4), match('f', 'b c', 8, 13, true), match('f', 'd*', 17, 19)],
    });
  });

  it('field:(not x) and field:(a and b)', () => {
    assert.deepEqual(filterOf('f:(not x)'), { kind: 'not', item: match('f', 'x', 7, 8) });
    assert.deepEqual(filterOf('f:(a and b)'), { kind: 'and', items: [match('f', 'a', 3, 4), match('f', 'b', 9, 10)] });
  });

  it('groups nest and may hold ranges and *', () => {
    assert.deepEqual(filterOf('f:(a or (b and not c)) x:(>5 and <10) y:(*)'), {
      kind: 'and',
      items: [
        {
          kind: 'or',
          items: [
            match('f', 'a', 3, 4),
            { kind: 'and', items: [match('f', 'b', 9, 10), { kind: 'not', item: match('f', 'c', 19, 20) }] },
          ],
        },
        // x's group is an AND inside an AND, so it is flattened.
        range('x', '>', '5', 26, 28),
        range('x', '<', '10', 33, 36),
        { kind: 'exists', field: 'y', span: { start: 41, end: 42 } },
      ],
    });
  });
});

describe('filter: free text and match-all', () => {
  it('a bare word or phrase without a field is free text', () => {
    assert.deepEqual(filterOf('timeout'), text('timeout', 0, 7));
    assert.deepEqual(filterOf('"payment failed"'), text('payment failed', 0, 16, true));
    assert.deepEqual(filterOf('time*'), text('time*', 0, 5));
  });

  it('free text combines with field terms', () => {
    assert.deepEqual(filterOf('timeout AND service.name:payment-service'), {
      kind: 'and',
      items: [text('timeout', 0, 7), match('service.name', 'payment-service', 12, 40)],
    });
    assert.deepEqual(filterOf('NOT "card declined" error'), {
      kind: 'and',
      items: [{ kind: 'not', item: text('card declined', 4, 19, true) }, text('error', 20, 25)],
    });
  });

  it('bare * matches everything and is absorbed by AND / OR', () => {
    assert.deepEqual(filterOf('*'), { kind: 'all' });
    assert.deepEqual(filterOf('* AND a:1'), match('a', '1', 6, 9));
    assert.deepEqual(filterOf('* OR a:1'), { kind: 'all' });
  });

  it('an empty or blank query filters nothing and has no stages', () => {
    assert.deepEqual(parseQuery(''), { filter: { kind: 'all' }, stages: [] });
    assert.deepEqual(parseQuery('   \n\t '), { filter: { kind: 'all' }, stages: [] });
  });

  it('a query may start with | or put | right after a value', () => {
    assert.deepEqual(parseQuery('| limit 5'), { filter: { kind: 'all' }, stages: [{ kind: 'limit', n: 5 }] });
    assert.deepEqual(parseQuery('event.type:api_request|limit 5'), {
      filter: match('event.type', 'api_request', 0, 22),
      stages: [{ kind: 'limit', n: 5 }],
    });
  });
});

describe('parseFilter', () => {
  it('parses a filter alone', () => {
    assert.deepEqual(parseFilter('event.outcome:failure'), match('event.outcome', 'failure', 0, 21));
    assert.deepEqual(parseFilter(''), { kind: 'all' });
  });

  it('rejects pipe stages with the position of the |', () => {
    assert.throws(() => parseFilter('a:1 | limit 5'), {
      code: 'query.syntax',
      position: 4,
      message: 'Expected end of filter but found "|"; pipe stages are not allowed here',
    });
  });
});
