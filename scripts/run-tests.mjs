#!/usr/bin/env node
// Runs every test file under test/ (Node's built-in test runner, tsx), each
// file in its own process as `node --test` does, a few at a time, and prints
// each file's output when it ends, then a summary with the slowest files.
// Node 20's `--test` does not expand globs, so the files are listed here; and
// its default file concurrency is cores - 1, which is 1 (everything in
// series) on a 2-core CI machine although most files mostly wait (fsync,
// child processes, the browser).
//
// Usage: node scripts/run-tests.mjs [path-substring ...]
// Env:   SHOPLENS_TEST_CONCURRENCY  files at a time (default: max(2, cores - 1))
//        SHOPLENS_TEST_FILE_TIMEOUT minutes before a file is killed as hung (default 15)
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const concurrency = positive(process.env.SHOPLENS_TEST_CONCURRENCY) ?? Math.max(2, availableParallelism() - 1);
const fileTimeoutMs = (positive(process.env.SHOPLENS_TEST_FILE_TIMEOUT) ?? 15) * 60_000;

/**
 * The slowest files start first, so that the last file to start is a short
 * one and no core idles at the end (measured on 2 cores; a file not listed
 * runs after these, in name order).
 */
const SLOW_FIRST = [
  'test/alerts/pack-quiet.test.ts',
  'test/alerts/pack-demo.test.ts',
  'test/web/ui.e2e.test.ts',
  'test/alerts/alerts-live.e2e.test.ts',
  'test/store/ingest-log-crash.test.ts',
  'test/cli/import.test.ts',
  'test/demo/demo-e2e.test.ts',
  'test/privacy/fuzz.test.ts',
  'test/privacy/leak.test.ts',
  'test/web/admin.e2e.test.ts',
  'test/alerts/alerts-page.e2e.test.ts',
  'test/cli/rules.test.ts',
  'test/cli/keys.test.ts',
];

/** @param {string | undefined} text */
function positive(text) {
  const n = Number(text);
  return text && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** @param {string} dir @returns {string[]} */
function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (name.endsWith('.test.ts')) out.push(relative(root, full));
  }
  return out;
}

const rank = (/** @type {string} */ f) => (SLOW_FIRST.includes(f) ? SLOW_FIRST.indexOf(f) : SLOW_FIRST.length);
const files = findTests(join(root, 'test'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

/** @type {Set<import('node:child_process').ChildProcess>} */
const running = new Set();
/** Each file runs in its own process group, so a hung file is stopped with the browser or peers it started. */
function stopAll() {
  for (const child of running) {
    try {
      process.kill(-(/** @type {number} */ (child.pid)), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    stopAll();
    process.exit(130);
  });
}

/**
 * The tests' environment: the caller's, without its Shoplens settings
 * (`SHOPLENS_*` configure every `bin/shoplens` a test starts; a developer's
 * SHOPLENS_API_KEY or SHOPLENS_DATA_DIR must not change what a test sees),
 * except the test switches `SHOPLENS_TEST_*`.
 */
const testEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('SHOPLENS_') || k.startsWith('SHOPLENS_TEST_')),
  ),
  NODE_ENV: 'test',
};

/** @param {string} file @returns {Promise<Result>} */
function runFile(file) {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--test-reporter=spec', file], {
    cwd: root,
    env: testEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  /** @type {Buffer[]} */
  const output = [];
  child.stdout.on('data', (c) => output.push(c));
  child.stderr.on('data', (c) => output.push(c));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    process.kill(-(/** @type {number} */ (child.pid)), 'SIGKILL');
  }, fileTimeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const ms = Date.now() - started;
      const ok = code === 0 && !timedOut;
      const status = timedOut
        ? `HUNG: killed after ${fileTimeoutMs / 60_000} min`
        : ok
          ? 'ok'
          : `FAILED (exit ${code ?? signal})`;
      process.stdout.write(`\n━━ ${file} — ${status}, ${(ms / 1000).toFixed(1)} s\n`);
      const text = Buffer.concat(output).toString('utf8');
      process.stdout.write(text);
      // test/helpers/required-tool.ts prints these when a program is missing (outside CI).
      const skipped = text.split('\n').filter((l) => l.startsWith('!!! SKIPPING'));
      /** @type {Record<string, number>} */
      const counts = {};
      for (const m of text.matchAll(/^ℹ (tests|pass|fail|skipped) (\d+)$/gm)) counts[m[1]] = Number(m[2]);
      resolve({ file, ok, ms, timedOut, skipped, counts });
    });
  });
}

const startedAll = Date.now();
const queue = [...files];
/** @typedef {{ file: string, ok: boolean, ms: number, timedOut: boolean, skipped: string[], counts: Record<string, number> }} Result */
/** @type {Result[]} */
const results = [];
await Promise.all(
  Array.from({ length: Math.min(concurrency, files.length) }, async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) results.push(await runFile(file));
  }),
);

const failed = results.filter((r) => !r.ok);
const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 8);
const total = (/** @type {string} */ k) => results.reduce((sum, r) => sum + (r.counts[k] ?? 0), 0);
console.log(
  `\n━━ ${results.length} files (tests: ${total('pass')} passed, ${total('fail')} failed, ${total('skipped')} skipped), ${concurrency} at a time, ${((Date.now() - startedAll) / 1000).toFixed(0)} s in all` +
    `\nslowest: ${slowest.map((r) => `${r.file} ${(r.ms / 1000).toFixed(0)} s`).join(', ')}`,
);
const skipped = results.flatMap((r) => r.skipped);
if (skipped.length > 0) console.log(`${skipped.join('\n')}\n(in CI, with CI=true, these fail instead)`);
// The closing line CI reads: a file that failed before any test ran still counts as a failure.
const closing = `tests: ${total('pass')} passed, ${Math.max(total('fail'), failed.length)} failed, ${total('skipped')} skipped`;
if (failed.length > 0) {
  console.log(
    `FAILED files (${failed.length}):\n${failed.map((r) => `  ${r.file}${r.timedOut ? ' (hung)' : ''}`).join('\n')}`,
  );
  console.log(closing);
  process.exit(1);
}
console.log(`all files passed\n${closing}`);
