/**
 * The demo shop is reproducible: a seed and a time window fix the event
 * stream byte for byte, however the window is cut into pieces.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { toNdjson } from '../../src/demo/demo-event.ts';
import { MAX_SESSION_SPAN_MS } from '../../src/demo/journey.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import { baselineDay, DAY_MS, field, HOUR_MS, simulate, WEDNESDAY_MS } from './fixtures.ts';

const FROM = WEDNESDAY_MS + 18 * HOUR_MS;
const TO = FROM + 2 * HOUR_MS;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

describe('demo shop determinism', () => {
  it('gives a byte-identical stream for the same seed and window', () => {
    const first = toNdjson(simulate({ seed: 42 }, FROM, TO));
    const second = toNdjson(simulate({ seed: 42 }, FROM, TO));
    assert.ok(first.length > 100_000, `expected a substantial stream, got ${first.length} bytes`);
    assert.equal(sha256(second), sha256(first));
  });

  it('gives a different stream for a different seed', () => {
    const seed42 = simulate({ seed: 42 }, FROM, TO);
    const seed43 = simulate({ seed: 43 }, FROM, TO);
    assert.notEqual(sha256(toNdjson(seed43)), sha256(toNdjson(seed42)));
    // Not just shifted ids: the amount of traffic differs too.
    assert.notEqual(seed43.length, seed42.length);
  });

  it('gives the same events whether a window is generated whole or minute by minute (live ticks)', () => {
    const whole = toNdjson(simulate({ seed: 7 }, FROM, FROM + HOUR_MS));
    const simulator = new ShopSimulator({ seed: 7 });
    let pieces = '';
    // Uneven ticks, like a live loop that wakes up late now and then.
    for (let t = FROM, step = 0; t < FROM + HOUR_MS; step++) {
      const next = Math.min(FROM + HOUR_MS, t + 700 + (step % 5) * 731);
      pieces += toNdjson(simulator.eventsBetween(t, next));
      t = next;
    }
    assert.equal(pieces, whole);
  });

  it('puts every event of a window inside it, in time order', () => {
    const { events } = baselineDay();
    assert.ok(events.length > 50_000);
    let previous = -Infinity;
    for (const event of events) {
      assert.ok(event.tsMs >= WEDNESDAY_MS && event.tsMs < WEDNESDAY_MS + DAY_MS, `event at ${event.tsMs}`);
      assert.ok(event.tsMs >= previous, 'events out of order');
      previous = event.tsMs;
    }
  });

  it('keeps each session within MAX_SESSION_SPAN_MS, so windows need look back no further', () => {
    const { events } = baselineDay();
    const spans = new Map<string, { first: number; last: number }>();
    for (const event of events) {
      const session = field(event, 'user.session_id') as string | undefined;
      if (!session) continue;
      const span = spans.get(session);
      if (span) span.last = event.tsMs;
      else spans.set(session, { first: event.tsMs, last: event.tsMs });
    }
    assert.ok(spans.size > 10_000, `expected many sessions, got ${spans.size}`);
    const longest = Math.max(...[...spans.values()].map((s) => s.last - s.first));
    assert.ok(longest < MAX_SESSION_SPAN_MS, `a session spans ${longest} ms`);
    // Abandoned carts are reported when the session times out, 30 minutes after the last action.
    assert.ok(longest > 30 * 60_000, `longest session only ${longest} ms`);
  });

  it('refuses an infrastructure interval that does not fit the one-minute slots', () => {
    assert.throws(() => new ShopSimulator({ seed: 1, infraIntervalMs: 45_000 }), /divide one minute/);
    assert.throws(() => new ShopSimulator({ seed: 1.5 }), /seed must be an integer/);
  });
});
