/**
 * Small JSON documents the service keeps per tenant, beside the events:
 * dashboards, alert rules, alert state and history, silences, the
 * notification outbox, API keys. Every engine implements the same contract.
 */

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
}

/**
 * Durable per-tenant document storage. A write resolves only after it is
 * committed. Bodies must be JSON-serialisable.
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
