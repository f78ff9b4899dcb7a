/**
 * Handing DuckDB's memory back once loads have stopped. After loading, the
 * process keeps what the loads allocated (a few hundred MB after 2 M
 * events; duckdb_memory() counts only 17 MiB of it, the rest is the
 * allocator's), so an idle server held 361 MiB where 269 would do.
 * Lowering memory_limit makes DuckDB evict down to it and flush its
 * allocator; the limit is then restored. Measured in one process loading
 * 655,360 API-request rows: anonymous memory 286 MiB after the loads, 108
 * MiB after the trim.
 *
 * It runs only when nothing else can touch the pool meanwhile: on the
 * writer connection's queue, inside the document writer's queue, and with
 * every read connection held (skipped when a query runs). A CHECKPOINT
 * first makes every block persistent, so eviction drops blocks that are on
 * disk and spills nothing, and no checkpoint can run under the lowered
 * limit.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ConnectionPool } from './duckdb-driver.ts';

/** What the buffer pool is trimmed to, for the moment of the trim. */
const TRIM_TO = '32MB';

export interface MemoryTrimTarget {
  readonly writer: DuckDBConnection;
  readonly readers: ConnectionPool;
  /** Runs `fn` between two document writes. */
  readonly exclusiveDocuments: <R>(fn: () => Promise<R>) => Promise<R>;
  /** The configured memory_limit ('' = DuckDB's default). */
  readonly memoryLimit: string;
}

/**
 * Trims the buffer pool (call it on the writer connection's queue). Answers
 * false when a query was running, so nothing was done.
 */
export function trimBufferPool(target: MemoryTrimTarget): Promise<boolean> {
  return target.exclusiveDocuments(async () => {
    const held = target.readers.takeAllIfIdle();
    if (!held) return false;
    const limit = target.memoryLimit.replace(/[^0-9A-Za-z.]/g, '');
    try {
      await target.writer.run('CHECKPOINT');
      try {
        await target.writer.run(`SET memory_limit = '${TRIM_TO}'`);
      } catch {
        // more is pinned than that: the limit stays, nothing lost
      }
      return true;
    } finally {
      await target.writer.run(limit ? `SET memory_limit = '${limit}'` : 'RESET memory_limit').catch(() => undefined);
      for (const c of held) target.readers.release(c);
    }
  });
}
