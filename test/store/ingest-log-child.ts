/**
 * A child process for ingest-log-crash.test.ts: a real Shoplens server
 * (HTTP on 127.0.0.1, real DuckDB file, ingest log) on the data directory in
 * argv[2]; prints `LISTEN <url>` once it answers. With `after-load` in
 * argv[3] it dies by SIGKILL right after its first segment load once it
 * listens committed, before the segment's file is deleted (the window where a replay could
 * load it twice).
 */
import { createServer } from '../../src/api/server.ts';
import { openStore } from '../../src/cli/serve.ts';
import { loadConfig } from '../../src/config.ts';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.ts';
import { createLogger } from '../../src/telemetry/logger.ts';

const [dataDir, mode] = process.argv.slice(2);
/** Armed once the server listens: the replay at open loads whole, so the kill hits a live load. */
let armed = false;
if (mode === 'after-load') {
  const load = DuckDBStore.prototype.loadSegment;
  DuckDBStore.prototype.loadSegment = async function (this: DuckDBStore, segment) {
    const outcome = await load.call(this, segment);
    if (armed) process.kill(process.pid, 'SIGKILL');
    return outcome;
  };
}
const config = loadConfig({
  env: {},
  flags: {
    dataDir: dataDir as string,
    auth: 'none',
    server: { host: '127.0.0.1', port: 0 },
    retention: { interval: 0 },
    alerts: { enabled: false },
    store: { refreshInterval: '100ms', rollupInterval: 0 },
    ingest: { workers: 1 },
  },
});
const logger = createLogger('info', process.stderr);
const store = await openStore(config, logger);
const server = await createServer({ config, store, logger });
const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
armed = true;
process.stdout.write(`LISTEN ${url}\n`);
