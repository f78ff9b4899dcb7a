#!/usr/bin/env node
// Adds lock entries for DuckDB's native bindings on the platforms this
// machine's registry does not serve (only the linux x64 builds are
// reachable here). Without them `npm ci` refuses the lock as "out of sync";
// with them npm skips the non-matching platforms, as it would for a lock
// written on a machine that reaches every platform's package.
// Run after `npm install` changes the lock: node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const PLATFORMS = {
  'darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  'darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  'linux-arm64': { os: ['linux'], cpu: ['arm64'], libc: ['glibc'] },
  'linux-arm64-musl': { os: ['linux'], cpu: ['arm64'], libc: ['musl'] },
  'linux-x64': { os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
  'linux-x64-musl': { os: ['linux'], cpu: ['x64'], libc: ['musl'] },
  'win32-arm64': { os: ['win32'], cpu: ['arm64'] },
  'win32-x64': { os: ['win32'], cpu: ['x64'] },
};
const bindings = lock.packages['node_modules/@duckdb/node-bindings'];
if (!bindings) throw new Error('no @duckdb/node-bindings in package-lock.json');
let added = 0;
for (const [name, version] of Object.entries(bindings.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const platform = PLATFORMS[name.replace('@duckdb/node-bindings-', '')];
  if (!platform) throw new Error(`unknown platform package ${name}`);
  lock.packages[key] = { version, ...platform, license: 'MIT', optional: true };
  added++;
}
// npm keeps packages sorted by path.
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
