#!/usr/bin/env node
/**
 * Compiles the server and CLI (src/) to JavaScript in build/, so that
 * `bin/shoplens` starts without transpiling TypeScript. Run by `npm run
 * build`, by `npm ci` (prepare) and by `npm start`. Without TypeScript (an
 * install without dev dependencies) it says so and exits 0: bin/shoplens then
 * runs the sources through tsx.
 *
 * Imported, it answers whether build/ is current (bin/shoplens asks).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const STAMP = 'build/.built';
const INPUTS = ['tsconfig.json', 'tsconfig.build.json'];

/** Newest modification time of the sources and the compiler configs under `root`, ms. */
function newestInput(root) {
  let newest = 0;
  for (const entry of readdirSync(new URL('src/', root), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs);
  }
  for (const file of INPUTS) newest = Math.max(newest, statSync(new URL(file, root)).mtimeMs);
  return newest;
}

/**
 * True when build/ holds a complete build (its stamp) newer than every file
 * under src/ and the compiler configs. `root` is the repository's URL, with
 * a trailing slash.
 */
export function buildIsCurrent(root) {
  try {
    return statSync(new URL(STAMP, root)).mtimeMs >= newestInput(root);
  } catch {
    return false;
  }
}

function build() {
  const root = new URL('../', import.meta.url);
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    process.stderr.write(
      'shoplens build: TypeScript is not installed; bin/shoplens will run the sources through tsx\n',
    );
    return 0;
  }
  const started = Date.now();
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: fileURLToPath(root),
    stdio: 'inherit',
  });
  if (result.status !== 0) return result.status ?? 1;
  writeFileSync(new URL(STAMP, root), `${new Date(started).toISOString()}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = build();
