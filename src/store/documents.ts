/**
 * Small JSON documents the service keeps per tenant, beside the events:
 * dashboards, alert rules, alert state and history, silences, the
 * notification outbox, API keys. Every engine implements the same contract.
 *
 * Documents hold client text too (a rule's query and annotations, a
 * dashboard's titles, a silence's comment, a key's name), so every store
 * passes each body and id through `redactDocument` / `redactDocumentText`
 * before writing: card numbers are masked to their last four digits and
 * secret values (`password=…`, `Bearer …`, API key shapes) become
 * `[redacted]`, as in events. E-mail addresses stay (they are alert
 * recipients and owners, not secrets).
 */
import { maskCardText, numberIsCard } from '../privacy/card-numbers.ts';
import { privacyConfigSchema } from '../privacy/privacy-config.ts';
import { Redactor } from '../privacy/redactor.ts';

/** One stored document. */
export interface StoredDocument<T = unknown> {
  readonly tenant: string;
  /** What the document is: `dashboard`, `alert_rule`, `api_key`, ... (lowercase, `[a-z0-9_.-]`). */
  readonly kind: string;
  /** Unique within tenant and kind (1–200 characters). */
  readonly id: string;
  readonly body: T;
  /** ISO-8601, set on first write. */
  readonly createdAt: string;
  /** ISO-8601, set on every write. */
  readonly updatedAt: string;
  /** 1 on first write, +1 on every replacement (optimistic concurrency). */
  readonly version: number;
}

export interface ListDocumentsOptions {
  /** Only ids that start with this prefix. */
  readonly idPrefix?: string;
  /** `id` (ascending, the default) or `updated` (newest first). */
  readonly order?: 'id' | 'updated';
  /** At most this many (default 1000). */
  readonly limit?: number;
}

export interface PutDocumentOptions {
  /**
   * Write only if the stored version is this one (0 = must not exist yet);
   * otherwise the promise rejects with an AppError 409 `document.conflict`.
   */
  readonly expectedVersion?: number;
  /**
   * Top-level body fields the server made itself and that must stay byte
   * for byte (a key's hash: hex digits can look like a card number); every
   * other field is redacted.
   */
  readonly verbatim?: readonly string[];
}

/**
 * Durable per-tenant document storage. A write resolves only after it is
 * committed. Bodies must be JSON-serialisable. Bodies and ids are redacted
 * (`redactDocument`) before they are written, and ids are looked up in
 * their redacted form, so what a caller stores is what it reads back.
 */
export interface DocumentStore {
  get<T = unknown>(tenant: string, kind: string, id: string): Promise<StoredDocument<T> | undefined>;
  list<T = unknown>(tenant: string, kind: string, options?: ListDocumentsOptions): Promise<StoredDocument<T>[]>;
  /** Tenants that have at least one document of `kind` (for background jobs such as alert evaluation). */
  tenants(kind: string): Promise<string[]>;
  /** Creates or replaces. */
  put<T = unknown>(
    tenant: string,
    kind: string,
    id: string,
    body: T,
    options?: PutDocumentOptions,
  ): Promise<StoredDocument<T>>;
  /** True when a document was deleted. */
  delete(tenant: string, kind: string, id: string): Promise<boolean>;
}

const KIND = /^[a-z0-9_.-]{1,64}$/;

/** Checks kind and id; the store calls it before any statement runs. */
export function checkDocumentKey(kind: string, id: string): void {
  if (!KIND.test(kind)) throw new TypeError(`document kind "${kind}" must match ${KIND}`);
  if (id.length === 0 || id.length > 200) throw new TypeError('document id must be 1-200 characters');
}

/** Cards and secret values only (see the file comment: e-mail addresses are kept). */
const documentRedactor = new Redactor(privacyConfigSchema.parse({ maskEmails: false }));

/** Deepest nesting a document body may have (documents are small; this bounds the walk). */
const MAX_DOCUMENT_DEPTH = 64;

/** A document's text with card numbers masked and secret values replaced; the same string when clean. */
export function redactDocumentText(text: string): string {
  return documentRedactor.redactText(wellFormed(text));
}

/** A lone UTF-16 surrogate (valid in a JS string, not in UTF-8 or DuckDB's JSON) as U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function wellFormed(text: string): string {
  // A lone surrogate in a rule label or silence comment made DuckDB refuse the JSON: a 500.
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * A copy of `body` with every string (values and keys) redacted as
 * `redactDocumentText` does and every number that is a card number masked;
 * `verbatim` names top-level fields copied unchanged. Keys such as
 * `__proto__` stay plain data keys. Throws a TypeError for bodies nested
 * deeper than 64 levels or not JSON-serialisable.
 */
export function redactDocument<T>(body: T, verbatim: readonly string[] = []): T {
  const text = JSON.stringify(body);
  if (text === undefined) throw new TypeError('document body must be JSON-serialisable');
  // A parsed copy: plain JSON values only, and the caller's objects are not changed.
  return redactValue(JSON.parse(text), 0, verbatim) as T;
}

function redactValue(value: unknown, depth: number, verbatim: readonly string[]): unknown {
  if (typeof value === 'string') return redactDocumentText(value);
  if (typeof value === 'number') return numberIsCard(value) ? maskCardText(String(value)) : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DOCUMENT_DEPTH)
    throw new TypeError(`document body is nested more than ${MAX_DOCUMENT_DEPTH} levels`);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, []));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const kept = depth === 0 && verbatim.includes(key);
    // defineProperty: `__proto__` from JSON is an own data key, and must stay one.
    Object.defineProperty(out, kept ? key : redactDocumentText(key), {
      value: kept ? v : redactValue(v, depth + 1, []),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
