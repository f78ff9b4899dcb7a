/**
 * Opening the store's DuckDB file: it is attached with the configured row
 * group size, and DuckDB spills beside the file, never into the working
 * directory (two servers started in one directory would corrupt each
 * other's spilled blocks there).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openInstance } from '../../src/store/duckdb/duckdb-driver.ts';
import { LoadThreads } from '../../src/store/duckdb/duckdb-segment-load.ts';

describe('opening the DuckDB file', () => {
  it('spills beside the database file and writes new row groups of the configured size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoplens-open-'));
    const path = join(dir, 'shoplens.duckdb');
    const db = await openInstance({ path, threads: 1, memoryLimit: '256MB', rowGroupRows: 4096 });
    try {
      const c = await db.connect();
      const setting = (await c.runAndReadAll("SELECT current_setting('temp_directory')")).getRows()[0]?.[0];
      assert.equal(setting, `${path}.tmp`);
      assert.equal((await c.runAndReadAll('SELECT current_database()')).getRows()[0]?.[0], 'shoplens');
      await c.run('CREATE TABLE t AS SELECT range AS a FROM range(10000)');
      const groups = (
        await c.runAndReadAll("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('t')")
      ).getRows()[0]?.[0];
      assert.equal(Number(groups), 3, '10,000 rows in row groups of 4,096');
      c.closeSync();
    } finally {
      db.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('DuckDB threads while segments load', () => {
  it('narrows at the first load, keeps the count while loads keep coming, and gives it back when they stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoplens-threads-'));
    const db = await openInstance({
      path: join(dir, 'shoplens.duckdb'),
      threads: 2,
      memoryLimit: '256MB',
      rowGroupRows: 0,
    });
    const writer = await db.connect();
    const reader = await db.connect();
    const threads = async () =>
      Number((await reader.runAndReadAll("SELECT current_setting('threads')")).getRows()[0]?.[0]);
    let chain = Promise.resolve();
    const enqueue = (work: (c: DuckDBConnection) => Promise<boolean>) => {
      chain = chain.then(async () => void (await work(writer)));
    };
    const controller = new LoadThreads(2, 1, enqueue, 150);
    const load = async () => {
      await controller.narrow(writer);
      controller.loaded();
    };
    try {
      assert.equal(await threads(), 2);
      await load();
      assert.equal(await threads(), 1, 'a load runs on one thread');
      for (let i = 0; i < 4; i++) {
        await sleep(60);
        await load();
        assert.equal(await threads(), 1, 'loads 60 ms apart keep one thread');
      }
      await sleep(400);
      await chain;
      assert.equal(await threads(), 2, 'the queries get both threads back 150 ms after the last load');
      await load();
      assert.equal(await threads(), 1);
      controller.dispose();
      await sleep(300);
      await chain;
      assert.equal(await threads(), 1, 'closing cancels the restore');
    } finally {
      writer.closeSync();
      reader.closeSync();
      db.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
