/**
 * The history as NDJSON bodies: the same bytes as the events stringified as
 * objects (`JSON.stringify(toRawEvent(event))`), in the same order as
 * `backfill` sends them, whatever the timestamp or the characters.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NdjsonWriter, toNdjson, toRawEvent, type DemoEvent } from '../../src/demo/demo-event.ts';
import { historyBatches } from '../../src/demo/history-batches.ts';
import { IsoClock } from '../../src/demo/iso-clock.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import { slotLines, windowBytes, windowOf } from '../../src/demo/slot-lines.ts';
import { HOUR_MS, WEDNESDAY_MS } from './fixtures.ts';

const viaObjects = (events: readonly DemoEvent[]): string =>
  events.map((event) => `${JSON.stringify(toRawEvent(event))}\n`).join('');

/** The events as the history writes them: stringified into slot buffers, then a window's bytes. */
function bytesOf(slots: readonly (readonly DemoEvent[])[], fromMs = -Infinity, toMs = Infinity): string {
  const window = windowOf(slots.map(slotLines), fromMs, toMs);
  return windowBytes(window, 0, window.length, new IsoClock()).toString('utf8');
}

describe('demo history as NDJSON', () => {
  it('writes the bytes of the events stringified as objects, for odd timestamps and characters too', () => {
    const odd: DemoEvent[] = [
      { tsMs: 0, body: {} },
      { tsMs: 59_999, body: { message: 'São Paulo → Zürich ✓ 🛒', n: 1 } },
      { tsMs: 60_000, body: { nested: { a: [1, 'two', null], b: { c: true } } } },
      { tsMs: 1.7, body: { fractional: 'ms are cut as Date cuts them' } },
      { tsMs: -1, body: { before: '1970' } },
      { tsMs: Date.UTC(2026, 10, 18, 23, 59, 59, 999), body: { quote: 'a "quoted" \\ back\nslash' } },
      { tsMs: Date.UTC(10_000, 0, 1), body: { year: 'six digits' } },
    ];
    const expected = viaObjects(odd);
    assert.equal(new NdjsonWriter().lines(odd, 0, odd.length), expected);
    assert.equal(toNdjson(odd), expected);
    const byTime = [...odd].sort((a, b) => a.tsMs - b.tsMs);
    assert.equal(bytesOf([odd]), viaObjects(byTime));
  });

  it('orders a window by time; equal times keep slot, then generation order', () => {
    const slots: DemoEvent[][] = [
      [
        { tsMs: 5000, body: { id: 'a' } },
        { tsMs: 1000, body: { id: 'b' } },
        { tsMs: 9000, body: { id: 'outside' } },
      ],
      [
        { tsMs: 1000, body: { id: 'c' } },
        { tsMs: 5000, body: { id: 'd' } },
        { tsMs: 999, body: { id: 'before' } },
      ],
      [{ tsMs: 1000.5, body: { id: 'fractional' } }],
    ];
    const ids = (text: string) => [...text.matchAll(/"id":"(\w+)"/g)].map((m) => m[1]);
    assert.deepEqual(ids(bytesOf(slots.slice(0, 2), 1000, 9000)), ['b', 'c', 'a', 'd']);
    assert.deepEqual(ids(bytesOf(slots, 1000, 9000)), ['b', 'c', 'fractional', 'a', 'd']);
  });

  it('takes long lines of many-byte characters', () => {
    const long: DemoEvent[] = Array.from({ length: 50 }, (_, i) => ({
      tsMs: 2000 + i,
      body: { text: `${'é€🛒'.repeat(1_000 * (i + 1))}${i}` },
    }));
    assert.equal(bytesOf([long]), viaObjects(long));
  });

  it('cuts a window into bodies of at most batchSize events, newest hour first, each hour in time order', () => {
    const options = { seed: 5, trafficScale: 0.3 };
    const window = { fromMs: WEDNESDAY_MS + 9 * HOUR_MS, toMs: WEDNESDAY_MS + 12 * HOUR_MS };
    const batches = [...historyBatches(new ShopSimulator(options), { ...window, batchSize: 400, newestFirst: true })];
    const objects = new ShopSimulator(options);
    let expected = '';
    for (let k = 1; k <= 3; k++)
      expected += viaObjects(objects.eventsBetween(window.toMs - k * HOUR_MS, window.toMs - (k - 1) * HOUR_MS));
    assert.equal(batches.map((b) => Buffer.from(b.body).toString('utf8')).join(''), expected);
    assert.ok(batches.every((b) => b.events <= 400 && b.events > 0));
    assert.equal(
      batches.reduce((n, b) => n + b.events, 0),
      expected.split('\n').length - 1,
    );
    assert.deepEqual(
      batches.filter((b) => b.chunk).map((b) => [b.chunk?.reachedMs, b.chunk?.fraction]),
      [
        [window.toMs - HOUR_MS, 1 / 3],
        [window.toMs - 2 * HOUR_MS, 2 / 3],
        [window.fromMs, 1],
      ],
    );
  });
});
