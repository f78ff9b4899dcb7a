/**
 * What became visible to queries when a log segment was loaded, per tenant:
 * the event types of its rows and their time range. Engine-neutral and
 * cheap: a request prepared by an ingest worker carries its tenant and
 * event types (noted as its rows were written, so nothing is read again on
 * the main thread); other records' row lines are read from their bytes (one
 * native search per row, no JSON parse, nothing allocated for a value equal
 * to the previous row's; about 0.4 µs per 400-byte row). Only while someone
 * listens (the alert engine evaluates the rules a batch can change).
 * Elasticsearch indices are not read: finding a field that most rows lack
 * costs a search through every byte, as much again.
 */

import type { LogRecord } from './segment-log.ts';

/** Rows of one tenant that became visible together. */
export interface VisibleRows {
  /** Undefined: rows whose tenant could not be read (any tenant may have new rows). */
  readonly tenant: string | undefined;
  readonly rows: number;
  /**
   * Distinct `event.type` values of the rows (`''` stands for rows without
   * one); undefined when not known (too many distinct values, or a value
   * written with escapes): any type may be among them.
   */
  readonly eventTypes: ReadonlySet<string> | undefined;
  /** Distinct `_index` values, as eventTypes (not read by this ledger: always undefined). */
  readonly indices: ReadonlySet<string> | undefined;
  /** Earliest and latest event time of the rows, ms. */
  readonly fromMs: number;
  readonly toMs: number;
}

/** Hears what became visible, once per loaded segment. */
export type VisibleRowsListener = (batches: readonly VisibleRows[]) => void;

/** More distinct values than this in one segment: the set is dropped (any value). */
const MAX_DISTINCT = 64;
/** Tally key of rows whose tenant could not be read (no tenant id holds a NUL). */
const ANY_TENANT = '\u0000';
const NEWLINE = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const TS_PREFIX = '{"ts":'.length;
const TENANT = Buffer.from(',"tenant":"');
const EVENT_TYPE = Buffer.from('"event_type":"');

interface Tally {
  rows: number;
  eventTypes: Set<string> | undefined;
  fromUs: number;
  toUs: number;
}

function add(set: Set<string> | undefined, value: string | undefined): Set<string> | undefined {
  if (!set || value === undefined) return undefined;
  set.add(value);
  return set.size > MAX_DISTINCT ? undefined : set;
}

/** End of the JSON string value starting at `from` (its closing quote), or -1 when it holds an escape. */
function stringEnd(body: Buffer, from: number, limit: number): number {
  for (let i = from; i < limit; i++) {
    const c = body[i];
    if (c === QUOTE) return i;
    if (c === BACKSLASH) return -1;
  }
  return -1;
}

/**
 * Reads one field's values row by row. The next occurrence is searched once
 * and kept: rows without the field cost nothing more, so the whole body is
 * scanned once per field.
 */
class FieldScanner {
  readonly #needle: Buffer;
  #next = -2;
  #lastStart = -1;
  #lastEnd = -1;
  #lastValue = '';

  constructor(needle: Buffer) {
    this.#needle = needle;
  }

  /**
   * Values of the field in the row [start, end): the row's own last value
   * (the typed column follows the attributes), `''` when absent, undefined
   * when unreadable.
   */
  read(body: Buffer, start: number, end: number): string | undefined {
    if (this.#next !== -1 && this.#next < start) this.#next = body.indexOf(this.#needle, start);
    let value: string | undefined = '';
    while (this.#next !== -1 && this.#next < end) {
      const from = this.#next + this.#needle.length;
      const close = stringEnd(body, from, end);
      if (close < 0) value = undefined;
      else value = this.#decode(body, from, close);
      this.#next = body.indexOf(this.#needle, from);
    }
    return value;
  }

  /** The value of the field written at `at` (the tenant, right after `ts`), undefined when it is not there. */
  readAt(body: Buffer, at: number, end: number): string | undefined {
    const needle = this.#needle;
    if (at + needle.length > end) return undefined;
    // A loop, not Buffer.compare: a native call per row costs more than these few bytes.
    for (let k = 0; k < needle.length; k++) if (body[at + k] !== needle[k]) return undefined;
    const from = at + needle.length;
    const close = stringEnd(body, from, end);
    return close < 0 ? undefined : this.#decode(body, from, close);
  }

  #decode(body: Buffer, from: number, close: number): string {
    const length = close - from;
    if (length === this.#lastEnd - this.#lastStart && this.#lastStart >= 0) {
      let same = true;
      for (let i = 0; i < length && same; i++) same = body[from + i] === body[this.#lastStart + i];
      if (same) {
        this.#lastStart = from;
        this.#lastEnd = close;
        return this.#lastValue;
      }
    }
    this.#lastStart = from;
    this.#lastEnd = close;
    this.#lastValue = body.toString('utf8', from, close);
    return this.#lastValue;
  }
}

/** Folds row-line bodies into per-tenant tallies by segment, and hands them out once the segment is visible. */
export class VisibleRowsLedger {
  readonly #segments = new Map<number, Map<string, Tally>>();
  readonly #listeners = new Set<VisibleRowsListener>();

  /** Someone listens (otherwise appends are not read at all). */
  get active(): boolean {
    return this.#listeners.size > 0;
  }

  /** Adds a listener; answers the function that removes it. */
  listen(listener: VisibleRowsListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#segments.clear();
    };
  }

  /**
   * Adds a record's rows to `segment`: from its summary when it has one (an ingest worker noted tenant
   * and event types as it wrote the rows), else read from its row lines.
   */
  add(segment: number, record: LogRecord): void {
    if (!this.active) return;
    let tallies = this.#segments.get(segment);
    if (!tallies) this.#segments.set(segment, (tallies = new Map()));
    const summary = record.summary;
    if (summary && record.maxTsUs !== undefined && Number.isFinite(record.maxTsUs)) {
      let tally = tallies.get(summary.tenant);
      if (!tally) {
        tally = { rows: 0, eventTypes: new Set(), fromUs: record.minTsUs, toUs: record.maxTsUs };
        tallies.set(summary.tenant, tally);
      }
      tally.rows += record.rows;
      if (record.minTsUs < tally.fromUs) tally.fromUs = record.minTsUs;
      if (record.maxTsUs > tally.toUs) tally.toUs = record.maxTsUs;
      if (summary.eventTypes === null) tally.eventTypes = undefined;
      else for (const type of summary.eventTypes) tally.eventTypes = add(tally.eventTypes, type);
      return;
    }
    this.#read(tallies, record.body);
  }

  /** Reads the row lines of `body` (each `{"ts":<µs>,"tenant":"…",…}\n`) into `tallies`. */
  #read(tallies: Map<string, Tally>, body: Buffer): void {
    const types = new FieldScanner(EVENT_TYPE);
    const tenants = new FieldScanner(TENANT);
    let tally: Tally | undefined;
    let tallyTenant: string | undefined;
    for (let start = 0; start < body.length;) {
      let end = body.indexOf(NEWLINE, start);
      if (end < 0) end = body.length;
      let tsUs = 0;
      let i = start + TS_PREFIX;
      for (let c = body[i]; c !== undefined && c >= 0x30 && c <= 0x39; c = body[++i]) tsUs = tsUs * 10 + c - 0x30;
      // Not a row line as toRowLine writes it: whose it is is not known (ANY_TENANT).
      const tenant = tenants.readAt(body, i, end) ?? ANY_TENANT;
      if (tenant !== tallyTenant || !tally) {
        tallyTenant = tenant;
        tally = tallies.get(tenant);
        if (!tally) {
          const known = tenant !== ANY_TENANT;
          tally = {
            rows: 0,
            eventTypes: known ? new Set() : undefined,
            fromUs: known ? tsUs : 0,
            toUs: known ? tsUs : Number.MAX_SAFE_INTEGER,
          };
          tallies.set(tenant, tally);
        }
      }
      tally.rows++;
      if (tsUs < tally.fromUs) tally.fromUs = tsUs;
      if (tsUs > tally.toUs) tally.toUs = tsUs;
      tally.eventTypes = add(tally.eventTypes, types.read(body, start, end));
      start = end + 1;
    }
  }

  /** Every segment up to `segment` is visible: tell the listeners what it held. */
  visible(segment: number): void {
    if (!this.active) return;
    const batches: VisibleRows[] = [];
    for (const [id, tallies] of this.#segments) {
      if (id > segment) continue;
      this.#segments.delete(id);
      for (const [tenant, t] of tallies) {
        batches.push({
          tenant: tenant === ANY_TENANT ? undefined : tenant,
          rows: t.rows,
          eventTypes: t.eventTypes,
          indices: undefined,
          fromMs: Math.floor(t.fromUs / 1000),
          toMs: Math.ceil(t.toUs / 1000),
        });
      }
    }
    if (batches.length === 0) return;
    for (const listener of this.#listeners) listener(batches);
  }
}
