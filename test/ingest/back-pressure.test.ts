/** The back-pressure rules on a fake clock: bytes bound, delay bound from the measured commit rate, progress. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../src/errors.ts';
import { BackPressure } from '../../src/ingest/back-pressure.ts';

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppError);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('ingest back-pressure', () => {
  it('bounds the bytes waiting, but always takes a body when nothing waits', () => {
    let now = 0;
    const bp = new BackPressure({ maxPendingBytes: 1000, maxQueueDelayMs: 60_000 }, () => now);
    const big = bp.admit(5000); // alone: taken, however large
    const err = refusal(() => bp.admit(10));
    assert.equal(err.status, 429);
    assert.equal(err.code, 'ingest.overloaded');
    assert.equal(err.headers['Retry-After'], '1');
    now += 100;
    big.done(true);
    assert.equal(bp.pendingBytes, 0);
    const a = bp.admit(600);
    assert.throws(() => bp.admit(600), /ingest\.maxPendingBytes/);
    a.done(false);
    bp.admit(600).done(true);
  });

  it('refuses when the waiting work would take longer than the delay bound at the measured rate', () => {
    let now = 0;
    const bp = new BackPressure({ maxPendingBytes: 1e9, maxQueueDelayMs: 2000 }, () => now);
    // Measured: 1 MB committed in 1 s of busy time.
    const first = bp.admit(1_000_000);
    now += 1000;
    first.done(true);
    assert.ok(Math.abs((bp.commitRate ?? 0) - 1_000_000) < 1, String(bp.commitRate));
    // Idle time does not lower the rate.
    now += 60_000;
    assert.ok(Math.abs((bp.commitRate ?? 0) - 1_000_000) < 1, String(bp.commitRate));
    const waiting = bp.admit(1_500_000); // nothing waits: taken
    bp.admit(600_000); // 1.5 MB ahead ≈ 1.5 s: taken
    const err = refusal(() => bp.admit(10)); // 2.1 MB ahead ≈ 2.1 s: refused
    assert.equal(err.code, 'ingest.overloaded');
    assert.match(
      err.message,
      /would take about 2\.1 s to commit, longer than the limit of 2\.0 s \(ingest\.maxQueueDelay\)/,
    );
    assert.equal(err.headers['Retry-After'], '3');
    waiting.done(true);
    bp.admit(10).done(true);
  });

  it('does not refuse a little work for a rate measured over a few slow small requests', () => {
    let now = 0;
    const bp = new BackPressure({ maxPendingBytes: 1e9, maxQueueDelayMs: 2000, minQueueBytes: 1_048_576 }, () => now);
    // 1 KB committed in 1 s (a worker starting): 1 KB/s measured.
    const first = bp.admit(1000);
    now += 1000;
    first.done(true);
    const waiting = bp.admit(1000);
    for (let i = 0; i < 10; i++) bp.admit(1000); // 11 KB ahead ≈ 11 s at that rate: still taken
    waiting.done(true);
    // A real queue is still refused at that rate.
    bp.admit(1_100_000);
    assert.equal(refusal(() => bp.admit(10)).code, 'ingest.overloaded');
  });

  it('turns a bound off with 0', () => {
    const bp = new BackPressure({ maxPendingBytes: 0, maxQueueDelayMs: 0 }, () => 0);
    for (let i = 0; i < 100; i++) bp.admit(1e9);
    assert.equal(bp.pendingBytes, 1e11);
  });
});
