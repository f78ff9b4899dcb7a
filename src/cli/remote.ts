/**
 * How admin commands (keys, privacy, retention) reach Shoplens: a running
 * server over HTTP with the API key, or the data directory in this process.
 * (Kept apart from client.ts, which the load generator's worker threads
 * import and which must stay light.)
 */
import { InvalidArgumentError } from 'commander';
import { createServer, type ShoplensServer } from '../api/server.ts';
import { AppError } from '../errors.ts';
import { createLogger } from '../telemetry/logger.ts';
import { authHeaders } from './client.ts';
import { configFromFlags } from './config-flags.ts';
import { openStore } from './serve.ts';

/** Where a CLI command acts: a running server (`--url`) or the data directory. */
export interface Where {
  readonly url?: string;
  readonly dataDir?: string;
  readonly config?: string;
}

/** The error answer of a route. */
type ErrorBody = { error?: { message?: string } } | undefined;

function failed(status: number, json: ErrorBody): AppError {
  return new AppError(status, 'cli.http_error', json?.error?.message ?? `HTTP ${status}`);
}

/** Calls a route of a running server with the key; answers its JSON or throws its error message. */
export async function callServer<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(new URL(path, url), {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...authHeaders() },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new AppError(503, 'cli.unreachable', `Cannot reach Shoplens at ${url}: ${(err as Error).message}`);
  }
  const json = (await response.json().catch(() => ({}))) as ErrorBody;
  if (!response.ok) throw failed(response.status, json);
  return json as T;
}

/**
 * Runs `fn` against a server on the data directory, in this process, with no
 * port: the operator on this machine, file in hand, acts as admin.
 */
export async function withLocalServer<T>(where: Where, fn: (server: ShoplensServer) => Promise<T>): Promise<T> {
  const config = configFromFlags(where);
  const store = await openStore(config);
  const server = await createServer({
    config: {
      ...config,
      auth: 'none',
      ingest: { ...config.ingest, workers: 0 },
      retention: { ...config.retention, interval: 0 },
    },
    store,
    logger: createLogger('warn'),
  });
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

/** Calls a route through `--url`, or in-process on the data directory (same route code either way). */
export async function callRoute<T>(
  where: Where,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  if (where.url && where.dataDir) throw new InvalidArgumentError('give either --url or --data-dir, not both');
  if (where.url) return callServer<T>(where.url, method, path, body);
  return withLocalServer(where, async (server) => {
    const answer = await server.app.inject({
      method,
      url: path,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) }),
    });
    const json = answer.json<ErrorBody>();
    if (answer.statusCode >= 400) throw failed(answer.statusCode, json);
    return json as T;
  });
}
