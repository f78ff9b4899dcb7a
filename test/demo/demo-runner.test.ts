/**
 * Backfill and live streaming against an in-memory sink with a fake clock:
 * what arrives, in what order, with which timestamps.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toRawEvent } from '../../src/demo/demo-event.ts';
import { backfill, streamLive, wallClockOf, type EventSink } from '../../src/demo/demo-runner.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import { HOUR_MS, WEDNESDAY_MS } from './fixtures.ts';

/** Keeps what it is sent; can be told to fail. */
class MemorySink implements EventSink {
  readonly batches: Record<string, unknown>[][] = [];
  failWith: Error | undefined;
  rejectEvery = 0;

  async send(events: readonly Record<string, unknown>[]) {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failWith) throw this.failWith;
    this.batches.push([...events]);
    const rejected = this.rejectEvery > 0 ? Math.floor(events.length / this.rejectEvery) : 0;
    return { accepted: events.length - rejected, rejected, ...(rejected ? { firstRejection: 'line 1: nope' } : {}) };
  }

  get events(): Record<string, unknown>[] {
    return this.batches.flat();
  }
}

const FROM = WEDNESDAY_MS + 10 * HOUR_MS;

describe('demo runner: backfill', () => {
  it('delivers exactly the events of the window, in time order, in bounded batches, reporting progress', async () => {
    const sink = new MemorySink();
    const progress: number[] = [];
    const result = await backfill(new ShopSimulator({ seed: 3, trafficScale: 0.5 }), sink, {
      fromMs: FROM,
      toMs: FROM + 3 * HOUR_MS,
      chunkMs: HOUR_MS,
      batchSize: 500,
      onProgress: (p) => progress.push(p.fraction),
    });
    const expected = new ShopSimulator({ seed: 3, trafficScale: 0.5 })
      .eventsBetween(FROM, FROM + 3 * HOUR_MS)
      .map((e) => toRawEvent(e));
    assert.equal(result.accepted, expected.length);
    assert.equal(result.rejected, 0);
    assert.ok(sink.batches.every((b) => b.length <= 500));
    assert.deepEqual(sink.events, expected);
    assert.deepEqual(progress, [1 / 3, 2 / 3, 1]);
  });

  it('newest first: the same events, the newest hour first, each hour in time order, progress going back', async () => {
    const sink = new MemorySink();
    const reached: number[] = [];
    await backfill(new ShopSimulator({ seed: 3, trafficScale: 0.5 }), sink, {
      fromMs: FROM,
      toMs: FROM + 3 * HOUR_MS,
      chunkMs: HOUR_MS,
      newestFirst: true,
      onProgress: (p) => reached.push(p.reachedMs),
    });
    const simulator = new ShopSimulator({ seed: 3, trafficScale: 0.5 });
    const hour = (k: number) =>
      simulator.eventsBetween(FROM + k * HOUR_MS, FROM + (k + 1) * HOUR_MS).map((e) => toRawEvent(e));
    assert.deepEqual(sink.events, [...hour(2), ...hour(1), ...hour(0)]);
    assert.deepEqual(reached, [FROM + 2 * HOUR_MS, FROM + HOUR_MS, FROM]);
  });

  it('reports rejected events with the first reason', async () => {
    const sink = new MemorySink();
    sink.rejectEvery = 100;
    const result = await backfill(new ShopSimulator({ seed: 3, trafficScale: 0.2 }), sink, {
      fromMs: FROM,
      toMs: FROM + HOUR_MS,
    });
    assert.ok(result.rejected > 0);
    assert.equal(result.firstRejection, 'line 1: nope');
  });

  it('fails when a delivery fails, instead of going on without the data', async () => {
    const sink = new MemorySink();
    sink.failWith = new Error('store is down');
    await assert.rejects(
      backfill(new ShopSimulator({ seed: 3, trafficScale: 0.2 }), sink, { fromMs: FROM, toMs: FROM + 2 * HOUR_MS }),
      /store is down/,
    );
  });

  it('stops between chunks when aborted', async () => {
    const sink = new MemorySink();
    const controller = new AbortController();
    await backfill(new ShopSimulator({ seed: 3, trafficScale: 0.2 }), sink, {
      fromMs: FROM,
      toMs: FROM + 5 * HOUR_MS,
      chunkMs: HOUR_MS,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    const last = Date.parse(String(sink.events.at(-1)?.['@timestamp']));
    assert.ok(last < FROM + HOUR_MS, 'only the first hour was sent');
  });
});

describe('demo runner: live traffic', () => {
  /** A fake clock that advances one tick per sleep. */
  function fakeClock(startMs: number) {
    let now = startMs;
    return {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
        await new Promise((resolve) => setImmediate(resolve));
      },
    };
  }

  it('sends what the shop does tick by tick, stamped on the wall clock, until the end time', async () => {
    const start = FROM;
    const clock = fakeClock(start);
    const sink = new MemorySink();
    const ticks: number[] = [];
    const result = await streamLive(new ShopSimulator({ seed: 9 }), sink, {
      startMs: start,
      speed: 1,
      untilMs: start + 10 * 60_000,
      tickMs: 1000,
      ...clock,
      onTick: (t) => ticks.push(t.events),
    });
    assert.equal(ticks.length, 600);
    const expected = new ShopSimulator({ seed: 9 }).eventsBetween(start, start + 10 * 60_000).map((e) => toRawEvent(e));
    assert.deepEqual(sink.events, expected, 'real time: the same events as a backfill of those ten minutes');
    assert.equal(result.accepted, expected.length);
    const perSecond = expected.length / 600;
    assert.ok(perSecond > 1 && perSecond < 10, `${perSecond} events/s at traffic scale 1 around noon`);
  });

  it('runs as a time-lapse at --speed 10 without stamping events in the future', async () => {
    const start = FROM;
    const clock = fakeClock(start);
    const sink = new MemorySink();
    await streamLive(new ShopSimulator({ seed: 9 }), sink, {
      startMs: start,
      speed: 10,
      untilMs: start + 60_000,
      tickMs: 1000,
      now: clock.now,
      sleep: clock.sleep,
      onTick: (tick) => {
        const sent = sink.batches.at(-1) ?? [];
        for (const event of sent) assert.ok(Date.parse(String(event['@timestamp'])) <= tick.wallMs);
      },
    });
    // Ten simulated minutes, squeezed into one wall-clock minute.
    const tenMinutes = new ShopSimulator({ seed: 9 }).eventsBetween(start, start + 10 * 60_000);
    assert.equal(sink.events.length, tenMinutes.length);
    const last = tenMinutes.at(-1)!;
    assert.equal(sink.events.at(-1)?.['@timestamp'], new Date(wallClockOf(last.tsMs, start, 10)).toISOString());
    assert.ok(Date.parse(String(sink.events.at(-1)?.['@timestamp'])) < start + 60_000);
  });

  it('keeps streaming after a failed delivery and says how many events were lost', async () => {
    const clock = fakeClock(FROM);
    const sink = new MemorySink();
    sink.failWith = new Error('503 overloaded');
    const lost: number[] = [];
    await streamLive(new ShopSimulator({ seed: 9 }), sink, {
      startMs: FROM,
      speed: 1,
      untilMs: FROM + 30_000,
      ...clock,
      onError: (_err, n) => lost.push(n),
    });
    assert.ok(lost.length > 0 && lost.every((n) => n > 0));
    await assert.rejects(
      streamLive(new ShopSimulator({ seed: 9 }), sink, { startMs: FROM, speed: 1, untilMs: FROM + 30_000, ...clock }),
      /503 overloaded/,
    );
  });

  it('rejects a speed that is not positive', async () => {
    await assert.rejects(
      streamLive(new ShopSimulator({ seed: 9 }), new MemorySink(), { startMs: FROM, speed: 0 }),
      /speed must be > 0/,
    );
  });
});
