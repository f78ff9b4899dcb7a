/**
 * The ingest load generator, run in worker threads so that it does not share
 * an event loop with the bench's own sampling: splits the generated NDJSON
 * file into request bodies of `batchEvents` lines (worker k of K takes every
 * K-th body), then keeps `connections` requests in flight against
 * `POST /api/v1/events` for a warm-up and a measured window, or until it has
 * had `maxEvents` accepted.
 *
 * Each body is re-stamped as it is sent: every `@timestamp` moves by the
 * time since the file was written, so events stay as old at their arrival
 * as they were in the file (live traffic stays live however often the file
 * goes round, and `--spread 1h` stays backdated).
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

export interface LoadOptions {
  /** API key sent as a Bearer token (the server requires keys, as in production). */
  readonly apiKey: string;
  readonly url: string;
  /** Requests this worker keeps in flight. */
  readonly connections: number;
  readonly batchEvents: number;
  /** The generated NDJSON file, one event per line. */
  readonly file: string;
  /** This worker's index and the number of workers: it sends bodies index, index + count, … */
  readonly index: number;
  readonly count: number;
  /** When the file's timestamps were taken, epoch ms. */
  readonly fileTimeMs: number;
}

/** A request body and where its `@timestamp` values are (24-character ISO strings). */
interface Body {
  readonly bytes: Buffer;
  readonly at: Int32Array;
  /** Each value's time in the file, epoch ms. */
  readonly ms: Float64Array;
}

const TS_KEY = Buffer.from('"@timestamp":"');
const ISO_LENGTH = 24;

export type ToWorker = {
  readonly type: 'run';
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Stop once this many events were accepted (warm-up included); the window then ends there. */
  readonly maxEvents?: number;
};

export type FromWorker = ReadyMessage | DoneMessage;

export interface ReadyMessage {
  readonly type: 'ready';
  readonly bodies: number;
  /** Average request body size, bytes. */
  readonly bodyBytes: number;
}

export interface DoneMessage {
  readonly type: 'done';
  /** Length of the measured window, ms. */
  readonly windowMs: number;
  readonly requests: number;
  readonly acceptedEvents: number;
  /** Events accepted over the whole run, warm-up included. */
  readonly totalAcceptedEvents: number;
  readonly bodyBytes: number;
  /** Latency of each request completed in the window, ms. */
  readonly latenciesMs: Float64Array;
  /** Non-200 answers (and transport errors) by status, over the whole run. */
  readonly failures: Record<string, number>;
  readonly firstFailure?: string;
}

/** Every `count`-th body of `batchEvents` lines of the file, starting at body `index`. */
function splitBodies(o: LoadOptions): Body[] {
  const file = readFileSync(o.file);
  const bodies: Body[] = [];
  let start = 0;
  let body = 0;
  while (start < file.length) {
    let end = start;
    for (let k = 0; k < o.batchEvents && end < file.length; k++) {
      const nl = file.indexOf(10, end);
      end = nl < 0 ? file.length : nl + 1;
    }
    // A copy, so that the file's buffer can go once every body is cut.
    if (body % o.count === o.index) bodies.push(stamped(Buffer.from(file.subarray(start, end))));
    body++;
    start = end;
  }
  return bodies;
}

function stamped(bytes: Buffer): Body {
  const at: number[] = [];
  const ms: number[] = [];
  for (let i = bytes.indexOf(TS_KEY); i >= 0; i = bytes.indexOf(TS_KEY, i + 1)) {
    const from = i + TS_KEY.length;
    const t = Date.parse(bytes.toString('latin1', from, from + ISO_LENGTH));
    if (!Number.isFinite(t) || bytes[from + ISO_LENGTH] !== 0x22) continue;
    at.push(from);
    ms.push(t);
  }
  return { bytes, at: Int32Array.from(at), ms: Float64Array.from(ms) };
}

/** Moves the body's timestamps by `shiftMs` from their time in the file. */
function restamp(body: Body, shiftMs: number): Buffer {
  for (let k = 0; k < body.at.length; k++) {
    body.bytes.write(new Date((body.ms[k] as number) + shiftMs).toISOString(), body.at[k] as number, 'latin1');
  }
  return body.bytes;
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

/** `"accepted":N` of an events answer, without parsing the per-item details. */
function acceptedOf(text: string): number {
  const m = /"accepted":(\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

async function run(o: LoadOptions, bodies: Body[], cmd: ToWorker): Promise<DoneMessage> {
  const url = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const started = performance.now();
  const windowStart = started + cmd.warmupMs;
  let windowEnd = windowStart + cmd.durationMs;
  const maxEvents = cmd.maxEvents ?? Number.POSITIVE_INFINITY;
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let firstFailure: string | undefined;
  let requests = 0;
  let accepted = 0;
  let totalAccepted = 0;
  let bytes = 0;
  let next = 0;

  const connection = async (): Promise<void> => {
    while (performance.now() < windowEnd && totalAccepted < maxEvents) {
      // A body is in one request at a time: there are more bodies than requests in flight.
      const body = restamp(bodies[next++ % bodies.length] as Body, Date.now() - o.fileTimeMs);
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
      const n = acceptedOf(text);
      totalAccepted += n;
      if (t1 >= windowStart && t1 <= windowEnd) {
        requests++;
        bytes += body.length;
        accepted += n;
        latencies.push(t1 - t0);
      }
      if (totalAccepted >= maxEvents && windowEnd > t1) windowEnd = Math.max(t1, windowStart);
    }
  };
  await Promise.all(Array.from({ length: o.connections }, connection));
  agent.destroy();
  return {
    type: 'done',
    windowMs: Math.max(1, windowEnd - windowStart),
    requests,
    acceptedEvents: accepted,
    totalAcceptedEvents: totalAccepted,
    bodyBytes: bytes,
    latenciesMs: Float64Array.from(latencies),
    failures,
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const options = workerData as LoadOptions;
  const bodies = splitBodies(options);
  const bodyBytes = bodies.reduce((s, b) => s + b.bytes.length, 0) / Math.max(1, bodies.length);
  port.postMessage({ type: 'ready', bodies: bodies.length, bodyBytes } satisfies FromWorker);
  port.on('message', (cmd: ToWorker) => {
    void run(options, bodies, cmd).then((result) => {
      port.postMessage(result satisfies FromWorker);
    });
  });
}
