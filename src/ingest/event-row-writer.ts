/**
 * One pass per event: walks a parsed raw event once, redacting as it goes,
 * and writes its row line directly, with no redacted copy, no flattened map,
 * no columns or attributes object and no second JSON.stringify. The output
 * is exactly what the chain redactEvent → normalizeEvent → markRedactions →
 * toRowLine makes of the same event (test/ingest/one-pass.test.ts compares
 * them on the bench, demo and fuzz corpora).
 *
 * It handles the common case only. For anything else it answers `undefined`
 * and the caller runs that chain (Normalizer.prepareRow): a rejection of any
 * kind, a Segment or GA4 payload, a key that redaction would change, a
 * flattened name that two fields share, or a client field named like one the
 * normaliser generates. So whatever is odd about an event is decided by the
 * one implementation that the redaction and normalisation tests pin down.
 *
 * Per-field decisions (dotted name, typed column, drop / exempt / IP rules,
 * depth) depend only on the path of keys, and are cached by it
 * (field-trie.ts). Strings go through the scanners only when
 * Redactor.mayChange says one of them could act. The pieces of the row line
 * are joined once at the end: a line built with `+=` is a rope of ~100
 * pieces, and keeping a request's rows as ropes until their commit made the
 * collector's work cost as much as everything else.
 */
import { maskCardText, numberIsCard } from '../privacy/card-numbers.ts';
import { REDACTION_MARKER, type Redactor } from '../privacy/redactor.ts';
import { canonicalEventType } from '../schema/event-types.ts';
import { EVENT_FIELDS, type FieldDef } from '../schema/fields.ts';
import type { ColumnValue, RowLine } from '../schema/record.ts';
import { DATA_CLASS, FieldTrie, flat, PLAIN, TENANT, type FieldNode } from './field-trie.ts';
import type { ErrorGrouper } from '../errors/grouping-rules.ts';
import { coerce, dataClassFor, DEFAULT_GROUPER, eventFingerprint, FieldError, parseTimestamp } from './normalize.ts';

/** Limits of the normalisation, as in NormalizeOptions (ms for times). */
export interface RowWriterLimits {
  readonly maxDepth: number;
  readonly maxFields: number;
  readonly maxFutureSkewMs: number;
  readonly maxPastAgeMs: number;
}

/** Thrown (never escapes write): the event needs the chain. */
const BAIL = Symbol('bail');

function bail(): never {
  throw BAIL;
}

const columnIndex = (column: string): number => EVENT_FIELDS.findIndex((f) => f.column === column);
const COL_EVENT_TYPE = columnIndex('event_type');
const COL_EVENT_CATEGORY = columnIndex('event_category');
const COL_SERVICE = columnIndex('service');
const COL_MESSAGE = columnIndex('message');
const COL_ERROR_TYPE = columnIndex('error_type');
const COL_ERROR_MESSAGE = columnIndex('error_message');
const COL_ERROR_FINGERPRINT = columnIndex('error_fingerprint');
/** `,"column":` per typed column (and with the opening quote of a string value). */
const COLUMN_JSON = EVENT_FIELDS.map((f) => flat(',', JSON.stringify(f.column), ':'));
const COLUMN_JSON_QUOTE = EVENT_FIELDS.map((f) => flat(',', JSON.stringify(f.column), ':"'));
/** The same after a string value, with its closing quote. */
const Q_COLUMN_JSON = COLUMN_JSON.map((k) => flat('"', k));
const Q_COLUMN_JSON_QUOTE = COLUMN_JSON_QUOTE.map((k) => flat('"', k));

const MARKER_KEY = flat(',', JSON.stringify(REDACTION_MARKER), ':');
const Q_MARKER_KEY = flat('"', MARKER_KEY);
const TENANT_SENT = ',"tenant.sent":';
const Q_TENANT_SENT = flat('"', TENANT_SENT);
const TYPE_ORIGINAL = ',"event.type_original":';
const Q_TYPE_ORIGINAL = flat('"', TYPE_ORIGINAL);

function scalarJson(v: string | number | boolean): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  return v ? 'true' : 'false';
}

function columnJson(v: ColumnValue): string {
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
}

export class EventRowWriter {
  readonly #redactor: Redactor;
  readonly #limits: RowWriterLimits;
  /** The redactor refuses containers this deep (its maxDepth + 8). */
  readonly #redactDepth: number;
  readonly #fields: FieldTrie;
  readonly #grouper: ErrorGrouper;

  // State of the event being written, reused from event to event.
  #event = 0;
  #fieldCount = 0;
  /** Pieces of the row line: [head, attribute pieces..., column pieces..., '}']. */
  readonly #parts: string[] = [''];
  /** Pieces in #parts for this event (the array is not shrunk between events: regrowing it cost more than the join). */
  #n = 1;
  /** The last piece is a string value without its closing quote (the next piece brings it). */
  #open = false;
  #marker: string[] = [];
  readonly #cols: (ColumnValue | undefined)[] = new Array<ColumnValue | undefined>(EVENT_FIELDS.length);
  readonly #order: number[] = [];
  /** Per typed column: its string value needs no JSON escaping. */
  readonly #colPlain: boolean[] = new Array<boolean>(EVENT_FIELDS.length).fill(false);
  /** The event's JSON text held no backslash: none of its strings needs escaping (see write). */
  #noEscapes = false;
  #ts: number | undefined;
  #explicit: unknown;
  #lastTenant = '';
  #lastTenantJson = '""';
  /** `event.type` of the last row line written ('' for none). */
  lastEventType = '';

  constructor(redactor: Redactor, limits: RowWriterLimits, grouper: ErrorGrouper = DEFAULT_GROUPER) {
    this.#grouper = grouper;
    this.#redactor = redactor;
    this.#limits = limits;
    this.#redactDepth = limits.maxDepth + 8;
    this.#fields = new FieldTrie(redactor);
  }

  /**
   * The row line of one raw event (as parsed from JSON), or `undefined` when
   * the event needs the full chain. Redactions are recorded in the
   * redactor's counts only when a row line is returned.
   *
   * `noEscapes`: the JSON text `raw` was parsed from holds no backslash.
   * Then no string in it holds a quote, a backslash or a control character
   * (JSON text cannot hold them unescaped), nor a lone surrogate (the text
   * is strict UTF-8), so each string that redaction leaves alone is written
   * between quotes as it is, without JSON.stringify.
   */
  write(raw: unknown, tenant: string, receivedAtMs: number, noEscapes = false): RowLine | undefined {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
    const obj = raw as Record<string, unknown>;
    // Segment and GA4 payloads are remapped after redaction; the chain does that. A number
    // `event` could become a string (a masked card), so it counts too.
    const ev = obj['event'];
    const gaName = obj['event_name'];
    const params = obj['params'];
    if (typeof ev === 'string' || typeof ev === 'number' || typeof gaName === 'string' || typeof gaName === 'number')
      return undefined;
    if (params !== null && typeof params === 'object' && !Array.isArray(params)) return undefined;

    this.#event++;
    this.#noEscapes = noEscapes;
    this.#fieldCount = 0;
    this.#n = 1;
    this.#open = false;
    this.#ts = undefined;
    this.#explicit = undefined;
    if (this.#marker.length > 0) this.#marker = [];
    this.#redactor.beginCounting();
    try {
      this.#walk(obj, this.#fields.root, 0);
      const line = this.#finish(tenant, receivedAtMs);
      this.#redactor.endCounting();
      return line;
    } catch (err) {
      this.#redactor.rollbackCounts();
      if (err === BAIL || err instanceof FieldError) return undefined;
      throw err;
    } finally {
      const cols = this.#cols;
      for (const i of this.#order) cols[i] = undefined;
      this.#order.length = 0;
    }
  }

  #finish(tenant: string, receivedAtMs: number): RowLine {
    const { maxFutureSkewMs, maxPastAgeMs } = this.#limits;
    const cols = this.#cols;
    const receivedUs = receivedAtMs * 1000;
    const ts = this.#ts ?? receivedUs;
    if (ts > receivedUs + maxFutureSkewMs * 1000 || ts < receivedUs - maxPastAgeMs * 1000) throw BAIL;
    const dataClass = dataClassFor(cols[COL_EVENT_CATEGORY], cols[COL_EVENT_TYPE], this.#explicit, undefined);
    if (dataClass.startsWith('invalid:')) throw BAIL;
    const eventType = cols[COL_EVENT_TYPE];
    this.lastEventType = typeof eventType === 'string' ? eventType : '';
    const errorType = cols[COL_ERROR_TYPE];
    if (typeof errorType === 'string') {
      // Events with frames, a stack text or a project are the chain's (field-trie.ts): type and message only here.
      const sent = cols[COL_ERROR_FINGERPRINT];
      const fingerprint = eventFingerprint(
        this.#grouper,
        tenant,
        {
          error_type: errorType,
          error_message: cols[COL_ERROR_MESSAGE],
          message: cols[COL_MESSAGE],
          service: cols[COL_SERVICE],
          error_fingerprint: sent,
        },
        () => undefined,
      );
      if (fingerprint !== undefined && fingerprint !== sent) {
        if (sent === undefined) this.#order.push(COL_ERROR_FINGERPRINT);
        cols[COL_ERROR_FINGERPRINT] = fingerprint;
        // Computed ones are hex digits; a rule's or a trimmed client's may need escaping.
        this.#colPlain[COL_ERROR_FINGERPRINT] = /^[0-9a-f]{16}$/.test(fingerprint);
      }
    }

    if (tenant !== this.#lastTenant) {
      this.#lastTenant = tenant;
      this.#lastTenantJson = JSON.stringify(tenant);
    }
    const parts = this.#parts;
    parts[0] = `{"ts":${Math.round(ts)},"tenant":${this.#lastTenantJson},"data_class":"${dataClass}"`;
    const marker = this.#marker;
    if (marker.length > 0) this.#attr(MARKER_KEY, Q_MARKER_KEY, JSON.stringify(marker));
    if (this.#n > 1) {
      // The first attribute's key never follows a string value: it has no quote before its comma.
      parts[1] = `,"attributes":{${(parts[1] as string).slice(1)}`;
      this.#key('}', '"}');
    }
    for (const i of this.#order) {
      const c = cols[i] as ColumnValue;
      if (typeof c === 'string' && this.#colPlain[i])
        this.#quoted(COLUMN_JSON_QUOTE[i] as string, Q_COLUMN_JSON_QUOTE[i] as string, c);
      else this.#attr(COLUMN_JSON[i] as string, Q_COLUMN_JSON[i] as string, columnJson(c));
    }
    this.#key('}', '"}');
    parts.length = this.#n;
    const line = parts.join(''); // one flat string, not a rope (see the file's comment)
    return line as RowLine;
  }

  /**
   * Adds a piece that starts a member (`,"name":`, or `}`): as it is, or,
   * after a string value, as `quoted`, which carries that value's closing
   * quote (a third fewer pieces to join).
   */
  #key(plain: string, quoted: string): void {
    this.#parts[this.#n++] = this.#open ? quoted : plain;
    this.#open = false;
  }

  /** Adds a member: its key (see #key) and its value as JSON. */
  #attr(key: string, quotedKey: string, valueJson: string): void {
    this.#key(key, quotedKey);
    this.#parts[this.#n++] = valueJson;
  }

  /** Adds a member whose value is a string that needs no escaping; its key ends with the opening quote. */
  #quoted(key: string, quotedKey: string, text: string): void {
    this.#key(key, quotedKey);
    this.#parts[this.#n++] = text;
    this.#open = true;
  }

  /** An object value: its fields flatten into the event. `depth`: the redactor's container depth. */
  #walk(obj: Record<string, unknown>, node: FieldNode, depth: number): void {
    if (depth >= this.#redactDepth) throw BAIL;
    const maxDepth = this.#limits.maxDepth;
    // Own keys only; `__proto__` is an own data key of parsed JSON.
    for (const key of Object.keys(obj)) {
      const value = obj[key];
      const child = node.children?.get(key) ?? this.#fields.child(node, key) ?? bail();
      if (child.bail) throw BAIL;
      if (child.rule.drop) {
        this.#redactor.recordEntry(`field:${child.name}`, this.#marker);
        continue;
      }
      if (value === null || value === undefined) continue;
      if (typeof value === 'object') {
        if (child.levels + 1 > maxDepth) throw BAIL;
        if (Array.isArray(value)) this.#arrayField(child, value, depth + 1);
        else this.#walk(value as Record<string, unknown>, child, depth + 1);
        continue;
      }
      if (child.levels > maxDepth) throw BAIL;
      if (typeof value === 'string') {
        const text = this.#string(value, child);
        this.#field(child, text, this.#noEscapes && text === value);
      } else if (typeof value === 'number') this.#field(child, this.#number(value), false);
      else if (typeof value === 'boolean') this.#field(child, value, false);
      else throw BAIL;
    }
  }

  #string(text: string, node: FieldNode): string {
    const rule = node.rule;
    return rule.ip || this.#redactor.mayChange(text) ? this.#redactor.redactValue(text, rule, this.#marker) : text;
  }

  #number(n: number): string | number {
    if (!numberIsCard(n)) return n;
    this.#redactor.recordEntry('card_number', this.#marker);
    return maskCardText(String(n));
  }

  /** Counts a flattened field; two fields of one name (`a.b` and `a: {b}`) are the chain's to merge. */
  #count(node: FieldNode): void {
    if (++this.#fieldCount > this.#limits.maxFields) throw BAIL;
    if (node.slot.seen === this.#event) throw BAIL;
    node.slot.seen = this.#event;
  }

  /** A scalar field, already redacted; `plain`: a string that needs no JSON escaping. */
  #field(node: FieldNode, v: string | number | boolean, plain: boolean): void {
    this.#count(node);
    const role = node.role;
    if (role !== PLAIN) {
      if (role === DATA_CLASS) this.#explicit = v;
      else if (role === TENANT) this.#attr(TENANT_SENT, Q_TENANT_SENT, scalarJson(v));
      return;
    }
    const def = node.def;
    if (def !== undefined) this.#typed(node, def, v, scalarJson, plain);
    else if (plain) this.#quoted(node.attrKeyQuote, node.qAttrKeyQuote, v as string);
    else this.#attr(node.attrKey, node.qAttrKey, scalarJson(v));
  }

  /** An array field: redacted element by element. */
  #arrayField(node: FieldNode, arr: unknown[], depth: number): void {
    this.#count(node);
    const role = node.role;
    if (role === DATA_CLASS) throw BAIL; // not a data class: a rejection
    if (role !== PLAIN || node.def === undefined) {
      const json = this.#arrayJson(arr, node, depth);
      if (role === TENANT) this.#attr(TENANT_SENT, Q_TENANT_SENT, json);
      else if (role === PLAIN) this.#attr(node.attrKey, node.qAttrKey, json);
      return;
    }
    // A typed array is a keyword[] column (or a rejection, or an attribute): scalars only here.
    if (depth >= this.#redactDepth) throw BAIL;
    const copy = new Array<string | number | boolean>(arr.length);
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (typeof v === 'string') copy[i] = this.#string(v, node);
      else if (typeof v === 'number') copy[i] = this.#number(v);
      else if (typeof v === 'boolean') copy[i] = v;
      else throw BAIL;
    }
    this.#typed(node, node.def, copy, (c) => JSON.stringify(c), false);
  }

  #typed<T>(node: FieldNode, def: FieldDef, v: T, json: (v: T) => string, plain: boolean): void {
    if (def.column === 'ts') {
      if (this.#ts === undefined) this.#ts = parseTimestamp(v, node.name);
      else this.#attr(node.attrKey, node.qAttrKey, json(v));
      return;
    }
    if (def.column === 'data_class' || def.column === 'tenant') return;
    const i = node.column;
    if (this.#cols[i] !== undefined) {
      // Two aliases of one column (user.session_id and security.session_id): keep the second as sent.
      this.#attr(node.attrKey, node.qAttrKey, json(v));
      return;
    }
    let c = coerce(def, v, node.name);
    if (i === COL_EVENT_TYPE && typeof c === 'string') {
      const canonical = canonicalEventType(c);
      if (canonical !== c) this.#attr(TYPE_ORIGINAL, Q_TYPE_ORIGINAL, JSON.stringify(c));
      c = canonical;
    }
    this.#cols[i] = c;
    this.#colPlain[i] = plain && c === v;
    this.#order.push(i);
  }

  /** JSON of an array value as JSON.stringify writes the redacted array. */
  #arrayJson(arr: unknown[], node: FieldNode, depth: number): string {
    if (depth >= this.#redactDepth) throw BAIL;
    let out = '[';
    for (let i = 0; i < arr.length; i++) {
      if (i > 0) out += ',';
      out += this.#valueJson(arr[i], node, depth + 1);
    }
    return `${out}]`;
  }

  /** JSON of an object inside an array, redacted: dropped keys left out. */
  #objectJson(obj: Record<string, unknown>, node: FieldNode, depth: number): string {
    if (depth >= this.#redactDepth) throw BAIL;
    let out = '';
    for (const key of Object.keys(obj)) {
      const child = node.children?.get(key) ?? this.#fields.child(node, key) ?? bail();
      if (child.bail) throw BAIL;
      if (child.rule.drop) {
        this.#redactor.recordEntry(`field:${child.name}`, this.#marker);
        continue;
      }
      const json = `${child.keyJson}:${this.#valueJson(obj[key], child, depth + 1)}`;
      out = out === '' ? json : `${out},${json}`;
    }
    return `{${out}}`;
  }

  #valueJson(v: unknown, node: FieldNode, depth: number): string {
    if (typeof v === 'string') return JSON.stringify(this.#string(v, node));
    if (typeof v === 'number') return scalarJson(this.#number(v));
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (v === null) return 'null';
    if (Array.isArray(v)) return this.#arrayJson(v, node, depth);
    if (typeof v === 'object') return this.#objectJson(v as Record<string, unknown>, node, depth);
    throw BAIL;
  }
}
