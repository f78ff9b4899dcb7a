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
import { openInstance } from '../../src/store/duckdb/duckdb-driver.ts';

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
