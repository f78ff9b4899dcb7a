/**
 * An idle store hands its memory back: once segments stop loading, DuckDB's
 * buffer pool (which keeps the blocks the loads wrote) is trimmed and the
 * queries get their threads back; the data is all still there, and the
 * next load works as before.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { parseQuery } from '../../src/query/index.ts';
import { toRowLine } from '../../src/schema/record.ts';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.ts';

const NOW_MS = Date.now();
const ROWS = 32_768;

/** A segment file of `ROWS` distinct events with a long message each (so the blocks weigh something). */
function writeSegment(dir: string, id: number): string {
  const lines: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    const n = id * ROWS + i;
    lines.push(
      toRowLine({
        ts: (NOW_MS - 60_000 + (n % 60_000)) * 1000,
        tenant: 'default',
        dataClass: 'app',
        columns: { event_id: `e-${n}`, service: 'memory-test', message: `request ${n} ${'x'.repeat(40)} ${n * 7919}` },
        attributes: { 'http.request_id': `r-${n}-${(n * 2654435761) % 1e9}` },
      }),
    );
  }
  const path = join(dir, `segment-${id}.ndjson`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('an idle DuckDB store', () => {
  it('trims its buffer pool and gives the queries their threads back once loads stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoplens-memory-'));
    const store = new DuckDBStore({
      dataDir: dir,
      threads: 2,
      loadThreads: 1,
      memoryLimit: '1GB',
      defaultLimit: 100,
      maxRows: 1000,
      queryTimeoutMs: 30_000,
      rowGroupRows: ROWS,
      idleAfterMs: 500,
    });
    await store.open();
    const count = async () => {
      const r = await store.query({
        query: parseQuery('service.name:"memory-test" | stats count() as n'),
        range: { fromMs: NOW_MS - 3_600_000, toMs: NOW_MS + 3_600_000 },
        tenant: 'default',
      });
      return Number(r.rows[0]?.[0]);
    };
    /** This process's anonymous memory (the store runs in it), bytes. */
    const anonymous = () =>
      1024 * Number(/Anonymous:\s+(\d+)/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1]);
    const threads = async () => (await store.engineMemory()).threads;
    const trims = async () => (await store.engineMemory()).trims;
    try {
      for (let id = 1; id <= 6; id++) {
        const path = writeSegment(dir, id);
        await store.loadSegment({
          id,
          path,
          rows: ROWS,
          bytes: 0,
          minTsUs: (NOW_MS - 60_000) * 1000,
          maxTsUs: NOW_MS * 1000,
          replace: new Set(),
        });
      }
      const loaded = anonymous();
      assert.equal(await threads(), 1, 'one thread while segments load');
      assert.equal(await trims(), 0, 'no trim while loads come in');
      await sleep(1500);
      assert.equal(await trims(), 1, 'one trim once the loads stopped');
      const idle = anonymous();
      assert.ok(idle < loaded, `anonymous memory: ${loaded} bytes after the loads, ${idle} once idle`);
      assert.equal(await threads(), 2, 'the queries have both threads back');
      assert.equal(await count(), 6 * ROWS, 'every event is still there');
      await store.loadSegment({
        id: 7,
        path: writeSegment(dir, 7),
        rows: ROWS,
        bytes: 0,
        minTsUs: (NOW_MS - 60_000) * 1000,
        maxTsUs: NOW_MS * 1000,
        replace: new Set(),
      });
      assert.equal(await count(), 7 * ROWS);
      assert.equal(await store.loadedSegment(), 7);
      await sleep(1500);
      assert.equal(await trims(), 2, 'trimmed again after the next load');
      // A retry of a segment already in (an error after its commit) loads nothing twice.
      await store.loadSegment({
        id: 7,
        path: writeSegment(dir, 7),
        rows: ROWS,
        bytes: 0,
        minTsUs: (NOW_MS - 60_000) * 1000,
        maxTsUs: NOW_MS * 1000,
        replace: new Set(),
      });
      assert.equal(await count(), 7 * ROWS, 'segment 7 once, after loading it again');
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
