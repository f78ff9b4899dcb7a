/**
 * Debian's Chromium for the browser tests (playwright-core never downloads
 * a browser here): whether it is installed, the UI built, and a headless
 * launch with the flags this machine needs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { UI_DIR } from '../../src/api/routes/ui.ts';

export const CHROMIUM = '/usr/bin/chromium';

/** True when Chromium is installed; otherwise says loudly that `what` is skipped. */
export function hasChromium(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  console.error(`\n!!! SKIPPING ${what}: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does).\n`);
  return false;
}

/** Builds the UI into dist/web unless it is there (`npm test` builds it first). */
export function ensureUiBuilt(): void {
  if (existsSync(join(UI_DIR, 'index.html'))) return;
  const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
  assert.equal(build.status, 0, 'npm run build:web failed');
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
