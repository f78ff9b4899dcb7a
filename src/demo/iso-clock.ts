/**
 * ISO-8601 timestamps as `Date#toISOString` writes them, for many times in
 * order: the minute's prefix is made once (with a Date) and reused, so a
 * timestamp in the same minute as the one before costs two table look-ups.
 */

const DIGITS2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const DIGITS3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** 10000-01-01: from there on `toISOString` writes six-digit years. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_800_000;

export class IsoClock {
  #minute = Number.NaN;
  #prefix = '';

  /** `tsMs` (epoch ms) as `new Date(tsMs).toISOString()`: `2026-11-18T10:23:45.678Z`. */
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
}
