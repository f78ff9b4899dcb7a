/**
 * Staging files after a crash: a store killed (SIGKILL) between writing a
 * batch's staging file and removing it leaves the file in /dev/shm; the
 * next start of a store on that data directory removes it, and leaves the
 * live files of a store on another data directory alone.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.ts';
import { testDataDir } from '../helpers/server.ts';

const CHILD = fileURLToPath(new URL('./staging-child.ts', import.meta.url));

/** Starts the child on `dataDir`; resolves with the staging file it left once it printed it. */
function stageInChild(dataDir: string, mode: 'die' | 'hang'): Promise<{ child: ChildProcess; path: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /STAGED (\S+)\n/.exec(out);
      if (m) resolve({ child, path: m[1] as string });
    });
    child.on('exit', (code, signal) => {
      if (!/STAGED/.test(out)) reject(new Error(`child exited (${code ?? signal}) before staging: ${out}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.on('exit', () => resolve()));
}

describe('staging files left by a killed process', { timeout: 120_000 }, () => {
  const crashedDir = testDataDir();
  const runningDir = testDataDir();
  let running: ChildProcess | undefined;
  let runningFile = '';

  after(() => {
    running?.kill('SIGKILL');
    if (runningFile) rmSync(runningFile, { force: true });
    rmSync(crashedDir, { recursive: true, force: true });
    rmSync(runningDir, { recursive: true, force: true });
  });

  it('are removed when a store opens on the same data directory; another running store keeps its own', async () => {
    const crashed = await stageInChild(crashedDir, 'die');
    await exited(crashed.child);
    assert.equal(crashed.child.signalCode, 'SIGKILL');
    assert.ok(existsSync(crashed.path), `the killed process left ${crashed.path}`);

    const live = await stageInChild(runningDir, 'hang');
    running = live.child;
    runningFile = live.path;
    assert.ok(existsSync(live.path));

    const store = new DuckDBStore({ dataDir: crashedDir, defaultLimit: 10, maxRows: 10, queryTimeoutMs: 10_000 });
    await store.open();
    try {
      assert.equal(existsSync(crashed.path), false, `${crashed.path} is still there after the restart`);
      assert.ok(existsSync(live.path), "the other store's live staging file was removed");
      // The restarted store writes (and cleans up after) its own batches as before.
      await store.appendEvents([
        { ts: Date.now() * 1000, tenant: 'default', dataClass: 'app', columns: { message: 'after' }, attributes: null },
      ]);
    } finally {
      await store.close();
    }
    running.kill('SIGKILL');
    await exited(running);
  });
});
