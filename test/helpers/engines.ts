/**
 * The store engines a suite runs on (STYLE.md: one suite, parameterised by
 * engine). DuckDB always; ClickHouse when clickhouse-server is installed
 * (and always in CI, where a missing one fails: required-tool.ts). Each
 * engine gives the test server's `store` config; ClickHouse's starts a
 * real server for the suite (clickhouse-server.ts) and stops it after.
 */
import type { ConfigInput } from '../../src/config.ts';
import { clickhouseAvailable, startClickHouse, type TestClickHouse } from './clickhouse-server.ts';

export interface TestEngine {
  readonly name: 'duckdb' | 'clickhouse';
  /** Starts what the engine needs; answers the `store` overrides for startTestServer. */
  start(): Promise<NonNullable<ConfigInput['store']>>;
  /** Stops what start started. */
  stop(): Promise<void>;
}

let databases = 0;

/** The engines to run `what` (a suite's name) on. */
export function testEngines(what: string): TestEngine[] {
  const engines: TestEngine[] = [{ name: 'duckdb', start: async () => ({}), stop: async () => {} }];
  if (clickhouseAvailable(`${what} on ClickHouse`)) {
    let server: TestClickHouse | undefined;
    engines.push({
      name: 'clickhouse',
      async start() {
        server ??= await startClickHouse();
        return { engine: 'clickhouse', clickhouse: { url: server.url, database: `shoplens_test_${++databases}` } };
      },
      async stop() {
        await server?.stop();
        server = undefined;
      },
    });
  }
  return engines;
}
