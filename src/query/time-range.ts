/**
 * Time expressions for query ranges and time values in filters:
 *
 * - Elasticsearch-style date math on `now`: `now`, `now-15m`, `now+1h`,
 *   `now-7d/d`, `now/w`, `now-1d/d+8h`. Offsets use the duration units of
 *   parseDuration (ms, s, m, h, d, w; combinations like `1h30m`); `/s`,
 *   `/m`, `/h`, `/d`, `/w` round down in UTC (weeks start on Monday, as in
 *   Elasticsearch). Steps apply left to right.
 * - ISO-8601 dates and date-times: `2025-06-28`, `2025-06-28T14:30`,
 *   `2025-06-28T14:30:00.123+02:00`. Without a zone the time is UTC, never
 *   the server's local zone, so results do not depend on where we run.
 * - Epoch milliseconds: a string of digits.
 */
import { AppError } from '../errors.ts';
import type { TimeRange } from './ir.ts';
import { parseDuration } from '../util/duration.ts';

const ACCEPTED_FORMS =
  'now, now-15m, now+1h, now-7d/d, an ISO-8601 date or date-time (2025-06-28, 2025-06-28T14:30:00Z) or epoch milliseconds';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const ROUNDING_MS: Readonly<Record<string, number>> = { s: 1000, m: MINUTE, h: HOUR, d: DAY };

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Parses a time expression to epoch milliseconds, reading `now` as `nowMs`.
 *
 * @throws Error naming the text and the accepted forms when it cannot be read.
 */
export function parseTimeExpr(text: string, nowMs: number): number {
  const trimmed = text.trim();
  let ms: number | undefined;
  if (/^now\b/i.test(trimmed)) ms = parseDateMath(trimmed, nowMs);
  else if (/^\d+$/.test(trimmed)) ms = Number(trimmed);
  else ms = parseIso(trimmed);
  if (ms === undefined || !Number.isSafeInteger(ms)) {
    throw new Error(`Invalid time ${JSON.stringify(text)}; expected ${ACCEPTED_FORMS}`);
  }
  return ms;
}

/** `now` followed by `+duration`, `-duration` and `/unit` steps; undefined when malformed. */
function parseDateMath(text: string, nowMs: number): number | undefined {
  // Case-sensitive on purpose: in Elasticsearch `M` is months, which fixed-length durations cannot express.
  const step = /([+-])((?:\d+[a-z]+)+)|\/([smhdw])/y;
  let ms = nowMs;
  let pos = 3;
  while (pos < text.length) {
    step.lastIndex = pos;
    const match = step.exec(text);
    if (match === null) return undefined;
    const [whole, sign, duration, unit] = match;
    if (unit !== undefined) {
      ms = roundDown(ms, unit);
    } else if (duration !== undefined) {
      const offset = tryParseDuration(duration);
      if (offset === undefined) return undefined;
      ms += sign === '-' ? -offset : offset;
    }
    pos += whole.length;
  }
  return ms;
}

function tryParseDuration(text: string): number | undefined {
  try {
    return parseDuration(text);
  } catch {
    return undefined;
  }
}

/** Rounds down to the start of the UTC second, minute, hour, day or (Monday-based) week. */
function roundDown(ms: number, unit: string): number {
  if (unit === 'w') {
    const dayStart = roundDown(ms, 'd');
    // Date#getUTCDay: 0 is Sunday; days since Monday are (day + 6) % 7.
    const daysSinceMonday = (new Date(dayStart).getUTCDay() + 6) % 7;
    return dayStart - daysSinceMonday * DAY;
  }
  const size = ROUNDING_MS[unit] ?? 1;
  return Math.floor(ms / size) * size;
}

/** An ISO-8601 date or date-time; undefined when malformed or out of range (month 13, Feb 30). */
function parseIso(text: string): number | undefined {
  const m = ISO.exec(text);
  if (m === null) return undefined;
  const [, y = '', mo = '', d = '', h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // Digits beyond milliseconds are dropped (truncated, not rounded).
  const millis = Number(frac.padEnd(3, '0').slice(0, 3));
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(local);
  // Date.UTC rolls over (Feb 30 → Mar 2); a changed day or month means the date did not exist.
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    return undefined;
  }
  return local - zoneOffsetMs(zone);
}

/** `Z`, `+02:00`, `-0530` or `+02` → the zone's offset from UTC in ms. */
function zoneOffsetMs(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || '0');
  return sign * (hours * HOUR + minutes * MINUTE);
}

/** Optional bounds of a range as given by a client; numbers are epoch milliseconds. */
export interface TimeRangeInput {
  readonly from?: string | number | undefined;
  readonly to?: string | number | undefined;
}

/**
 * Resolves `from` and `to` (defaults `now-1h` and `now`; empty strings count
 * as absent) to an absolute range.
 *
 * @throws AppError 400 `query.time_range` naming the bad bound and its value,
 *   or when `from` is not before `to`.
 */
export function resolveTimeRange(input: TimeRangeInput, nowMs: number): TimeRange {
  const fromMs = resolveBound('from', input.from, 'now-1h', nowMs);
  const toMs = resolveBound('to', input.to, 'now', nowMs);
  if (fromMs >= toMs) {
    throw new AppError(
      400,
      'query.time_range',
      `The time range is empty: "from" (${new Date(fromMs).toISOString()}) must be before "to" (${new Date(toMs).toISOString()})`,
      { details: { from: input.from ?? 'now-1h', to: input.to ?? 'now' } },
    );
  }
  return { fromMs, toMs };
}

function resolveBound(
  name: 'from' | 'to',
  value: string | number | undefined,
  fallback: string,
  nowMs: number,
): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value;
    throw boundError(name, String(value));
  }
  const text = value === undefined || value.trim() === '' ? fallback : value;
  try {
    return parseTimeExpr(text, nowMs);
  } catch {
    throw boundError(name, text);
  }
}

function boundError(name: 'from' | 'to', value: string): AppError {
  return new AppError(
    400,
    'query.time_range',
    `Invalid "${name}" time ${JSON.stringify(value)}; expected ${ACCEPTED_FORMS}`,
    { details: { field: name, value } },
  );
}
