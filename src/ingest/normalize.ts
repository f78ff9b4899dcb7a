/**
 * Raw JSON event → canonical `EventRecord`: flattens nested objects into
 * dotted names, maps typed fields (and their aliases) onto columns with type
 * checks, keeps everything else as attributes, recognises Segment and GA4
 * payloads, and decides the data class. Never throws for bad input: returns a
 * rejection naming the field.
 */
import { errorRecordOf } from '../errors/error-fields.ts';
import { ErrorGrouper } from '../errors/grouping-rules.ts';
import { dataObject } from '../schema/data-object.ts';
import { canonicalEventType, eventTypeDataClass } from '../schema/event-types.ts';
import { DATA_CLASSES, typedField, type DataClass, type FieldDef } from '../schema/fields.ts';
import type { ColumnValue, EventRecord } from '../schema/record.ts';
import { mapSegmentOrGa4 } from './ecommerce-specs.ts';

export interface NormalizeOptions {
  readonly tenant: string;
  /** Receive time, ms: the timestamp of events that carry none. */
  readonly receivedAtMs: number;
  readonly maxFutureSkewMs: number;
  readonly maxPastAgeMs: number;
  readonly maxDepth: number;
  readonly maxFields: number;
  /** Elasticsearch index the event was sent to, if any. */
  readonly indexName?: string;
  /** Data class implied by the index name, if the index maps to one. */
  readonly indexDataClass?: DataClass;
  /** Fingerprints error events (default: no grouping rules). */
  readonly grouper?: ErrorGrouper;
}

/** The grouper of events normalised without one: the documented algorithm, no rules. */
export const DEFAULT_GROUPER = new ErrorGrouper();

/** Why an item was rejected; `code` is stable, `message` names the field. */
export interface Rejection {
  readonly code: string;
  readonly message: string;
}

export type NormalizeResult =
  { readonly ok: true; readonly record: EventRecord } | ({ readonly ok: false } & Rejection);

const SECURITY_CATEGORIES = new Set(['security', 'authentication', 'iam', 'intrusion_detection', 'fraud', 'threat']);
const BUSINESS_CATEGORIES = new Set(['financial', 'business', 'transaction', 'order', 'payment', 'user_activity']);

function reject(code: string, message: string): NormalizeResult {
  return { ok: false, code, message };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * What kind of value a client sent, never the value itself: a rejection
 * message names the line, the field and what was expected, and does not
 * echo content (a wrong field may hold a card number or a secret).
 */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return v.trim() === '' ? 'an empty string' : 'a string';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 'a number out of range';
    return Number.isInteger(v) ? 'a whole number' : 'a number with a fraction';
  }
  if (typeof v === 'boolean') return 'a boolean';
  return typeof v;
}

/** Largest distance of a JavaScript Date from the epoch, ms (±273,790 years). */
const MAX_DATE_MS = 8.64e15;

/** A field that cannot be stored as sent; normalizeEvent turns it into a rejection. */
export class FieldError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// Hot path (runs per field of every event): plain functions only, no closures
// created per call, so no per-call allocation (and no tsx __name wrapping).

/** Flattens nested objects into `dotted.name → value`; arrays are values. */
function flatten(obj: Record<string, unknown>, options: NormalizeOptions): Map<string, unknown> {
  const out = new Map<string, unknown>();
  walk(obj, '', 1, out, options);
  return out;
}

function walk(
  node: Record<string, unknown>,
  prefix: string,
  depth: number,
  out: Map<string, unknown>,
  options: NormalizeOptions,
): void {
  if (depth > options.maxDepth) {
    throw new FieldError('ingest.too_deep', `field "${prefix}" is nested more than ${options.maxDepth} levels deep`);
  }
  // Own keys only (`for…in` would also list inherited ones); `__proto__` is an own data key of parsed JSON.
  for (const key of Object.keys(node)) {
    const value = node[key];
    const name = prefix ? `${prefix}.${key}` : key;
    if (value === null || value === undefined) continue;
    // A dotted key nests as deep as the objects it stands for (`a.b.c` is `{a:{b:{c}}}`), so its dots
    // count toward maxDepth: 20,000 of them once made a stored event that no answer could serialise.
    const levels = depth + dotsIn(key);
    if (levels > options.maxDepth) {
      throw new FieldError(
        'ingest.too_deep',
        `field "${shortName(name)}" is nested more than ${options.maxDepth} levels deep (dotted names count)`,
      );
    }
    if (isPlainObject(value)) {
      walk(value, name, levels + 1, out, options);
      continue;
    }
    if (Array.isArray(value) && levels + 1 > options.maxDepth) {
      throw new FieldError(
        'ingest.too_deep',
        `field "${shortName(name)}" is nested more than ${options.maxDepth} levels deep`,
      );
    }
    out.set(name, value);
    if (out.size > options.maxFields) {
      throw new FieldError('ingest.too_many_fields', `the event has more than ${options.maxFields} fields`);
    }
  }
}

function dotsIn(key: string): number {
  let n = 0;
  for (let i = key.indexOf('.'); i !== -1; i = key.indexOf('.', i + 1)) n++;
  return n;
}

/** A field name short enough to quote in a message. */
function shortName(name: string): string {
  return name.length > 120 ? `${name.slice(0, 120)}…` : name;
}

function typeError(name: string, expected: string, value: unknown): FieldError {
  return new FieldError('ingest.invalid_field', `field "${name}": expected ${expected}, got ${describe(value)}`);
}

function isScalar(x: unknown): boolean {
  return typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
}

/** The value of typed field `def` as its column stores it; throws FieldError when it has the wrong type. */
export function coerce(def: FieldDef, value: unknown, name: string): ColumnValue {
  switch (def.type) {
    case 'keyword':
    case 'text':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw typeError(name, 'a string', value);
    case 'double': {
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
      throw typeError(name, 'a number', value);
    }
    case 'integer': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n === 'number' && Number.isInteger(n) && Math.abs(n) <= 2_147_483_647) return n;
      if (typeof n === 'number' && Number.isInteger(n)) {
        throw new FieldError(
          'ingest.invalid_field',
          `field "${name}": expected a whole number between -2147483648 and 2147483647, got one outside that range`,
        );
      }
      throw typeError(name, 'a whole number', value);
    }
    case 'keyword[]': {
      if (typeof value === 'string') return [value];
      if (Array.isArray(value) && value.every(isScalar)) return value.map(String);
      throw typeError(name, 'a string or an array of strings', value);
    }
    case 'timestamp':
      return parseTimestamp(value, name);
  }
}

/** Digit at `i` of `s` as a number, or NaN. */
function digitAt(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : Number.NaN;
}

/**
 * `2026-06-01T11:59:00.123Z`, the form most shippers write (and
 * `Date.toISOString`), read without Date.parse and the two expressions
 * (they cost more than the rest of the field). Only where its value is
 * plainly what Date.parse makes of it: a year from 1000, a day up to 28
 * (no month length to check), hours up to 23; undefined otherwise.
 */
function isoUtcMs(s: string): number | undefined {
  if (s.length !== 24 || s.charCodeAt(23) !== 90 || s.charCodeAt(10) !== 84) return undefined; // Z, T
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return undefined; // -
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46) return undefined; // : : .
  const year = digitAt(s, 0) * 1000 + digitAt(s, 1) * 100 + digitAt(s, 2) * 10 + digitAt(s, 3);
  const month = digitAt(s, 5) * 10 + digitAt(s, 6);
  const day = digitAt(s, 8) * 10 + digitAt(s, 9);
  const hour = digitAt(s, 11) * 10 + digitAt(s, 12);
  const minute = digitAt(s, 14) * 10 + digitAt(s, 15);
  const second = digitAt(s, 17) * 10 + digitAt(s, 18);
  const milli = digitAt(s, 20) * 100 + digitAt(s, 21) * 10 + digitAt(s, 22);
  // NaN (a non-digit) fails every comparison.
  if (!(year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= 28 && hour <= 23 && minute <= 59))
    return undefined;
  if (!(second <= 59 && milli >= 0)) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, milli);
}

/** Timestamp → microseconds. Numbers are epoch ms (or s / µs / ns by magnitude). */
export function parseTimestamp(value: unknown, name: string): number {
  let ms: number;
  const iso = typeof value === 'string' ? isoUtcMs(value) : undefined;
  if (iso !== undefined) ms = iso;
  else if (typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value))) {
    const n = Number(value);
    if (n < 1e11) ms = n * 1000;
    else if (n < 1e14) ms = n;
    else if (n < 1e17) ms = n / 1000;
    else ms = n / 1e6;
  } else if (typeof value === 'string') {
    ms = Date.parse(value);
    // A date-time without a zone means UTC (as Elasticsearch reads it), not local time.
    if (!Number.isNaN(ms) && /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) ms = Date.parse(`${value}Z`);
  } else {
    throw new FieldError(
      'ingest.invalid_timestamp',
      `field "${name}": expected an ISO-8601 time or epoch milliseconds, got ${describe(value)}`,
    );
  }
  // A string that is no date, or a number beyond any date (1e300 "ns" is finite, but no time).
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) {
    const got = typeof value === 'string' ? 'a string that is not a time' : 'a number beyond any date';
    throw new FieldError(
      'ingest.invalid_timestamp',
      `field "${name}": expected an ISO-8601 time or epoch milliseconds, got ${got}`,
    );
  }
  return Math.round(ms * 1000);
}

/**
 * The fingerprint of an error event (src/errors/fingerprint.ts), or the
 * client's own when the event has no exception type: `columns` are the
 * event's typed values, `get` reads any flattened field, `clientList` is a
 * list-form `error.fingerprint`. Undefined for an event that is no error.
 */
export function eventFingerprint(
  grouper: ErrorGrouper,
  tenant: string,
  columns: Readonly<Record<string, ColumnValue | undefined>>,
  get: (name: string) => unknown,
  clientList?: readonly string[],
): string | undefined {
  const sent = columns['error_fingerprint'];
  const client = clientList ?? (typeof sent === 'string' ? sent : undefined);
  const error = errorRecordOf(
    columns['error_type'],
    columns['error_message'] ?? columns['message'],
    columns['service'],
    client,
    get,
  );
  if (!error) return typeof sent === 'string' ? sent : undefined;
  return grouper.fingerprint(error, tenant).fingerprint;
}

/**
 * Data class precedence: an explicit `data_class`; an index mapped to audit
 * or security; the event type (payments and orders stay business even when a
 * shipper sends them to `logs-*`, so they keep business retention); the
 * event category; the index mapping; otherwise app.
 */
export function dataClassFor(
  eventCategory: ColumnValue | undefined,
  eventType: ColumnValue | undefined,
  explicit: unknown,
  fromIndex: DataClass | undefined,
): DataClass | string {
  if (explicit !== undefined) {
    return typeof explicit === 'string' && (DATA_CLASSES as readonly string[]).includes(explicit)
      ? (explicit as DataClass)
      : 'invalid:';
  }
  if (fromIndex === 'audit' || fromIndex === 'security') return fromIndex;
  const category = typeof eventCategory === 'string' ? eventCategory.toLowerCase() : '';
  if (SECURITY_CATEGORIES.has(category)) return 'security';
  if (category === 'audit') return 'audit';
  const fromType = typeof eventType === 'string' ? eventTypeDataClass(eventType) : undefined;
  if (fromType && fromType !== 'app') return fromType;
  if (BUSINESS_CATEGORIES.has(category)) return 'business';
  return fromIndex ?? fromType ?? 'app';
}

/** Normalises one raw event. */
export function normalizeEvent(raw: unknown, options: NormalizeOptions): NormalizeResult {
  if (!isPlainObject(raw)) return reject('ingest.not_an_object', `expected a JSON object, got ${describe(raw)}`);
  try {
    const flat = flatten(mapSegmentOrGa4(raw), options);
    const columns: Record<string, ColumnValue> = {};
    // Keyed by client field names (`__proto__`, `constructor`): no prototype, so each is a plain own key.
    let attributes: Record<string, unknown> | null = null;
    let ts: number | undefined;
    let explicitClass: unknown;
    let fingerprintList: string[] | undefined;
    for (const [name, value] of flat) {
      if (name === 'data_class') {
        explicitClass = value;
        continue;
      }
      if (name === 'tenant') {
        // The tenant comes from the API key; a payload cannot choose it.
        (attributes ??= dataObject())['tenant.sent'] = value;
        continue;
      }
      const def = typedField(name);
      if (!def) {
        (attributes ??= dataObject())[name] = value;
        continue;
      }
      if (def.column === 'ts') {
        if (ts === undefined) ts = parseTimestamp(value, name);
        else (attributes ??= dataObject())[name] = value;
        continue;
      }
      if (def.column === 'data_class' || def.column === 'tenant') continue;
      if (def.column === 'error_fingerprint' && Array.isArray(value) && value.every(isScalar)) {
        // Sentry's list form (`["{{ default }}", "gateway"]`): hashed into one fingerprint below.
        fingerprintList = value.map(String);
        continue;
      }
      if (columns[def.column] !== undefined) {
        // Two aliases of one column (user.session_id and security.session_id): keep the second as sent.
        (attributes ??= dataObject())[name] = value;
        continue;
      }
      let v = coerce(def, value, name);
      if (def.column === 'event_type' && typeof v === 'string') {
        const canonical = canonicalEventType(v);
        if (canonical !== v) (attributes ??= dataObject())['event.type_original'] = v;
        v = canonical;
      }
      columns[def.column] = v;
    }
    if (options.indexName !== undefined) columns['index_name'] = options.indexName;

    const receivedUs = options.receivedAtMs * 1000;
    const eventTs = ts ?? receivedUs;
    if (eventTs > receivedUs + options.maxFutureSkewMs * 1000) {
      return reject(
        'ingest.timestamp_out_of_range',
        `field "@timestamp": the time is more than ${options.maxFutureSkewMs / 1000}s in the future`,
      );
    }
    if (eventTs < receivedUs - options.maxPastAgeMs * 1000) {
      return reject(
        'ingest.timestamp_out_of_range',
        `field "@timestamp": the time is older than the accepted ${Math.round(options.maxPastAgeMs / 86_400_000)} days`,
      );
    }

    const dataClass = dataClassFor(
      columns['event_category'],
      columns['event_type'],
      explicitClass,
      options.indexDataClass,
    );
    if (dataClass.startsWith('invalid:')) {
      return reject(
        'ingest.invalid_field',
        `field "data_class": expected one of ${DATA_CLASSES.join(', ')}, got ${describe(explicitClass)}`,
      );
    }

    const fingerprint = eventFingerprint(
      options.grouper ?? DEFAULT_GROUPER,
      options.tenant,
      columns,
      (name) => flat.get(name),
      fingerprintList,
    );
    if (fingerprint !== undefined) columns['error_fingerprint'] = fingerprint;
    return {
      ok: true,
      record: { ts: eventTs, tenant: options.tenant, dataClass: dataClass as DataClass, columns, attributes },
    };
  } catch (err) {
    if (err instanceof FieldError) return reject(err.code, err.message);
    throw err;
  }
}
