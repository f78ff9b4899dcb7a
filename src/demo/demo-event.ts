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

/** One event already stringified: its time and `JSON.stringify(event.body)`. */
export interface EventLine {
  readonly tsMs: number;
  readonly json: string;
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
  return tailOfJson(JSON.stringify(event.body));
}

function tailOfJson(json: string): string {
  return json === '{}' ? '"}\n' : `",${json.slice(1)}\n`;
}

const DIGITS2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const DIGITS3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** 10000-01-01: from there on `toISOString` writes six-digit years. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_800_000;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const CLOSE_BRACE = 0x7d;

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
  /** Bytes per line of the last `bytes` call, to size the next buffer. */
  #bytesPerLine = 700;

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
    return `${LINE_HEAD}${this.iso(tsMs)}${lineTail(event)}`;
  }

  /** The lines of `events[from, to)`, joined. */
  lines(events: readonly DemoEvent[], from: number, to: number): string {
    let out = '';
    for (let i = from; i < to; i++) out += this.line(events[i] as DemoEvent);
    return out;
  }

  /** The lines of `lines[from, to)` (see `ShopSimulator#linesBetween`), joined. */
  join(lines: readonly EventLine[], from: number, to: number): string {
    let out = '';
    for (let i = from; i < to; i++) {
      const line = lines[i] as EventLine;
      out += `${LINE_HEAD}${this.iso(line.tsMs)}${tailOfJson(line.json)}`;
    }
    return out;
  }

  /**
   * `join` as UTF-8, written straight into a buffer of its own (its
   * ArrayBuffer may be transferred to another thread): no string of the
   * whole body is built.
   */
  bytes(lines: readonly EventLine[], from: number, to: number): Buffer {
    let capacity = Math.ceil((to - from) * this.#bytesPerLine * 1.05) + 4096;
    let buffer = Buffer.allocUnsafeSlow(capacity);
    let at = 0;
    for (let i = from; i < to; i++) {
      const { tsMs, json } = lines[i] as EventLine;
      // 3 bytes a UTF-16 unit at most, 64 for the head; the exact length only near the end.
      if (at + json.length * 3 + 64 > capacity) {
        const needed = at + Buffer.byteLength(json) + 64;
        if (needed > capacity) {
          capacity = Math.max(capacity * 2, needed);
          const larger = Buffer.allocUnsafeSlow(capacity);
          buffer.copy(larger, 0, 0, at);
          buffer = larger;
        }
      }
      at += buffer.write(`${LINE_HEAD}${this.iso(tsMs)}"`, at, 'latin1');
      if (json === '{}') {
        buffer[at++] = CLOSE_BRACE;
      } else {
        // The body's `{` becomes the comma after `@timestamp`.
        const start = at;
        at += buffer.write(json, at, 'utf8');
        buffer[start] = COMMA;
      }
      buffer[at++] = NEWLINE;
    }
    if (to > from) this.#bytesPerLine = at / (to - from);
    return buffer.subarray(0, at);
  }
}
