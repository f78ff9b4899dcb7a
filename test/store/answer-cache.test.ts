import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnswerCache, answerKey } from '../../src/store/answer-cache.ts';

function cacheAt(clock: { now: number }, maxEntries = 10, maxCells = 1000): AnswerCache {
  return new AnswerCache({
    maxEntries,
    maxCells,
    sizeOf: (v) => (v as { cells: number }).cells,
    now: () => clock.now,
  });
}

describe('AnswerCache', () => {
  it('serves an answer younger than maxAge, recomputes an older one, and never caches without maxAge', async () => {
    const clock = { now: 1_000 };
    const cache = cacheAt(clock);
    let runs = 0;
    const compute = async () => ({ cells: 1, run: ++runs });
    const key = answerKey('shop', ['q']);
    assert.deepEqual(await cache.get(key, 5000, compute), { value: { cells: 1, run: 1 }, source: 'miss', ageMs: 0 });
    clock.now += 4000;
    assert.deepEqual(await cache.get(key, 5000, compute), { value: { cells: 1, run: 1 }, source: 'hit', ageMs: 4000 });
    // Without maxAge the caller wants fresh data, even with a young answer at hand.
    assert.equal((await cache.get(key, 0, compute)).value.run, 2);
    clock.now += 5001;
    const late = await cache.get(key, 5000, compute);
    assert.equal(late.source, 'miss');
    assert.equal(late.value.run, 3);
  });

  it('runs identical concurrent requests once', async () => {
    const cache = cacheAt({ now: 0 });
    let runs = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const compute = async () => {
      runs++;
      await gate;
      return { cells: 1 };
    };
    const key = answerKey('shop', ['same']);
    const all = Promise.all([
      cache.get(key, 5000, compute),
      cache.get(key, 5000, compute),
      cache.get(key, 1000, compute),
      // Without maxAge the caller wants what is committed now: it runs its own.
      cache.get(key, 0, compute),
    ]);
    release();
    const answers = await all;
    assert.equal(runs, 2);
    assert.deepEqual(
      answers.map((a) => a.source),
      ['miss', 'joined', 'joined', 'miss'],
    );
    // Another key (another tenant) runs on its own.
    await cache.get(answerKey('other', ['same']), 5000, compute);
    assert.equal(runs, 3);
  });

  it('does not keep failures', async () => {
    const cache = cacheAt({ now: 0 });
    const key = answerKey('shop', ['bad']);
    await assert.rejects(
      cache.get(key, 5000, async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    const next = await cache.get(key, 5000, async () => ({ cells: 1 }));
    assert.equal(next.source, 'miss');
  });

  it('stays within its entry and cell budgets, dropping the oldest, and skips answers too large to keep', async () => {
    const clock = { now: 0 };
    const cache = cacheAt(clock, 3, 100);
    for (let i = 0; i < 5; i++) await cache.get(answerKey('shop', [i]), 60_000, async () => ({ cells: 5 }));
    assert.equal(cache.size, 3);
    assert.equal((await cache.get(answerKey('shop', [0]), 60_000, async () => ({ cells: 5 }))).source, 'miss');
    assert.equal((await cache.get(answerKey('shop', [4]), 60_000, async () => ({ cells: 5 }))).source, 'hit');
    // More than a tenth of the cell budget: computed, not kept.
    await cache.get(answerKey('shop', ['big']), 60_000, async () => ({ cells: 11 }));
    assert.equal((await cache.get(answerKey('shop', ['big']), 60_000, async () => ({ cells: 11 }))).source, 'miss');
  });

  it('forgets one tenant on request (after an erasure) and keeps the others', async () => {
    const cache = cacheAt({ now: 0 });
    await cache.get(answerKey('a', ['q']), 5000, async () => ({ cells: 1 }));
    await cache.get(answerKey('b', ['q']), 5000, async () => ({ cells: 1 }));
    cache.clearTenant('a');
    assert.equal((await cache.get(answerKey('a', ['q']), 5000, async () => ({ cells: 1 }))).source, 'miss');
    assert.equal((await cache.get(answerKey('b', ['q']), 5000, async () => ({ cells: 1 }))).source, 'hit');
  });
});
