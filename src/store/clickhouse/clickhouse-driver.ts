/**
 * The ClickHouse connection of the store: the official @clickhouse/client
 * over HTTP, with the compiler's parameters bound as the server allows
 * (clickhouse-dialect.ts) and results read as JSONCompact, which every
 * supported version writes.
 */
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { AppError } from '../../errors.ts';
import type { SqlParam } from '../sql/sql-dialect.ts';
import { capabilitiesFor, type ClickHouseCapabilities } from './clickhouse-capabilities.ts';
import { bindLiterals, queryParams } from './clickhouse-dialect.ts';

export interface ClickHouseConnectionOptions {
  /** HTTP interface, e.g. http://127.0.0.1:8123 */
  readonly url: string;
  readonly database: string;
  readonly username?: string;
  readonly password?: string;
  /** Most time one request may take, ms. */
  readonly requestTimeoutMs?: number;
}

export interface ResultMeta {
  readonly name: string;
  readonly type: string;
}

export interface CompactResult {
  readonly meta: readonly ResultMeta[];
  readonly data: readonly (readonly unknown[])[];
}

/** Settings sent with every statement (all known to 18.16). */
const SETTINGS: ClickHouseSettings = {
  // Numbers as JSON numbers, NaN and infinities as null.
  output_format_json_quote_64bit_integers: 0,
  output_format_json_quote_denormals: 0,
};

/** A database name the store creates and addresses without quoting surprises. */
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export class ClickHouseConnection {
  readonly #client: ClickHouseClient;
  readonly caps: ClickHouseCapabilities;

  private constructor(client: ClickHouseClient, caps: ClickHouseCapabilities) {
    this.#client = client;
    this.caps = caps;
  }

  /**
   * Connects, reads the server's version, and creates the database when it
   * is missing. Throws a 503 naming the URL when the server cannot be reached.
   */
  static async open(options: ClickHouseConnectionOptions): Promise<ClickHouseConnection> {
    if (!DATABASE_NAME.test(options.database)) {
      throw new AppError(
        400,
        'config.invalid',
        `store.clickhouse.database "${options.database}" must be letters, digits and _ (at most 64), not starting with a digit`,
      );
    }
    const common = {
      url: options.url,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      request_timeout: options.requestTimeoutMs ?? 60_000,
      clickhouse_settings: SETTINGS,
      // Failures reach the caller as errors (and the server's log); the client's own console lines would double them.
      log: { level: ClickHouseLogLevel.OFF },
    };
    const bootstrap = createClient({ ...common, database: 'default' });
    let version: string;
    try {
      const rs = await bootstrap.query({ query: 'SELECT version()', format: 'JSONCompact' });
      const body = (await rs.json()) as unknown as CompactResult;
      version = String(body.data[0]?.[0] ?? '');
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS \`${options.database}\`` });
    } catch (err) {
      throw new AppError(
        503,
        'store.unreachable',
        `ClickHouse at ${redactUrl(options.url)} cannot be reached or refused the connection: ${(err as Error).message}`,
        { cause: err },
      );
    } finally {
      await bootstrap.close();
    }
    const client = createClient({ ...common, database: options.database });
    return new ClickHouseConnection(client, capabilitiesFor(version));
  }

  /** The statement as sent (literals bound on servers without query parameters) and its `query_params`. */
  #bind(sql: string, params: readonly SqlParam[]): { query: string; query_params?: Record<string, unknown> } {
    if (params.length === 0) return { query: sql };
    if (this.caps.queryParameters) return { query: sql, query_params: queryParams(params) };
    return { query: bindLiterals(sql, params) };
  }

  /** Runs a SELECT; rows are positional, as `meta` names them. */
  async query(
    sql: string,
    params: readonly SqlParam[] = [],
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<CompactResult> {
    const settings: ClickHouseSettings = {};
    if (options.timeoutMs !== undefined) settings.max_execution_time = Math.max(1, Math.ceil(options.timeoutMs / 1000));
    const rs = await this.#client.query({
      ...this.#bind(sql, params),
      format: 'JSONCompact',
      clickhouse_settings: settings,
      ...(options.signal ? { abort_signal: options.signal } : {}),
    });
    return (await rs.json()) as unknown as CompactResult;
  }

  /** Runs a statement without a result (DDL, ALTER). */
  async command(sql: string, params: readonly SqlParam[] = [], settings: ClickHouseSettings = {}): Promise<void> {
    await this.#client.command({ ...this.#bind(sql, params), clickhouse_settings: settings });
  }

  /** Inserts rows (objects by column name) as one JSONEachRow request: one part, all or nothing. */
  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#client.insert({
      table,
      values: rows as Record<string, unknown>[],
      format: 'JSONEachRow',
      clickhouse_settings: { input_format_skip_unknown_fields: 1 },
    });
  }

  async ping(): Promise<boolean> {
    const r = await this.#client.ping();
    return r.success;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/** The URL without a password, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
