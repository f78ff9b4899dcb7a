/** Opening the configured store and starting the HTTP server. */
import { createServer, type ServerDeps, type ShoplensServer } from '../api/server.ts';
import type { Config } from '../config.ts';
import { ClickHouseStore } from '../store/clickhouse/clickhouse-store.ts';
import { DuckDBStore } from '../store/duckdb/duckdb-store.ts';
import { LoggedStore } from '../store/logged-store.ts';
import type { Store } from '../store/store.ts';
import { createLogger } from '../telemetry/logger.ts';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';

/**
 * V8 lets the old generation grow to 4x what survived the last full GC
 * before marking again (its default factor falls towards 1.1x under a high
 * allocation rate). Under ingest the main thread holds tens of MB of request
 * bodies and row blocks outside the JavaScript heap; V8 counts them against
 * that headroom, so with the default it marked its ~25 MB heap about ten
 * times a second (a fifth of the CPU at 35k events/s). With 4x it marks
 * about once a second. Set once, before the server allocates; the flag is
 * process-wide, so the ingest workers get it too.
 */
function tuneHeapForIngest(): void {
  setFlagsFromString('--heap-growing-percent=300');
}

/**
 * Opens the configured engine behind the ingest log (store/logged-store.ts):
 * what a crash left in the log is loaded before this resolves.
 */
export async function openStore(config: Config, logger?: Logger): Promise<Store> {
  // The one place that maps the configured engine to its store; everything after branches on capabilities.
  switch (config.store.engine) {
    case 'clickhouse':
      return openClickHouse(config);
    case 'duckdb':
      return openDuckDB(config, logger);
  }
}

/** A ClickHouse server: it acknowledges the writes, so there is no ingest log on this node's disk. */
async function openClickHouse(config: Config): Promise<Store> {
  const store = new ClickHouseStore({
    ...config.store.clickhouse,
    defaultLimit: config.query.defaultLimit,
    maxRows: config.query.maxRows,
    queryTimeoutMs: config.query.timeout,
  });
  await store.open();
  return store;
}

async function openDuckDB(config: Config, logger?: Logger): Promise<Store> {
  const engine = new DuckDBStore({
    dataDir: config.dataDir,
    threads: config.store.duckdbThreads,
    memoryLimit: config.store.duckdbMemoryLimit,
    checkpointThreshold: config.store.duckdbCheckpointThreshold,
    defaultLimit: config.query.defaultLimit,
    maxRows: config.query.maxRows,
    queryTimeoutMs: config.query.timeout,
    loadThreads: config.store.duckdbLoadThreads,
    rowGroupRows: config.store.segmentRows,
    ...(config.metrics.business.length > 0 ? { kpis: { checkoutRoute: config.metrics.checkoutRoute } } : {}),
    ...(logger ? { logger } : {}),
  });
  const store = new LoggedStore(
    engine,
    {
      dir: join(config.dataDir, 'log'),
      refreshIntervalMs: config.store.refreshInterval,
      segmentRows: config.store.segmentRows,
      maxLogBytes: config.store.maxLogSize,
      maxLoadLagMs: config.store.maxLoadLag,
    },
    {},
    logger,
  );
  await store.open();
  return store;
}

/** Opens the store, starts listening, and logs where. `extra` adds optional parts (the demo's incident control). */
export async function startServer(
  config: Config,
  extra: Pick<ServerDeps, 'demo' | 'demoWebhook' | 'demoMail'> = {},
): Promise<ShoplensServer> {
  tuneHeapForIngest();
  const logger = createLogger(config.log.level);
  const store = await openStore(config, logger);
  const server = await createServer({ config, store, logger, ...extra });
  let host = config.server.host;
  if (config.auth === 'none' && !isLoopback(host)) {
    logger.warn(
      { configuredHost: host },
      `auth is "none": listening on 127.0.0.1 only instead of ${host}; set auth: keys to serve other machines`,
    );
    host = '127.0.0.1';
  }
  if (config.auth === 'keys') await ensureFirstKey(server);
  const address = await server.app.listen({ host, port: config.server.port });
  if (server.otlpGrpc) {
    try {
      const port = await server.otlpGrpc.listen(host, config.otlp.grpc.port);
      logger.info({ host, port }, `OTLP/gRPC listening on ${host}:${port}`);
    } catch (err) {
      // OTLP/HTTP on the main port still works; a Collector on this machine often holds 4317 already.
      logger.error(
        { err, host, port: config.otlp.grpc.port },
        `OTLP/gRPC could not listen on ${host}:${config.otlp.grpc.port} (${(err as Error).message}); ` +
          'serving OTLP/HTTP only: set otlp.grpc.port to a free port, or otlp.grpc.enabled: false',
      );
    }
  }
  logger.info(
    { address, dataDir: config.dataDir, store: store.engine, auth: config.auth },
    `Shoplens listening on ${address}` +
      (config.auth === 'none' ? ' with auth: none (no API keys; loopback only)' : ' (API keys required)'),
  );
  return server;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * First start with keys on: no key exists yet, so create the operator's admin
 * key and print it once, to the terminal (stderr) only: never to the log,
 * never to disk (the store keeps its hash).
 */
async function ensureFirstKey(server: ShoplensServer): Promise<void> {
  const keys = server.context.keys;
  if (await keys.hasActiveKeys()) return;
  const { key, info } = await keys.create({
    tenant: 'default',
    role: 'admin',
    name: 'operator (created at first start)',
    operator: true,
    createdBy: 'shoplens first start',
  });
  process.stderr.write(
    [
      '',
      '  Shoplens created the first API key (admin of tenant "default", may manage every tenant).',
      '  It is shown this once and stored only as a hash: copy it now.',
      '',
      `      ${key}`,
      '',
      `  Use it as "Authorization: Bearer <key>"; create more with: shoplens keys create --tenant T --role ingest|read|admin`,
      `  (key id ${info.id})`,
      '',
      '',
    ].join('\n'),
  );
}
