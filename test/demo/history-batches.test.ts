/**
 * The history as NDJSON bodies: the same bytes as the events stringified as
 * objects (`JSON.stringify(toRawEvent(event))`), in the same order as
 * `backfill` sends them, whatever the timestamp or the characters.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NdjsonWriter, toRawEvent, type DemoEvent } from '../../src/demo/demo-event.ts';
import { historyBatches } from '../../src/demo/history-batches.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import { HOUR_MS, WEDNESDAY_MS } from './fixtures.ts';

const viaObjects = (events: readonly DemoEvent[]): string =>
  events.map((event) => `${JSON.stringify(toRawEvent(event))}\n`).join('');

const linesOf = (events: readonly DemoEvent[]) =>
  events.map((event) => ({ tsMs: event.tsMs, json: JSON.stringify(event.body) }));

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
    assert.equal(new NdjsonWriter().join(linesOf(odd), 0, odd.length), expected);
    assert.equal(Buffer.from(new NdjsonWriter().bytes(linesOf(odd), 0, odd.length)).toString('utf8'), expected);
  });

  it('grows its buffer when the lines are longer than the ones before', () => {
    const writer = new NdjsonWriter();
    const short = linesOf([{ tsMs: 1000, body: { a: 1 } }]);
    assert.equal(writer.bytes(short, 0, 1).toString('utf8'), viaObjects([{ tsMs: 1000, body: { a: 1 } }]));
    const long: DemoEvent[] = Array.from({ length: 50 }, (_, i) => ({
      tsMs: 2000 + i,
      body: { text: `${'é'.repeat(3_000)}${i}` },
    }));
    assert.equal(writer.bytes(linesOf(long), 0, long.length).toString('utf8'), viaObjects(long));
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
