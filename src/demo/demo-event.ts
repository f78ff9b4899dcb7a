/**
 * What the simulator produces: raw events in the JSON shape a shop would
 * send to `POST /api/v1/events` (nested ECS objects), each with
 * its time kept apart so the runner can place it on the wall clock.
 */

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

const DIGITS2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const DIGITS3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** 10000-01-01: from there on `toISOString` writes six-digit years. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_800_000;

/**
 * Writes events as NDJSON lines byte for byte as `JSON.stringify(toRawEvent(event))`,
 * without building the object with `@timestamp` first: the body is
 * stringified once and the timestamp put in front of it. Timestamps reuse
 * the ISO prefix of the minute before (events come in time order), so most
 * cost two table look-ups instead of a Date.
 */
export class NdjsonWriter {
  #minute = Number.NaN;
  #prefix = '';

  /** `tsMs` as `Date#toISOString` writes it (`2026-11-18T10:23:45.678Z`). */
  iso(tsMs: number): string {
    const ms = Math.trunc(tsMs);
    if (!(ms >= 0 && ms < LAST_FOUR_DIGIT_YEAR_MS)) return new Date(tsMs).toISOString();
    const minute = Math.floor(ms / 60_000);
    if (minute !== this.#minute) {
      this.#minute = minute;
      this.#prefix = new Date(minute * 60_000).toISOString().slice(0, 17);
    }
    const inMinute = ms - minute * 60_000;
    const seconds = Math.floor(inMinute / 1000);
    return `${this.#prefix}${DIGITS2[seconds] as string}.${DIGITS3[inMinute - seconds * 1000] as string}Z`;
  }

  /** One event's line with its trailing newline; `tsMs` overrides the event's own time. */
  line(event: DemoEvent, tsMs: number = event.tsMs): string {
    const json = JSON.stringify(event.body);
    const head = `{"@timestamp":"${this.iso(tsMs)}"`;
    return json === '{}' ? `${head}}\n` : `${head},${json.slice(1)}\n`;
  }

  /** The lines of `events[from, to)`, joined. */
  lines(events: readonly DemoEvent[], from: number, to: number): string {
    let out = '';
    for (let i = from; i < to; i++) out += this.line(events[i] as DemoEvent);
    return out;
  }
}
