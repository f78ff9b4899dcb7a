/**
 * Debian's Chromium for the browser tests (playwright-core never downloads
 * a browser here): whether it is installed, the UI built, and a headless
 * launch with the flags this machine needs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { UI_DIR } from '../../src/api/routes/ui.ts';
import { isExecutable, missingTool } from './required-tool.ts';

/** The browser binary; `SHOPLENS_TEST_CHROMIUM` overrides it (e.g. to check what a missing one does). */
export const CHROMIUM = process.env['SHOPLENS_TEST_CHROMIUM'] || '/usr/bin/chromium';

/**
 * True when Chromium is installed. When it is not: in CI this throws (the
 * suite fails, naming what to install); elsewhere it says loudly that `what`
 * is skipped and answers false.
 */
export function hasChromium(what: string): boolean {
  if (isExecutable(CHROMIUM)) return true;
  return missingTool(what, [`${CHROMIUM} (Chromium)`], ['chromium']);
}

const ROOT = new URL('../../', import.meta.url).pathname;
/** What the UI bundle is built from (web/ imports pure code from src/query and src/schema). */
const UI_SOURCES = ['web', 'src/query', 'src/schema', 'vite.config.ts', 'package-lock.json'];
const LOCK = join(ROOT, 'dist', '.web-build.lock');

function newestMtimeMs(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, name)));
  return newest;
}

function uiIsCurrent(): boolean {
  const index = join(UI_DIR, 'index.html');
  if (!existsSync(index)) return false;
  const built = statSync(index).mtimeMs;
  return UI_SOURCES.every((p) => newestMtimeMs(join(ROOT, p)) <= built);
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function lockHolderAlive(): boolean {
  try {
    const pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
    if (!pid) return true; // being written right now
    process.kill(pid, 0);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // EPERM: alive under another user; ENOENT: its holder is between mkdir and writing the pid.
    return code === 'EPERM' || (code === 'ENOENT' && existsSync(LOCK));
  }
}

/**
 * Builds the UI into dist/web unless it is there and newer than its sources
 * (`npm test` builds it first). Test files run in parallel: one builds under
 * a lock directory while the others wait, so no file serves a half-written
 * bundle or one left over from an older checkout.
 */
export function ensureUiBuilt(): void {
  const deadline = Date.now() + 300_000;
  while (!uiIsCurrent()) {
    mkdirSync(join(ROOT, 'dist'), { recursive: true });
    try {
      mkdirSync(LOCK);
    } catch {
      if (!lockHolderAlive()) rmSync(LOCK, { recursive: true, force: true });
      assert.ok(Date.now() < deadline, `another process kept ${LOCK} for 5 minutes`);
      sleepMs(200);
      continue;
    }
    try {
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
      assert.equal(build.status, 0, 'npm run build:web failed');
    } finally {
      rmSync(LOCK, { recursive: true, force: true });
    }
    return;
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
