/**
 * The simulator's slots kept as bytes instead of objects, for the history
 * backfill: each event of a slot is stringified once, as soon as the slot is
 * made, into one buffer per slot. The cache of slots a window looks back on
 * (an hour of sessions) then holds no JavaScript object per event, so the
 * garbage collector neither copies nor marks them, and a window's NDJSON is
 * its lines' bytes copied behind their timestamps.
 *
 * The bytes are those of `JSON.stringify(toRawEvent(event))` and a newline,
 * in the order of `ShopSimulator#eventsBetween` (by time, ties in slot and
 * generation order).
 */
import { LINE_HEAD, type DemoEvent } from './demo-event.ts';
import type { IsoClock } from './iso-clock.ts';

/** One slot's events as JSON: event `i` is `json[offsets[i], offsets[i + 1])`, at `times[i]` (epoch ms). */
export interface SlotLines {
  readonly times: Float64Array;
  readonly offsets: Uint32Array;
  readonly json: Buffer;
}

const COMMA = 0x2c;
const NEWLINE = 0x0a;
const CLOSE_BRACE = 0x7d;
/** Longest head: `{"@timestamp":"`, an ISO time with a six-digit year (27) and `"`, bytes. */
const HEAD_ROOM = 44;

/** Where slots are written before they are copied to their exact size (grows as needed; one thread). */
let scratch = Buffer.allocUnsafeSlow(1 << 20);

/** Stringifies a slot's events (each body once) into one buffer. */
export function slotLines(events: readonly DemoEvent[]): SlotLines {
  const times = new Float64Array(events.length);
  const offsets = new Uint32Array(events.length + 1);
  let at = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as DemoEvent;
    const text = JSON.stringify(event.body);
    // 3 bytes a UTF-16 unit at most; the exact length only when that might not fit.
    if (at + text.length * 3 > scratch.length) {
      const needed = at + Buffer.byteLength(text);
      if (needed > scratch.length) {
        const larger = Buffer.allocUnsafeSlow(Math.max(scratch.length * 2, needed));
        scratch.copy(larger, 0, 0, at);
        scratch = larger;
      }
    }
    times[i] = event.tsMs;
    offsets[i] = at;
    at += scratch.write(text, at, 'utf8');
  }
  offsets[events.length] = at;
  const json = Buffer.allocUnsafeSlow(at);
  scratch.copy(json, 0, 0, at);
  return { times, offsets, json };
}

/** The events of a window, in order: event `k` is line `line[k]` of `slots[slot[k]]`. */
export interface LineWindow {
  readonly length: number;
  readonly slots: readonly SlotLines[];
  readonly slot: Int32Array;
  readonly line: Int32Array;
}

/**
 * The events with `fromMs <= time < toMs` of `slots` (in slot order), sorted
 * by time; ties keep slot, then generation order (as a stable sort would).
 */
export function windowOf(slots: readonly SlotLines[], fromMs: number, toMs: number): LineWindow {
  let count = 0;
  let integral = true;
  for (const s of slots) {
    for (const t of s.times) {
      if (t >= fromMs && t < toMs) {
        count++;
        if (!Number.isInteger(t)) integral = false;
      }
    }
  }
  const pickedSlot = new Int32Array(count);
  const pickedLine = new Int32Array(count);
  const pickedTime = new Float64Array(count);
  let n = 0;
  for (let si = 0; si < slots.length; si++) {
    const times = (slots[si] as SlotLines).times;
    for (let i = 0; i < times.length; i++) {
      const t = times[i] as number;
      if (t >= fromMs && t < toMs) {
        pickedSlot[n] = si;
        pickedLine[n] = i;
        pickedTime[n] = t;
        n++;
      }
    }
  }
  const order = sortedOrder(pickedTime, fromMs, toMs, integral);
  const slot = new Int32Array(count);
  const line = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const from = order[k] as number;
    slot[k] = pickedSlot[from] as number;
    line[k] = pickedLine[from] as number;
  }
  return { length: count, slots, slot, line };
}

/** Positions of `times` in stable time order. */
function sortedOrder(times: Float64Array, fromMs: number, toMs: number, integral: boolean): ArrayLike<number> {
  const count = times.length;
  // Whole-ms times: one key per event, time then position, sorted as plain numbers (exact below 2^53).
  const scale = 2 ** Math.ceil(Math.log2(count + 1));
  if (integral && (toMs - fromMs) * scale < Number.MAX_SAFE_INTEGER) {
    const keys = new Float64Array(count);
    for (let k = 0; k < count; k++) keys[k] = ((times[k] as number) - fromMs) * scale + k;
    keys.sort();
    const order = new Int32Array(count);
    for (let k = 0; k < count; k++) order[k] = (keys[k] as number) % scale;
    return order;
  }
  const order = Array.from({ length: count }, (_, k) => k);
  return order.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
}

/**
 * Writes events `[from, to)` of a window as NDJSON into a buffer of its own
 * (its ArrayBuffer may be transferred to another thread).
 */
export function windowBytes(window: LineWindow, from: number, to: number, clock: IsoClock): Buffer {
  let size = 0;
  for (let k = from; k < to; k++) {
    const { offsets } = window.slots[window.slot[k] as number] as SlotLines;
    const i = window.line[k] as number;
    size += (offsets[i + 1] as number) - (offsets[i] as number) + HEAD_ROOM;
  }
  const out = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (let k = from; k < to; k++) {
    const { times, offsets, json } = window.slots[window.slot[k] as number] as SlotLines;
    const i = window.line[k] as number;
    at += out.write(`${LINE_HEAD}${clock.iso(times[i] as number)}"`, at, 'latin1');
    const start = offsets[i] as number;
    const end = offsets[i + 1] as number;
    if (end - start === 2) {
      out[at++] = CLOSE_BRACE; // an empty body: `{}`
    } else {
      // The body's `{` becomes the comma after `@timestamp`.
      out[at] = COMMA;
      at += 1 + json.copy(out, at + 1, start + 1, end);
    }
    out[at++] = NEWLINE;
  }
  return out.subarray(0, at);
}
