/**
 * Documents (dashboards, rules, alert state, keys, ...) in the DuckDB file,
 * on a connection of their own so they never wait behind an ingest batch.
 * Writes are serialised; each is its own committed transaction. Bodies and
 * ids are redacted here, the one place every document passes
 * (documents.ts), whichever module writes it.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
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
import { inTransaction, microsToIso } from './duckdb-driver.ts';

const COLUMNS = 'tenant, kind, id, body, epoch_us(created_at), epoch_us(updated_at), version';

export class DuckDBDocumentStore implements DocumentStore {
  readonly #connection: () => DuckDBConnection;
  readonly #read: <R>(fn: (c: DuckDBConnection) => Promise<R>) => Promise<R>;
  #chain: Promise<unknown> = Promise.resolve();

  /**
   * @param connection the connection writes use (throws when the store is closed)
   * @param read runs a read on a pooled connection, so reads never land inside a write's transaction
   */
  constructor(connection: () => DuckDBConnection, read: <R>(fn: (c: DuckDBConnection) => Promise<R>) => Promise<R>) {
    this.#connection = connection;
    this.#read = read;
  }

  /** Runs `fn` after the writes queued so far, holding back the ones queued after it. */
  exclusive<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.#chain.catch(() => undefined).then(fn);
    this.#chain = run;
    return run;
  }

  /** Resolves when every write queued so far has finished. */
  async drain(): Promise<void> {
    await this.#chain.catch(() => undefined);
  }

  async get<T>(tenant: string, kind: string, rawId: string): Promise<StoredDocument<T> | undefined> {
    checkDocumentKey(kind, rawId);
    const id = redactDocumentText(rawId);
    const rows = await this.#rows(`SELECT ${COLUMNS} FROM documents WHERE tenant = $1 AND kind = $2 AND id = $3`, [
      tenant,
      kind,
      id,
    ]);
    return rows[0] as StoredDocument<T> | undefined;
  }

  async list<T>(tenant: string, kind: string, options: ListDocumentsOptions = {}): Promise<StoredDocument<T>[]> {
    checkDocumentKey(kind, 'x');
    const limit = Math.max(1, Math.min(100_000, Math.trunc(options.limit ?? 1000)));
    const order = options.order === 'updated' ? 'updated_at DESC, id DESC' : 'id';
    const prefix = redactDocumentText(options.idPrefix ?? '');
    return (await this.#rows(
      `SELECT ${COLUMNS} FROM documents WHERE tenant = $1 AND kind = $2 AND starts_with(id, $3) ORDER BY ${order} LIMIT ${limit}`,
      [tenant, kind, prefix],
    )) as StoredDocument<T>[];
  }

  async tenants(kind: string): Promise<string[]> {
    checkDocumentKey(kind, 'x');
    const reader = await this.#read((c) =>
      c.runAndReadAll('SELECT DISTINCT tenant FROM documents WHERE kind = $1 ORDER BY tenant', [kind]),
    );
    return reader.getRows().map((r) => String(r[0]));
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
    return this.#write(async (c) => {
      const current = await this.#rows(
        `SELECT ${COLUMNS} FROM documents WHERE tenant = $1 AND kind = $2 AND id = $3`,
        [tenant, kind, id],
        c,
      );
      const stored = current[0];
      const version = stored?.version ?? 0;
      if (options.expectedVersion !== undefined && options.expectedVersion !== version) {
        throw new AppError(
          409,
          'document.conflict',
          `${kind} "${id}" is at version ${version}, not ${options.expectedVersion}: it was changed meanwhile; reload and retry`,
        );
      }
      if (stored) {
        await c.run(
          'UPDATE documents SET body = $4, updated_at = now()::TIMESTAMP, version = version + 1 WHERE tenant = $1 AND kind = $2 AND id = $3',
          [tenant, kind, id, text],
        );
      } else {
        await c.run(
          'INSERT INTO documents (tenant, kind, id, body, created_at, updated_at, version) VALUES ($1, $2, $3, $4, now()::TIMESTAMP, now()::TIMESTAMP, 1)',
          [tenant, kind, id, text],
        );
      }
      const written = await this.#rows(
        `SELECT ${COLUMNS} FROM documents WHERE tenant = $1 AND kind = $2 AND id = $3`,
        [tenant, kind, id],
        c,
      );
      return written[0] as StoredDocument<T>;
    });
  }

  delete(tenant: string, kind: string, rawId: string): Promise<boolean> {
    checkDocumentKey(kind, rawId);
    const id = redactDocumentText(rawId);
    return this.#write(async (c) => {
      const reader = await c.runAndReadAll(
        'DELETE FROM documents WHERE tenant = $1 AND kind = $2 AND id = $3 RETURNING id',
        [tenant, kind, id],
      );
      return reader.getRows().length > 0;
    });
  }

  #write<R>(fn: (c: DuckDBConnection) => Promise<R>): Promise<R> {
    const run = this.#chain.catch(() => undefined).then(() => inTransaction(this.#connection(), fn));
    this.#chain = run;
    return run;
  }

  async #rows(sql: string, params: DuckDBValue[], c?: DuckDBConnection): Promise<StoredDocument[]> {
    const reader = c ? await c.runAndReadAll(sql, params) : await this.#read((r) => r.runAndReadAll(sql, params));
    return reader.getRows().map((r) => ({
      tenant: String(r[0]),
      kind: String(r[1]),
      id: String(r[2]),
      body: JSON.parse(String(r[3])) as unknown,
      createdAt: microsToIso(BigInt(r[4] as bigint)),
      updatedAt: microsToIso(BigInt(r[5] as bigint)),
      version: Number(r[6]),
    }));
  }
}
