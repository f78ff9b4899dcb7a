/**
 * The ingest load generator, run in a worker thread so that it does not
 * compete with the server's event loop: pre-builds NDJSON request bodies of
 * seed-000-shaped payment events, then keeps `connections` requests in flight
 * against `POST /api/v1/events` for a warm-up and a measured window.
 */
import { Agent, request } from 'node:http';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { paymentEvent } from './events.ts';
import { rng } from './stats.ts';

export interface LoadOptions {
  /** API key sent as a Bearer token (the server requires keys, as in production). */
  readonly apiKey: string;
  readonly url: string;
  readonly connections: number;
  readonly batchEvents: number;
  /** Distinct pre-built bodies, sent round-robin. */
  readonly bodies: number;
  /** Event timestamps lie in the `spreadMs` before the bodies are built. */
  readonly spreadMs: number;
}

export type ToWorker = { readonly type: 'run'; readonly warmupMs: number; readonly durationMs: number };

export type FromWorker = ReadyMessage | DoneMessage;

export interface ReadyMessage {
  readonly type: 'ready';
  /** Average request body size, bytes. */
  readonly bodyBytes: number;
  readonly buildMs: number;
}

export interface DoneMessage {
  readonly type: 'done';
  /** Length of the measured window, ms. */
  readonly windowMs: number;
  readonly requests: number;
  readonly acceptedEvents: number;
  readonly bodyBytes: number;
  /** Latency of each request completed in the window, ms. */
  readonly latenciesMs: Float64Array;
  /** Non-200 answers (and transport errors) by status, over the whole run. */
  readonly failures: Record<string, number>;
  readonly firstFailure?: string;
}

function buildBodies(o: LoadOptions): Buffer[] {
  const random = rng(42);
  const now = Date.now();
  const bodies: Buffer[] = [];
  let i = 0;
  for (let b = 0; b < o.bodies; b++) {
    const lines: string[] = [];
    for (let k = 0; k < o.batchEvents; k++, i++) {
      lines.push(JSON.stringify(paymentEvent(i, now - Math.floor(random() * o.spreadMs), random)));
    }
    bodies.push(Buffer.from(`${lines.join('\n')}\n`));
  }
  return bodies;
}

function post(agent: Agent, url: URL, body: Buffer, apiKey: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/api/v1/events',
        headers: {
          'content-type': 'application/x-ndjson',
          'content-length': body.length,
          authorization: `Bearer ${apiKey}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run(o: LoadOptions, bodies: Buffer[], cmd: ToWorker): Promise<DoneMessage> {
  const url = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const started = performance.now();
  const windowStart = started + cmd.warmupMs;
  const windowEnd = windowStart + cmd.durationMs;
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let firstFailure: string | undefined;
  let requests = 0;
  let accepted = 0;
  let bytes = 0;
  let next = 0;

  const connection = async (): Promise<void> => {
    while (performance.now() < windowEnd) {
      const body = bodies[next++ % bodies.length] as Buffer;
      const t0 = performance.now();
      let status: number;
      let text: string;
      try {
        ({ status, text } = await post(agent, url, body, o.apiKey));
      } catch (err) {
        status = 0;
        text = (err as Error).message;
      }
      const t1 = performance.now();
      if (status !== 200) {
        failures[String(status)] = (failures[String(status)] ?? 0) + 1;
        firstFailure ??= `${status}: ${text.slice(0, 300)}`;
        // Back off a little on overload answers instead of spinning.
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (t1 >= windowStart && t1 <= windowEnd) {
        requests++;
        bytes += body.length;
        accepted += (JSON.parse(text) as { accepted: number }).accepted;
        latencies.push(t1 - t0);
      }
    }
  };
  await Promise.all(Array.from({ length: o.connections }, connection));
  agent.destroy();
  return {
    type: 'done',
    windowMs: cmd.durationMs,
    requests,
    acceptedEvents: accepted,
    bodyBytes: bytes,
    latenciesMs: Float64Array.from(latencies),
    failures,
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const options = workerData as LoadOptions;
  const t0 = performance.now();
  const bodies = buildBodies(options);
  const bodyBytes = bodies.reduce((s, b) => s + b.length, 0) / bodies.length;
  port.postMessage({ type: 'ready', bodyBytes, buildMs: performance.now() - t0 } satisfies FromWorker);
  port.once('message', (cmd: ToWorker) => {
    void run(options, bodies, cmd).then((result) => {
      port.postMessage(result satisfies FromWorker);
    });
  });
}
