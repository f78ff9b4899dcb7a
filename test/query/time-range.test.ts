import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/errors.ts';
import { parseTimeExpr, resolveTimeRange } from '../../src/query/index.ts';

// A Saturday, so that week rounding has to go back to Monday 2025-06-23.
const NOW = Date.parse('2025-06-28T14:37:12.345Z');
const at = (iso: string): number => Date.parse(iso);
const ACCEPTED =
  'now, now-15m, now+1h, now-7d/d, an ISO-8601 date or date-time (2025-06-28, 2025-06-28T14:30:00Z) or epoch milliseconds';

describe('parseTimeExpr', () => {
  it('reads now and offsets from it', () => {
    assert.equal(parseTimeExpr('now', NOW), NOW);
    assert.equal(parseTimeExpr('NOW', NOW), NOW);
    assert.equal(parseTimeExpr('now-15m', NOW), at('2025-06-28T14:22:12.345Z'));
    assert.equal(parseTimeExpr('now-7d', NOW), at('2025-06-21T14:37:12.345Z'));
    assert.equal(parseTimeExpr('now+1h', NOW), at('2025-06-28T15:37:12.345Z'));
    assert.equal(parseTimeExpr('now-1h30m', NOW), at('2025-06-28T13:07:12.345Z'));
    assert.equal(parseTimeExpr(' now-5m ', NOW), at('2025-06-28T14:32:12.345Z'));
  });

  it('rounds down in UTC with /d, /h, /m, /s, /w', () => {
    assert.equal(parseTimeExpr('now-7d/d', NOW), at('2025-06-21T00:00:00.000Z'));
    assert.equal(parseTimeExpr('now/d', NOW), at('2025-06-28T00:00:00.000Z'));
    assert.equal(parseTimeExpr('now/h', NOW), at('2025-06-28T14:00:00.000Z'));
    assert.equal(parseTimeExpr('now/m', NOW), at('2025-06-28T14:37:00.000Z'));
    assert.equal(parseTimeExpr('now/s', NOW), at('2025-06-28T14:37:12.000Z'));
    assert.equal(parseTimeExpr('now/w', NOW), at('2025-06-23T00:00:00.000Z'));
    // Steps apply left to right: start of yesterday, plus 8 hours.
    assert.equal(parseTimeExpr('now-1d/d+8h', NOW), at('2025-06-27T08:00:00.000Z'));
  });

  it('reads ISO-8601 dates and date-times, UTC when no zone is given', () => {
    assert.equal(parseTimeExpr('2025-06-28', NOW), at('2025-06-28T00:00:00Z'));
    assert.equal(parseTimeExpr('2025-06-28T14:30:00Z', NOW), at('2025-06-28T14:30:00Z'));
    assert.equal(parseTimeExpr('2025-06-28T14:30:00.123Z', NOW), at('2025-06-28T14:30:00.123Z'));
    assert.equal(parseTimeExpr('2025-06-28T14:30:00', NOW), at('2025-06-28T14:30:00Z'));
    assert.equal(parseTimeExpr('2025-06-28T14:30', NOW), at('2025-06-28T14:30:00Z'));
    assert.equal(parseTimeExpr('2025-06-28 14:30:00', NOW), at('2025-06-28T14:30:00Z'));
    assert.equal(parseTimeExpr('2025-06-28T14:30:00+02:00', NOW), at('2025-06-28T12:30:00Z'));
    assert.equal(parseTimeExpr('2025-06-28T14:30:00-0530', NOW), at('2025-06-28T20:00:00Z'));
    assert.equal(parseTimeExpr('2025-06-28T14:30:00.123456789Z', NOW), at('2025-06-28T14:30:00.123Z'));
  });

  it('reads epoch milliseconds', () => {
    assert.equal(parseTimeExpr('1751121000000', NOW), at('2025-06-28T14:30:00Z'));
    assert.equal(parseTimeExpr('0', NOW), 0);
  });

  it('rejects anything else, naming the text and the accepted forms', () => {
    for (const bad of [
      '',
      'yesterday',
      'nowish',
      'now-',
      'now-5x',
      'now-5M',
      'now/y',
      'now-1.5h',
      '2025-13-01',
      '2025-02-30',
      '2025-06-28T24:00',
      '28/06/2025',
      '-5',
    ]) {
      assert.throws(
        () => parseTimeExpr(bad, NOW),
        { message: `Invalid time ${JSON.stringify(bad)}; expected ${ACCEPTED}` },
        bad,
      );
    }
  });
});

describe('resolveTimeRange', () => {
  it('defaults to the last hour', () => {
    assert.deepEqual(resolveTimeRange({}, NOW), { fromMs: NOW - 3_600_000, toMs: NOW });
    assert.deepEqual(resolveTimeRange({ from: '', to: ' ' }, NOW), { fromMs: NOW - 3_600_000, toMs: NOW });
  });

  it('resolves each bound', () => {
    assert.deepEqual(resolveTimeRange({ from: 'now-7d/d', to: 'now/d' }, NOW), {
      fromMs: at('2025-06-21T00:00:00Z'),
      toMs: at('2025-06-28T00:00:00Z'),
    });
    assert.deepEqual(resolveTimeRange({ from: '2025-06-28T13:30:00Z', to: 1751121000000 }, NOW), {
      fromMs: at('2025-06-28T13:30:00Z'),
      toMs: at('2025-06-28T14:30:00Z'),
    });
  });

  it('says which bound is bad, with its value and the accepted forms', () => {
    const check = (input: { from?: string | number; to?: string | number }, name: string, value: string): void => {
      assert.throws(
        () => resolveTimeRange(input, NOW),
        (err: unknown) => {
          assert.ok(err instanceof AppError);
          assert.equal(err.status, 400);
          assert.equal(err.code, 'query.time_range');
          assert.equal(err.message, `Invalid "${name}" time ${JSON.stringify(value)}; expected ${ACCEPTED}`);
          assert.deepEqual(err.details, { field: name, value });
          return true;
        },
      );
    };
    check({ from: 'last week' }, 'from', 'last week');
    check({ from: 'now-1h', to: 'later' }, 'to', 'later');
    check({ to: 1.5 }, 'to', '1.5');
  });

  it('rejects an empty or reversed range', () => {
    assert.throws(() => resolveTimeRange({ from: 'now', to: 'now' }, NOW), {
      code: 'query.time_range',
      status: 400,
      message:
        'The time range is empty: "from" (2025-06-28T14:37:12.345Z) must be before "to" (2025-06-28T14:37:12.345Z)',
    });
    assert.throws(() => resolveTimeRange({ from: 'now', to: 'now-1h' }, NOW), {
      code: 'query.time_range',
      message:
        'The time range is empty: "from" (2025-06-28T14:37:12.345Z) must be before "to" (2025-06-28T13:37:12.345Z)',
    });
  });
});
