/**
 * Thin layer over `@duckdb/node-api`: opening the file, a pool of read
 * connections, parameter binding and result conversion to JSON-ready values.
 */
import duckdb from '@duckdb/node-api';
import type {
  DuckDBConnection,
  DuckDBInstance as Instance,
  DuckDBResultReader,
  DuckDBType,
  DuckDBValue,
} from '@duckdb/node-api';
import { AppError } from '../../errors.ts';
import type { SqlParam } from '../sql/sql-dialect.ts';

const { DuckDBInstance, DuckDBTypeId, DuckDBTimestampValue, DuckDBListValue, timestampValue } = duckdb;

export interface DuckDBOptions {
  /** Path of the database file. */
  readonly path: string;
  /** Worker threads (0 = DuckDB's default: one per core). */
  readonly threads: number;
  /** e.g. "4GB"; empty = DuckDB's default. */
  readonly memoryLimit: string;
  /** Rows per row group of data written from now on (a multiple of 2048; 0 = DuckDB's 122,880). */
  readonly rowGroupRows?: number;
}

/** Name under which the store's file is attached; every connection uses it. */
const CATALOG = 'shoplens';

/**
 * The store's database: the file attached to an in-memory DuckDB instance,
 * because the row group size is an option of ATTACH only. A transaction of
 * at least one row group's rows is written straight to the file, compressed
 * ("optimistic writes"); a smaller one goes through the WAL and is
 * compressed again at the next checkpoint, for about twice the CPU. The
 * ingest log's segments are cut at the row group size (store.segmentRows),
 * so that under load each one is written once.
 */
export class Database {
  readonly #instance: Instance;

  constructor(instance: Instance) {
    this.#instance = instance;
  }

  /** A new connection to the store's file. */
  async connect(): Promise<DuckDBConnection> {
    const c = await this.#instance.connect();
    try {
      await c.run(`USE ${CATALOG}`);
    } catch (err) {
      c.closeSync();
      throw err;
    }
    return c;
  }

  /** Detaches the file (checkpointing it) and closes the instance. */
  closeSync(): void {
    this.#instance.closeSync();
  }
}

/** `text` as an SQL string literal (for what cannot be a parameter: a file path in ATTACH or read_ndjson). */
export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

export async function openInstance(options: DuckDBOptions): Promise<Database> {
  const settings: Record<string, string> = {};
  if (options.threads > 0) settings['threads'] = String(options.threads);
  if (options.memoryLimit) settings['memory_limit'] = options.memoryLimit;
  // Where DuckDB spills what does not fit in memory_limit. The instance itself is in memory, so its
  // default would be ./.tmp of the working directory, shared by every process started there (two
  // stores spilling into one directory corrupt each other's blocks): beside the file, as for a file
  // instance.
  settings['temp_directory'] = `${options.path}.tmp`;
  let instance: Instance | undefined;
  try {
    instance = await DuckDBInstance.create(':memory:', settings);
    const c = await instance.connect();
    try {
      const rows = Math.trunc(options.rowGroupRows ?? 0);
      await c.run(`ATTACH ${sqlString(options.path)} AS ${CATALOG}${rows > 0 ? ` (ROW_GROUP_SIZE ${rows})` : ''}`);
    } finally {
      c.closeSync();
    }
    return new Database(instance);
  } catch (err) {
    instance?.closeSync();
    const message = (err as Error).message;
    if (/lock/i.test(message)) {
      throw new AppError(
        503,
        'store.locked',
        `The database ${options.path} is in use by another process (a running "shoplens serve"?). ` +
          'Stop it, or query it through the server with --url.',
        { cause: err },
      );
    }
    throw new AppError(503, 'store.open_failed', `Cannot open the database ${options.path}: ${message}`, {
      cause: err,
    });
  }
}

/** Runs `fn` inside one transaction on `c`: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(c: DuckDBConnection, fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  await c.run('BEGIN TRANSACTION');
  try {
    const result = await fn(c);
    await c.run('COMMIT');
    return result;
  } catch (err) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Binds engine-neutral parameters as DuckDB values. */
export function bindParams(params: readonly SqlParam[]): DuckDBValue[] {
  return params.map((p) => (p.type === 'timestamp' ? timestampValue(BigInt(Math.round(Number(p.value)))) : p.value));
}

/**
 * The types to bind `params` with: DOUBLE for double parameters, inferred for the rest. Without it
 * DuckDB infers a whole-number JS value as BIGINT, and a filter such as `amount:1e19` failed to bind
 * ("bigint out of int64 range", a 500).
 */
function bindTypes(params: readonly SqlParam[]): DuckDBType[] {
  // A hole (undefined) lets DuckDB infer that parameter's type, as without types.
  return params.map((p) => (p.type === 'double' ? duckdb.DOUBLE : undefined)) as DuckDBType[];
}

/** Runs compiled SQL with its parameters bound as the compiler typed them. */
export function runCompiled(
  c: DuckDBConnection,
  compiled: { readonly sql: string; readonly params: readonly SqlParam[] },
): Promise<DuckDBResultReader> {
  return c.runAndReadAll(compiled.sql, bindParams(compiled.params), bindTypes(compiled.params));
}

/** A DuckDB value → a JSON-ready value. Timestamps become ISO-8601 strings. */
export function toJsonValue(value: DuckDBValue): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof DuckDBTimestampValue) return microsToIso(value.micros);
  if (value instanceof DuckDBListValue) return value.items.map(toJsonValue);
  return String(value);
}

export function microsToIso(micros: bigint): string {
  return new Date(Number(micros / 1000n)).toISOString();
}

/** Fixed-size pool of connections for reads; writes use their own connection. */
export class ConnectionPool {
  readonly #free: DuckDBConnection[] = [];
  readonly #waiting: ((c: DuckDBConnection) => void)[] = [];
  readonly #all: DuckDBConnection[] = [];

  static async create(instance: Database, size: number): Promise<ConnectionPool> {
    const pool = new ConnectionPool();
    for (let i = 0; i < size; i++) {
      const c = await instance.connect();
      pool.#all.push(c);
      pool.#free.push(c);
    }
    return pool;
  }

  /**
   * A free connection, waiting for one when all are busy. With `signal`,
   * stops waiting when it aborts (rejecting with its reason), so that a
   * query's timeout also covers its time in the queue.
   */
  async acquire(signal?: AbortSignal): Promise<DuckDBConnection> {
    if (signal?.aborted) throw signal.reason;
    const c = this.#free.pop();
    if (c) return c;
    return new Promise((resolve, reject) => {
      const waiter = (conn: DuckDBConnection): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(conn);
      };
      const onAbort = (): void => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /**
   * Every connection, when none is in use (else undefined): while they are
   * held no query runs, and new ones wait. Give each back with `release`.
   */
  takeAllIfIdle(): DuckDBConnection[] | undefined {
    if (this.#free.length !== this.#all.length) return undefined;
    return this.#free.splice(0);
  }

  release(c: DuckDBConnection): void {
    const next = this.#waiting.shift();
    if (next) next(c);
    else this.#free.push(c);
  }

  closeAll(): void {
    for (const c of this.#all) c.closeSync();
    this.#all.length = 0;
    this.#free.length = 0;
  }
}

/** After a timeout, how often the interrupt is sent again until the statement stops. */
const INTERRUPT_REPEAT_MS = 100;

/**
 * Runs `fn` on a connection of `pool` with a deadline of `timeoutMs` from
 * now, time waiting for a connection included. At the deadline the caller
 * gets 504 `query.timeout` at once, and the statement is interrupted in
 * the engine (`interrupt()`, repeated until it stops, in case it fell
 * between two steps of the statement); the connection goes back to the
 * pool only once the statement has stopped. Without `timeoutMs`, no deadline.
 */
export async function readWithDeadline<T>(
  pool: ConnectionPool,
  fn: (c: DuckDBConnection) => Promise<T>,
  timeoutMs?: number,
): Promise<T> {
  if (timeoutMs === undefined) {
    const c = await pool.acquire();
    try {
      return await fn(c);
    } finally {
      pool.release(c);
    }
  }
  const timeout = new AppError(
    504,
    'query.timeout',
    `The query was cancelled after ${timeoutMs} ms (query.timeout); narrow the time range or the filter`,
    { expose: true },
  );
  const deadline = new AbortController();
  let connection: DuckDBConnection | undefined;
  let repeat: ReturnType<typeof setInterval> | undefined;
  const interrupt = (): void => connection?.interrupt();
  const timer = setTimeout(() => {
    deadline.abort(timeout);
    // Still waiting for a connection: the pool drops the wait, nothing runs yet.
    if (!connection) return;
    interrupt();
    repeat = setInterval(interrupt, INTERRUPT_REPEAT_MS);
    repeat.unref();
  }, timeoutMs);
  timer.unref();
  const expired = new Promise<never>((_, reject) => {
    deadline.signal.addEventListener('abort', () => reject(timeout), { once: true });
  });
  expired.catch(() => undefined);
  try {
    const c = await pool.acquire(deadline.signal);
    connection = c;
    const run = (async () => fn(c))();
    // The connection is free again only once the engine has stopped the statement.
    run
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        if (repeat) clearInterval(repeat);
        pool.release(c);
      });
    return await Promise.race([run, expired]);
  } catch (err) {
    if (deadline.signal.aborted) throw timeout;
    throw err;
  } finally {
    if (!connection) clearTimeout(timer);
  }
}

export { DuckDBTypeId };
