/**
 * Silence matchers with regular expressions (issue 11 item 21): RE2 syntax,
 * run by a linear-time engine, checked when the silence is created (the
 * route answers 400 with this message), matched against the whole label value.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Silence, SilenceMatcher } from '../../src/alerts/alert-model.ts';
import { checkMatcher, silencedBy } from '../../src/alerts/silences.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');

function silence(...matchers: SilenceMatcher[]): Silence {
  return {
    id: 'maintenance',
    matchers,
    startsAt: '2026-06-01T00:00:00Z',
    endsAt: '2026-06-02T00:00:00Z',
    comment: 'reindexing',
    createdBy: 'ops',
  };
}

function mutes(s: Silence, labels: Record<string, string>): boolean {
  return silencedBy([s], labels, NOW)?.id === 'maintenance';
}

describe('silence matchers', () => {
  it('refuses a pattern RE2 cannot run, naming the matcher and the problem', () => {
    // Valid in JavaScript, not in RE2: lookarounds and backreferences.
    assert.throws(
      () => checkMatcher({ name: 'service.name', op: '=~', value: 'search(?=-service)' }),
      /^Error: matcher service\.name=~"search\(\?=-service\)": not a valid RE2 regular expression: invalid or unsupported Perl syntax/,
    );
    assert.throws(() => checkMatcher({ name: 'a', op: '!~', value: '(x)\\1' }), /matcher a!~"\(x\)\\1": .*\\1/);
    assert.throws(() => checkMatcher({ name: 'a', op: '=~', value: '(' }), /matcher a=~"\(": .*missing closing \)/);
    // Only valid once wrapped in `^(?:…)$`, where it would mean something else.
    assert.throws(() => checkMatcher({ name: 'a', op: '=~', value: 'a)|(b' }), /matcher a=~"a\)\|\(b"/);
    assert.doesNotThrow(() => checkMatcher({ name: 'a', op: '=~', value: 'search-.*|cart-(api|web)' }));
    assert.doesNotThrow(() => checkMatcher({ name: 'a', op: '=', value: '(' }), 'a plain value is no pattern');
  });

  it('match the whole label value', () => {
    const s = silence({ name: 'service.name', op: '=~', value: 'search-.*|cart' });
    assert.equal(mutes(s, { 'service.name': 'search-service' }), true);
    assert.equal(mutes(s, { 'service.name': 'cart' }), true);
    assert.equal(mutes(s, { 'service.name': 'cart-service' }), false);
    assert.equal(mutes(s, { 'service.name': 'user-service' }), false);
    assert.equal(mutes(s, {}), false);
    const not = silence(
      { name: 'service.name', op: '!~', value: 'search-.*' },
      { name: 'priority', op: '=', value: 'P3' },
    );
    assert.equal(mutes(not, { 'service.name': 'user-service', priority: 'P3' }), true);
    assert.equal(mutes(not, { 'service.name': 'search-service', priority: 'P3' }), false);
  });

  it('a stored pattern RE2 rejects mutes nothing: the alert is still notified', () => {
    const stored = silence({ name: 'service.name', op: '=~', value: 'search(?=-service).*' });
    assert.equal(mutes(stored, { 'service.name': 'search-service' }), false);
    const negated = silence({ name: 'service.name', op: '!~', value: '(?!x)' });
    assert.equal(mutes(negated, { 'service.name': 'search-service' }), false);
  });

  it('read only the labels themselves, not inherited properties', () => {
    const s = silence({ name: 'constructor', op: '=~', value: '.*function.*' });
    assert.equal(mutes(s, { 'service.name': 'x' }), false);
  });
});
