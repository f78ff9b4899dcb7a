import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../src/util/duration.ts';

describe('parseDuration', () => {
  it('reads each unit', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('2w'), 1_209_600_000);
    assert.equal(parseDuration('0s'), 0);
  });

  it('reads combinations from the largest unit down', () => {
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1d12h'), 129_600_000);
    assert.equal(parseDuration('1m30s500ms'), 90_500);
  });

  it('rejects bad text, naming it and the accepted forms', () => {
    const cases: [string, RegExp][] = [
      ['', /^Invalid duration "": it is empty; expected a whole number followed by a unit \(ms, s, m, h, d, w\)/],
      ['5', /^Invalid duration "5": cannot read "5"; expected a whole number/],
      ['5x', /^Invalid duration "5x": cannot read "5x"/],
      ['m5', /^Invalid duration "m5": cannot read "m5"/],
      ['1.5h', /^Invalid duration "1.5h": cannot read "1.5h"/],
      ['5 m', /^Invalid duration "5 m"/],
      ['-5m', /^Invalid duration "-5m"/],
      ['30m1h', /^Invalid duration "30m1h": "h" must not follow the same or a smaller unit/],
      ['1h1h', /^Invalid duration "1h1h": "h" must not follow/],
      ['5M', /^Invalid duration "5M"/],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => parseDuration(text), { message }, text);
    }
  });
});

describe('formatDuration', () => {
  it('gives the shortest form', () => {
    assert.equal(formatDuration(300_000), '5m');
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(250), '250ms');
    assert.equal(formatDuration(604_800_000), '1w');
    assert.equal(formatDuration(8 * 86_400_000), '1w1d');
    assert.equal(formatDuration(90_500), '1m30s500ms');
    assert.equal(formatDuration(0), '0ms');
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 1000, 61_000, 3_600_000, 86_400_000 + 1, 1_209_600_000]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
  });

  it('rejects negative and non-finite values', () => {
    assert.throws(() => formatDuration(-1), RangeError);
    assert.throws(() => formatDuration(Number.NaN), RangeError);
  });
});
