/**
 * Durations as people write them in queries and config: `250ms`, `10s`,
 * `5m`, `1h`, `7d`, `2w`, and combinations from the largest unit down such
 * as `1h30m`. A week is always 7 days and a day always 24 hours: these are
 * fixed lengths of time, not calendar arithmetic.
 */

const UNIT_MS = {
  w: 7 * 24 * 60 * 60 * 1000,
  d: 24 * 60 * 60 * 1000,
  h: 60 * 60 * 1000,
  m: 60 * 1000,
  s: 1000,
  ms: 1,
} as const;

type Unit = keyof typeof UNIT_MS;

/** Units from largest to smallest: the order parts must appear in, and the order formatDuration emits. */
const UNITS_DESCENDING: readonly Unit[] = ['w', 'd', 'h', 'm', 's', 'ms'];

const EXPECTED = 'a whole number followed by a unit (ms, s, m, h, d, w), e.g. 250ms, 10s, 5m, 1h30m, 7d';

// `ms` is listed before `m` so that the alternation does not stop at `m`.
const PART = /(\d+)(ms|s|m|h|d|w)/y;

function isUnit(text: string): text is Unit {
  return Object.hasOwn(UNIT_MS, text);
}

/**
 * Parses a duration such as `250ms`, `10s`, `5m`, `1h`, `7d`, `2w` or `1h30m`
 * into milliseconds.
 *
 * @throws Error naming the text and the accepted forms when it is not a duration.
 */
export function parseDuration(text: string): number {
  if (text.length === 0) throw durationError(text, 'it is empty');
  let total = 0;
  let pos = 0;
  // Index in UNITS_DESCENDING of the last unit seen, so `30m1h` and `1h1h` are rejected.
  let lastUnitIndex = -1;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const match = PART.exec(text);
    const digits = match?.[1];
    const unit = match?.[2];
    if (match === null || digits === undefined || unit === undefined || !isUnit(unit)) {
      throw durationError(text, `cannot read "${text.slice(pos)}"`);
    }
    const unitIndex = UNITS_DESCENDING.indexOf(unit);
    if (unitIndex <= lastUnitIndex) {
      throw durationError(text, `"${unit}" must not follow the same or a smaller unit`);
    }
    lastUnitIndex = unitIndex;
    total += Number(digits) * UNIT_MS[unit];
    pos += match[0].length;
  }
  if (!Number.isSafeInteger(total)) throw durationError(text, 'it is too large');
  return total;
}

function durationError(text: string, why: string): Error {
  return new Error(`Invalid duration "${text}": ${why}; expected ${EXPECTED}`);
}

/**
 * Formats milliseconds as the shortest duration text that parseDuration
 * reads back to the same value: `300000` → `5m`, `5400000` → `1h30m`,
 * `0` → `0ms`. Fractions of a millisecond are rounded.
 *
 * @throws RangeError for negative or non-finite input.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`Cannot format ${ms} as a duration: expected a non-negative number of milliseconds`);
  }
  let rest = Math.round(ms);
  if (rest === 0) return '0ms';
  let out = '';
  for (const unit of UNITS_DESCENDING) {
    const size = UNIT_MS[unit];
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
