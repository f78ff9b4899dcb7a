/** Opening the configured store and starting the HTTP server. */
import { createServer, type ServerDeps, type ShoplensServer } from '../api/server.ts';
import type { Config } from '../config.ts';
import { DuckDBStore } from '../store/duckdb/duckdb-store.ts';
import type { Store } from '../store/store.ts';
import { createLogger } from '../telemetry/logger.ts';

export async function openStore(config: Config): Promise<Store> {
  const store = new DuckDBStore({
    dataDir: config.dataDir,
    threads: config.store.duckdbThreads,
    memoryLimit: config.store.duckdbMemoryLimit,
    checkpointThreshold: config.store.duckdbCheckpointThreshold,
    defaultLimit: config.query.defaultLimit,
    maxRows: config.query.maxRows,
    queryTimeoutMs: config.query.timeout,
  });
  await store.open();
  return store;
}

/** Opens the store, starts listening, and logs where. `extra` adds optional parts (the demo's incident control). */
export async function startServer(config: Config, extra: Pick<ServerDeps, 'demo'> = {}): Promise<ShoplensServer> {
  const logger = createLogger(config.log.level);
  const store = await openStore(config);
  const server = await createServer({ config, store, logger, ...extra });
  const address = await server.app.listen({ host: config.server.host, port: config.server.port });
  logger.info({ address, dataDir: config.dataDir, store: store.engine }, `Shoplens listening on ${address}`);
  return server;
}
