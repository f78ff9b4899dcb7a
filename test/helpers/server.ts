/**
 * Starts a real Shoplens server for a test: real DuckDB file in a fresh temp
 * data directory, real HTTP on 127.0.0.1 with an ephemeral port. Logs are
 * captured in memory (tests may assert on them) instead of printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createServer, type ShoplensServer } from '../../src/api/server.ts';
import type { DemoIncidentControl } from '../../src/demo/incidents.ts';
import { loadConfig, type Config, type ConfigInput } from '../../src/config.ts';
import { openStore } from '../../src/cli/serve.ts';
import { createLogger } from '../../src/telemetry/logger.ts';

export interface TestServer {
  readonly url: string;
  /** `http://127.0.0.1:<port>` of OTLP/gRPC, when the test turned it on (`otlp: { grpc: { enabled: true } }`). */
  readonly grpcUrl: string | undefined;
  readonly dataDir: string;
  readonly config: Config;
  readonly server: ShoplensServer;
  /** Everything the server logged, one JSON object per line. */
  logs(): string;
  /** Stops the server and starts a new one on the same data directory. */
  restart(): Promise<TestServer>;
  /** Stops the server; removes the data directory unless `keepData`. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

/** A fresh temp directory for test data (never inside the repository). */
export function testDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'shoplens-test-'));
}

function assertTestDir(dir: string): void {
  // Destructive helpers only touch directories they made (PostHog assertTestDatabaseName).
  if (!dir.startsWith(join(tmpdir(), 'shoplens-test-')))
    throw new Error(`refusing to delete non-test directory ${dir}`);
}

/** Optional parts of the running service a test may plug in. */
export interface TestServerExtras {
  /** The demo shop's incident control (`shoplens demo` passes one; `serve` does not). */
  readonly demo?: DemoIncidentControl;
}

export async function startTestServer(
  overrides: ConfigInput = {},
  dataDir: string = testDataDir(),
  extras: TestServerExtras = {},
): Promise<TestServer> {
  const config = loadConfig({
    env: {},
    // Tests of other features run without keys; the auth tests pass `auth: 'keys'`.
    flags: {
      auth: 'none',
      ...overrides,
      dataDir,
      // Custom rules from this test's own (empty) directory unless it names one, never from ./rules of
      // whatever directory the tests run in: a YAML file left there would change every server's rules.
      alerts: { rulesDir: join(dataDir, 'rules'), ...(overrides.alerts ?? {}) },
      // The retention job off unless a test turns it on: a minute after start it would delete the
      // fixed-date scenarios the alert tests load (October 2025 is past every default retention now),
      // in the middle of whichever test runs at that moment. Tests run retention with its route.
      retention: { interval: 0, ...(overrides.retention ?? {}) },
      server: { host: '127.0.0.1', port: 0, ...(overrides.server ?? {}) },
      // OTLP/gRPC off unless a test turns it on, then on a free port.
      otlp: { ...(overrides.otlp ?? {}), grpc: { enabled: false, port: 0, ...(overrides.otlp?.grpc ?? {}) } },
      // Data visible within 200 ms of its acknowledgement (1 s in production): tests that read what
      // they wrote send `?refresh=wait_for`, and wait less for it.
      store: { refreshInterval: '200ms', ...(overrides.store ?? {}) },
    },
  });
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = createLogger('info', sink);
  const store = await openStore(config, logger);
  const server = await createServer({ config, store, logger, ...extras });
  const address = await server.app.listen({ host: '127.0.0.1', port: 0 });
  const grpcPort = await server.otlpGrpc?.listen('127.0.0.1', config.otlp.grpc.port);
  const self: TestServer = {
    url: address,
    grpcUrl: grpcPort === undefined ? undefined : `http://127.0.0.1:${grpcPort}`,
    dataDir,
    config,
    server,
    logs: () => chunks.join(''),
    async restart() {
      await server.close();
      return startTestServer(overrides, dataDir, extras);
    },
    async close(options = {}) {
      await server.close();
      if (!options.keepData) {
        assertTestDir(dataDir);
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
  return self;
}

/** POSTs a body and returns status, headers and the parsed JSON answer. */
export async function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = { 'content-type': 'application/x-ndjson' },
): Promise<{ status: number; headers: Headers; json: any }> {
  const response = await fetch(url, { method: 'POST', body, headers });
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, json };
}

/** Runs a query through the HTTP API. */
export async function query(
  base: string,
  q: string,
  range: { from?: string; to?: string } = { from: '2000-01-01T00:00:00Z', to: 'now+1h' },
): Promise<{ status: number; json: any }> {
  const r = await post(`${base}/api/v1/query`, JSON.stringify({ query: q, ...range }), {
    'content-type': 'application/json',
  });
  return { status: r.status, json: r.json };
}
