/**
 * Bounds on query text, nesting and size: each pathological query from the
 * hostile trial answers a QueryError (a 400) naming the limit, instead of a
 * stack overflow (500) or minutes of scanning.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QueryError } from '../../src/errors.ts';
import { MAX_DEPTH, MAX_QUERY_LENGTH, MAX_STAGES, MAX_TERMS, parseFilter, parseQuery } from '../../src/query/index.ts';
import { editDistance, referencedFields, suggestFields } from '../../src/query/field-names.ts';

function rejects(text: string, code: string, message: RegExp): QueryError {
  let caught: unknown;
  try {
    parseQuery(text);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof QueryError, `expected a QueryError, got ${String(caught)}`);
  assert.equal(caught.status, 400);
  assert.equal(caught.code, code);
  assert.match(caught.message, message);
  return caught;
}

describe('query limits', () => {
  it('rejects text longer than the limit before scanning it', () => {
    const err = rejects('x'.repeat(1_000_000), 'query.too_long', /1000000 characters long; the limit is 65536/);
    assert.equal(err.position, MAX_QUERY_LENGTH);
    assert.doesNotThrow(() => parseQuery('x'.repeat(MAX_QUERY_LENGTH)));
    assert.throws(() => parseQuery('x'.repeat(101), { maxLength: 100 }), /the limit is 100 characters/);
    assert.throws(() => parseFilter('x'.repeat(MAX_QUERY_LENGTH + 1)), /query.maxLength/);
  });

  it('rejects 10,000 "(", 5,000 NOT and a 5,000-deep where expression with the depth limit', () => {
    const deep = new RegExp(`more than ${MAX_DEPTH} levels deep .*the limit is ${MAX_DEPTH} levels`);
    assert.equal(rejects(`${'('.repeat(10_000)}a${')'.repeat(10_000)}`, 'query.too_deep', deep).position, MAX_DEPTH);
    rejects(`${'NOT '.repeat(5_000)}a`, 'query.too_deep', deep);
    rejects(`* | where ${'('.repeat(5_000)}1${')'.repeat(5_000)}`, 'query.too_deep', deep);
    rejects(`* | where ${'not '.repeat(5_000)}true`, 'query.too_deep', deep);
    rejects(`* | where ${'-'.repeat(5_000)}1`, 'query.too_deep', deep);
    rejects(`* | eval x = ${'abs('.repeat(5_000)}1${')'.repeat(5_000)}`, 'query.too_deep', deep);
    rejects(`a:${'('.repeat(5_000)}b${')'.repeat(5_000)}`, 'query.too_deep', deep);
    rejects(`* | stats countif(${'('.repeat(5_000)}a:1${')'.repeat(5_000)})`, 'query.too_deep', deep);
    // Just inside the limit parses.
    const ok = parseQuery(`${'('.repeat(MAX_DEPTH)}a:1${')'.repeat(MAX_DEPTH)}`);
    assert.deepEqual(ok.filter, {
      kind: 'match',
      field: 'a',
      value: { text: '1', quoted: false },
      span: { start: 64, end: 67 },
    });
  });

  it('rejects more terms or stages than the limits', () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => `b${i}`).join(' or ');
    rejects(`a:(${values(5_000)})`, 'query.too_complex', new RegExp(`the limit is ${MAX_TERMS} terms`));
    assert.equal(parseQuery(`a:(${values(MAX_TERMS)})`).filter.kind, 'or');
    rejects(`* | where x > ${Array.from({ length: 2_000 }, () => '1').join(' + ')}`, 'query.too_complex', /terms/);
    rejects(
      `*${' | limit 5'.repeat(MAX_STAGES + 1)}`,
      'query.too_complex',
      new RegExp(`the limit is ${MAX_STAGES} stages`),
    );
    const evals = Array.from({ length: MAX_STAGES + 1 }, (_, i) => `c${i} = n`).join(', ');
    rejects(`* | stats count() as n | eval ${evals}`, 'query.too_complex', /eval assignment counts as one/);
  });

  it('rejects unknown operators and numbers beyond a double at parse time', () => {
    for (const op of ['=~', '!~', '===', '!==', '=>', '=<', '~', '!']) {
      rejects(`* | where a ${op} 1`, 'query.syntax', new RegExp(`Unknown operator "${op}" at position 12`));
    }
    rejects(`* | where a > ${'9'.repeat(400)}`, 'query.invalid', /400 digits at position 14/);
    assert.deepEqual(parseQuery('* | where a > 1000000000000000000000').stages[0], {
      kind: 'where',
      expr: {
        kind: 'binary',
        op: '>',
        left: { kind: 'column', name: 'a', span: { start: 10, end: 11 } },
        right: { kind: 'number', value: 1e21 },
      },
    });
  });

  it('reads long words, phrases and escapes exactly', () => {
    const word = 'ab\\*c'.repeat(6_000);
    const q = parseQuery(`message:"${word}" ${word}`);
    assert.equal(q.filter.kind, 'and');
    const [phrase, text] = (q.filter as unknown as { items: { value: { text: string } }[] }).items;
    assert.equal(phrase?.value.text, 'ab*c'.repeat(6_000));
    assert.equal(text?.value.text, 'ab*c'.repeat(6_000));
    // Keywords are still recognised next to long words, and `not:` is a field.
    assert.equal(parseQuery(`${'x'.repeat(30_000)} or not:1`).filter.kind, 'or');
  });
});

describe('field names for the unknown-field warning', () => {
  it('lists the event fields a query reads, once each, without eval names or post-stats columns', () => {
    const q = parseQuery(
      'cart.itms:>1 and not gatway:x | eval total = amount * 2 | where total > 1 and cart.itms < 9 | stats countif(lvl:ERROR) as n by servce | where n > 1',
    );
    assert.deepEqual(referencedFields(q), [
      { name: 'cart.itms', position: 0 },
      { name: 'gatway', position: 21 },
      { name: 'amount', position: 45 },
      { name: 'lvl', position: 108 },
      { name: 'servce', position: 0 },
    ]);
  });

  it('suggests close names, closest first', () => {
    assert.equal(editDistance('gatway', 'gateway'), 1);
    assert.equal(editDistance('servcie', 'service'), 1, 'a swap of neighbours is one edit');
    assert.equal(editDistance('abc', 'xyz'), 3);
    const catalog = ['transaction.gateway', 'payment.gateway', 'service.name', 'service', 'cart.items'];
    assert.deepEqual(suggestFields('transaction.gatway', catalog), ['transaction.gateway']);
    assert.deepEqual(suggestFields('gateway', catalog), ['payment.gateway', 'transaction.gateway']);
    assert.deepEqual(suggestFields('servce.name', catalog), ['service.name']);
    assert.deepEqual(suggestFields('zzzzzz', catalog), []);
    assert.deepEqual(suggestFields('x'.repeat(10_000), catalog), []);
  });
});
