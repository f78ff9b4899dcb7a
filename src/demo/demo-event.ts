/**
 * What the simulator produces: raw events in the JSON shape a shop would
 * send to `POST /api/v1/events` (nested ECS objects), each with
 * its time kept apart so the runner can place it on the wall clock.
 */
import { IsoClock } from './iso-clock.ts';

/** One simulated event. */
export interface DemoEvent {
  /** When it happened, epoch milliseconds (UTC). */
  readonly tsMs: number;
  /** The event without `@timestamp`, nested (`{ transaction: { amount } }`, not `transaction.amount`). */
  readonly body: Readonly<Record<string, unknown>>;
}

/** The raw JSON event with `@timestamp` first; `tsMs` overrides the event's own time (time-lapse replay). */
export function toRawEvent(event: DemoEvent, tsMs: number = event.tsMs): Record<string, unknown> {
  return { '@timestamp': new Date(tsMs).toISOString(), ...event.body };
}

/** Events as NDJSON, one per line, with a trailing newline. */
export function toNdjson(events: readonly DemoEvent[]): string {
  return new NdjsonWriter().lines(events, 0, events.length);
}

/** What every event's line starts with, up to its timestamp value. */
export const LINE_HEAD = '{"@timestamp":"';

/**
 * An event's NDJSON line after its timestamp value: `"` then the rest of the
 * JSON object, then a newline. `LINE_HEAD + timestamp + tail` is
 * `JSON.stringify(toRawEvent(event))` and a newline, byte for byte (the
 * bodies have no integer-like keys, which JSON would put before `@timestamp`).
 */
export function lineTail(event: DemoEvent): string {
  const json = JSON.stringify(event.body);
  return json === '{}' ? '"}\n' : `",${json.slice(1)}\n`;
}

/**
 * Writes events as NDJSON lines byte for byte as `JSON.stringify(toRawEvent(event))`,
 * without building the object with `@timestamp` first: the body is
 * stringified once and the timestamp put in front of it (see IsoClock).
 */
export class NdjsonWriter {
  readonly #clock = new IsoClock();

  /** One event's line with its trailing newline; `tsMs` overrides the event's own time. */
  line(event: DemoEvent, tsMs: number = event.tsMs): string {
    return `${LINE_HEAD}${this.#clock.iso(tsMs)}${lineTail(event)}`;
  }

  /** The lines of `events[from, to)`, joined. */
  lines(events: readonly DemoEvent[], from: number, to: number): string {
    let out = '';
    for (let i = from; i < to; i++) out += this.line(events[i] as DemoEvent);
    return out;
  }
}
