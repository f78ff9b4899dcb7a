/**
 * A child process for staging-files.test.ts: opens a DuckDB store on the
 * data directory in argv[2] and appends one batch; the moment the batch's
 * staging file has been inserted and is about to be removed, it prints the
 * file's path and then either dies by SIGKILL (`die`, as a crash would
 * leave it) or stays alive holding it (`hang`, a store still running).
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.ts';
import type { EventRecord } from '../../src/schema/record.ts';

const [dataDir, mode] = process.argv.slice(2);
const realWrite = fs.writeFileSync;
let staged = '';
fs.writeFileSync = ((path: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
  if (typeof path === 'string' && path.endsWith('.ndjson')) staged = path;
  return (realWrite as (...a: unknown[]) => void)(path, ...rest);
}) as typeof fs.writeFileSync;
fs.unlinkSync = ((path: fs.PathLike) => {
  if (String(path) !== staged) return;
  process.stdout.write(`STAGED ${staged}\n`, () => {
    if (mode === 'die') process.kill(process.pid, 'SIGKILL');
  });
  // `hang`: keep the file and the process (the test kills it).
  setInterval(() => undefined, 1000);
  throw new Error('stopped before removing the staging file');
}) as typeof fs.unlinkSync;
syncBuiltinESMExports();

const store = new DuckDBStore({ dataDir: dataDir as string, defaultLimit: 10, maxRows: 10, queryTimeoutMs: 10_000 });
await store.open();
const event: EventRecord = {
  ts: Date.now() * 1000,
  tenant: 'default',
  dataClass: 'app',
  columns: { message: 'staged', service: 'child' },
  attributes: null,
};
await store.appendEvents([event]).catch(() => undefined);
