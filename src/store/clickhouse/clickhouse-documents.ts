/**
 * Documents (dashboards, rules, alert state, keys, ...) in ClickHouse. The
 * engine has no in-place updates: every write inserts a row with a growing
 * `seq`, the row of a key with the largest seq is the document, and a
 * tombstone row deletes it (ReplacingMergeTree folds old rows away). Writes
 * of this process are serialised, so a version check and its write do not
 * interleave; between several Shoplens processes that is not guaranteed yet
 * (docs/clickhouse.md). Bodies and ids are redacted here, as in every store.
 */
import { AppError } from '../../errors.ts';
import {
  checkDocumentKey,
  redactDocument,
  redactDocumentText,
  type DocumentStore,
  type ListDocumentsOptions,
  type PutDocumentOptions,
  type StoredDocument,
} from '../documents.ts';
import type { SqlParam } from '../sql/sql-dialect.ts';
import type { ClickHouseConnection } from './clickhouse-driver.ts';

/** The live documents: newest row per key, tombstones dropped. */
const LATEST = `SELECT tenant, kind, id, argMax(body, seq) AS body, argMax(created_at, seq) AS created_at,
  argMax(updated_at, seq) AS updated_at, argMax(version, seq) AS version
  FROM documents WHERE tenant = {p1:String} AND kind = {p2:String} AND startsWith(id, {p3:String})
  GROUP BY tenant, kind, id HAVING argMax(deleted, seq) = 0`;

const s = (value: string): SqlParam => ({ value, type: 'string' });

function isoOfMicros(us: unknown): string {
  return new Date(Math.floor(Number(us) / 1000)).toISOString();
}

export class ClickHouseDocumentStore implements DocumentStore {
  readonly #connection: () => ClickHouseConnection;
  #chain: Promise<unknown> = Promise.resolve();
  #lastSeq = 0;

  constructor(connection: () => ClickHouseConnection) {
    this.#connection = connection;
  }

  /** Resolves when every write queued so far has finished. */
  async drain(): Promise<void> {
    await this.#chain.catch(() => undefined);
  }

  async #rows(tenant: string, kind: string, prefix: string, tail = ''): Promise<StoredDocument[]> {
    const result = await this.#connection().query(`SELECT * FROM (${LATEST}) AS d ${tail}`, [
      s(tenant),
      s(kind),
      s(prefix),
    ]);
    return result.data.map((r) => ({
      tenant: String(r[0]),
      kind: String(r[1]),
      id: String(r[2]),
      body: JSON.parse(String(r[3])) as unknown,
      createdAt: isoOfMicros(r[4]),
      updatedAt: isoOfMicros(r[5]),
      version: Number(r[6]),
    }));
  }

  async #one(tenant: string, kind: string, id: string): Promise<StoredDocument | undefined> {
    return (await this.#rows(tenant, kind, id)).find((d) => d.id === id);
  }

  async get<T>(tenant: string, kind: string, rawId: string): Promise<StoredDocument<T> | undefined> {
    checkDocumentKey(kind, rawId);
    return (await this.#one(tenant, kind, redactDocumentText(rawId))) as StoredDocument<T> | undefined;
  }

  async list<T>(tenant: string, kind: string, options: ListDocumentsOptions = {}): Promise<StoredDocument<T>[]> {
    checkDocumentKey(kind, 'x');
    const limit = Math.max(1, Math.min(100_000, Math.trunc(options.limit ?? 1000)));
    const order = options.order === 'updated' ? 'updated_at DESC, id DESC' : 'id';
    const prefix = redactDocumentText(options.idPrefix ?? '');
    return (await this.#rows(tenant, kind, prefix, `ORDER BY ${order} LIMIT ${limit}`)) as StoredDocument<T>[];
  }

  async tenants(kind: string): Promise<string[]> {
    checkDocumentKey(kind, 'x');
    const result = await this.#connection().query(
      `SELECT tenant FROM (SELECT tenant, id, argMax(deleted, seq) AS gone FROM documents WHERE kind = {p1:String}
        GROUP BY tenant, id) AS d WHERE gone = 0 GROUP BY tenant ORDER BY tenant`,
      [s(kind)],
    );
    return result.data.map((r) => String(r[0]));
  }

  put<T>(
    tenant: string,
    kind: string,
    rawId: string,
    body: T,
    options: PutDocumentOptions = {},
  ): Promise<StoredDocument<T>> {
    checkDocumentKey(kind, rawId);
    const id = redactDocumentText(rawId);
    const text = JSON.stringify(redactDocument(body, options.verbatim));
    return this.#write(async () => {
      const stored = await this.#one(tenant, kind, id);
      const version = stored?.version ?? 0;
      if (options.expectedVersion !== undefined && options.expectedVersion !== version) {
        throw new AppError(
          409,
          'document.conflict',
          `${kind} "${id}" is at version ${version}, not ${options.expectedVersion}: it was changed meanwhile; reload and retry`,
        );
      }
      const seq = this.#nextSeq();
      // The seq is the write's time in µs, made unique: newest-first lists have no ties within a millisecond.
      const createdUs = stored ? Date.parse(stored.createdAt) * 1000 : seq;
      await this.#insert(
        { tenant, kind, id, body: text, created_at: createdUs, updated_at: seq, version: version + 1 },
        seq,
      );
      const written: StoredDocument<T> = {
        tenant,
        kind,
        id,
        body: JSON.parse(text) as T,
        createdAt: isoOfMicros(createdUs),
        updatedAt: isoOfMicros(seq),
        version: version + 1,
      };
      return written;
    });
  }

  delete(tenant: string, kind: string, rawId: string): Promise<boolean> {
    checkDocumentKey(kind, rawId);
    const id = redactDocumentText(rawId);
    return this.#write(async () => {
      const stored = await this.#one(tenant, kind, id);
      if (!stored) return false;
      const seq = this.#nextSeq();
      await this.#insert(
        { tenant, kind, id, body: 'null', created_at: seq, updated_at: seq, version: stored.version },
        seq,
        1,
      );
      return true;
    });
  }

  /** Strictly growing within this process, and epoch microseconds across restarts. */
  #nextSeq(): number {
    const seq = Math.max(this.#lastSeq + 1, Date.now() * 1000);
    this.#lastSeq = seq;
    return seq;
  }

  async #insert(row: Record<string, string | number>, seq: number, deleted = 0): Promise<void> {
    await this.#connection().insert('documents', [{ ...row, deleted, seq }]);
  }

  #write<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.#chain.catch(() => undefined).then(fn);
    this.#chain = run;
    return run;
  }
}
