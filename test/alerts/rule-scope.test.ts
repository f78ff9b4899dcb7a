/**
 * Which visible rows can change a rule, read from its filter: exact where
 * the filter says so, "any" wherever it is not sure (the safe side: an
 * extra evaluation, never a missed one).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRule } from '../../src/alerts/rule.ts';
import { mayChange, mergeRows, ruleScope } from '../../src/alerts/rule-scope.ts';
import type { VisibleRows } from '../../src/store/visible-rows.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');

function rule(query: string, extra: Record<string, unknown> = {}) {
  return compileRule({ name: 'r', query, condition: 'n > 0', severity: 'P2', ...extra }, { kind: 'api' });
}

function rows(types: string[] | undefined, extra: Partial<VisibleRows> = {}): VisibleRows {
  return {
    tenant: 't',
    rows: 1,
    eventTypes: types ? new Set(types) : undefined,
    indices: new Set(['']),
    fromMs: NOW - 1000,
    toMs: NOW - 1000,
    ...extra,
  };
}

const scopeTypes = (query: string) => {
  const types = ruleScope(rule(query)).eventTypes;
  return types ? [...types].sort() : 'any';
};

describe('rule scope', () => {
  it('reads the event types a filter requires, canonical, through and/or', () => {
    assert.deepEqual(scopeTypes('event.type:payment_transaction | stats count() as n'), ['payment_transaction']);
    assert.deepEqual(scopeTypes('event.type:"Order Completed" AND transaction.amount:>100 | stats count() as n'), [
      'order_completed',
    ]);
    assert.deepEqual(scopeTypes('(event.type:page_view OR event.type:add_to_cart) | stats count() as n'), [
      'add_to_cart',
      'page_view',
    ]);
    assert.deepEqual(scopeTypes('event.type:a AND (event.type:a OR event.type:b) | stats count() as n'), ['a']);
  });

  it('answers "any" when it is not sure', () => {
    for (const query of [
      '* | stats count() as n by service.name',
      'NOT event.type:page_view | stats count() as n',
      'event.type:payment* | stats count() as n',
      'event.type:page_view OR service.name:cart | stats count() as n',
      'type:page_view | stats count() as n',
    ]) {
      assert.equal(scopeTypes(query), 'any', query);
    }
  });

  it('lets through rows of a matching or unknown type, in the window or the absence lookback', () => {
    const payments = ruleScope(rule('event.type:payment_transaction | stats count() as n', { window: '5m' }));
    assert.equal(mayChange(payments, rows(['payment_transaction', 'api_request']), NOW), true);
    assert.equal(mayChange(payments, rows(['api_request']), NOW), false);
    assert.equal(mayChange(payments, rows(undefined), NOW), true);
    // Rows older than the window (a backfill) cannot change the current reading.
    const old = { fromMs: NOW - 3_600_000, toMs: NOW - 600_000 };
    assert.equal(mayChange(payments, rows(['payment_transaction'], old), NOW), false);
    const absent = ruleScope(rule('* | stats count() as n by service.name', { absent: { lookback: '1h' } }));
    assert.equal(mayChange(absent, rows(['x'], old), NOW), true);
    const byIndex = ruleScope(rule('_index:"logs-web" | stats count() as n'));
    assert.equal(mayChange(byIndex, rows(['x'], { indices: new Set(['logs-api']) }), NOW), false);
    assert.equal(mayChange(byIndex, rows(['x'], { indices: new Set(['logs-web', '']) }), NOW), true);
  });

  it('merges batches: sets united, an unknown set stays unknown', () => {
    const merged = mergeRows(rows(['a'], { fromMs: 1, toMs: 5 }), rows(['b'], { fromMs: 0, toMs: 3, rows: 2 }));
    assert.deepEqual([...(merged.eventTypes ?? [])].sort(), ['a', 'b']);
    assert.deepEqual([merged.rows, merged.fromMs, merged.toMs], [3, 0, 5]);
    assert.equal(mergeRows(merged, rows(undefined)).eventTypes, undefined);
  });
});
