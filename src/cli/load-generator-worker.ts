/**
 * One thread of the load generator (`shoplens demo --rate N`): re-stamps
 * batches of pool events to now and sends them to `POST /api/v1/events`
 * over keep-alive connections, `connections` requests in flight at most,
 * paced by a token bucket. Posts its counters to the main thread every
 * second (deltas) and once more when done.
 *
 * Started through load-generator-worker-entry.mjs (worker threads do not
 * inherit the tsx loader).
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { batchBody } from '../demo/load-pool.ts';
import { authHeaders } from './client.ts';

export interface LoadWorkerData {
  /** Base URL of the server; absent in a dry run. */
  readonly url?: string;
  readonly tails: readonly string[];
  /** This thread's share of the target rate, events/s; 0 = as fast as possible. */
  readonly rate: number;
  readonly batch: number;
  readonly connections: number;
  /** Stop issuing batches after this long (ms); absent = until told to stop. */
  readonly durationMs?: number;
  readonly dryRun: boolean;
  /** Where in the pool this thread starts (threads start apart). */
  readonly startIndex: number;
}

export type ToLoadWorker = { readonly type: 'start' | 'stop' };

export type StatusClass = '200' | '429' | '503' | 'other' | 'error';

/** Counters since the previous message. */
/** Sent once the thread has loaded, before it starts (it waits for 'start'). */
export interface LoadReady {
  readonly type: 'ready';
}

export type FromLoadWorker = LoadReady | LoadStats;

export interface LoadStats {
  readonly type: 'stats' | 'done';
  readonly sentEvents: number;
  readonly sentBytes: number;
  readonly sentBatches: number;
  readonly ackedEvents: number;
  readonly rejectedEvents: number;
  readonly statuses: Record<StatusClass, number>;
  /** Latency of each request answered since the previous message, ms. */
  readonly latenciesMs: Float64Array;
  readonly firstFailure?: string;
}

/** Longest pause a Retry-After may impose, ms. */
const MAX_BACKOFF_MS = 10_000;
/** Pause after a transport error (server down, connection reset), ms. */
const ERROR_BACKOFF_MS = 1_000;
const REQUEST_TIMEOUT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const emptyStatuses = (): Record<StatusClass, number> => ({ '200': 0, '429': 0, '503': 0, other: 0, error: 0 });

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly text: string;
}

/** Reservation token bucket: take(n) spends n tokens now and waits until the debt is paid. */
class TokenBucket {
  readonly #rate: number;
  readonly #capacity: number;
  #tokens: number;
  #lastMs = performance.now();

  constructor(rate: number, capacity: number) {
    this.#rate = rate;
    this.#capacity = capacity;
    this.#tokens = capacity;
  }

  async take(n: number): Promise<void> {
    if (this.#rate <= 0) return;
    const now = performance.now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#lastMs) * this.#rate) / 1000);
    this.#lastMs = now;
    this.#tokens -= n;
    if (this.#tokens < 0) await sleep((-this.#tokens * 1000) / this.#rate);
  }
}

export async function runLoadWorker(
  data: LoadWorkerData,
  report: (stats: LoadStats) => void,
  stopped: { value: boolean },
): Promise<void> {
  const url = data.url === undefined ? undefined : new URL('/api/v1/events', data.url);
  const https = url?.protocol === 'https:';
  const agent = url ? new (https ? HttpsAgent : Agent)({ keepAlive: true, maxSockets: data.connections }) : undefined;
  const send = https ? httpsRequest : httpRequest;
  const bucket = new TokenBucket(data.rate, data.batch);
  /** Sleeps up to `ms`, but no later than the deadline or a stop. */
  const pause = async (ms: number): Promise<void> => {
    const until = Math.min(performance.now() + ms, deadline);
    while (!stopped.value && performance.now() < until) await sleep(Math.min(100, until - performance.now()));
  };
  const deadline = data.durationMs === undefined ? Infinity : performance.now() + data.durationMs;
  let next = data.startIndex;

  let sentEvents = 0;
  let sentBytes = 0;
  let sentBatches = 0;
  let ackedEvents = 0;
  let rejectedEvents = 0;
  let statuses = emptyStatuses();
  let latencies: number[] = [];
  let firstFailure: string | undefined;
  let failureReported = false;

  const flush = (type: LoadStats['type']): void => {
    report({
      type,
      sentEvents,
      sentBytes,
      sentBatches,
      ackedEvents,
      rejectedEvents,
      statuses,
      latenciesMs: Float64Array.from(latencies),
      ...(firstFailure !== undefined && !failureReported ? { firstFailure } : {}),
    });
    if (firstFailure !== undefined) failureReported = true;
    sentEvents = sentBytes = sentBatches = ackedEvents = rejectedEvents = 0;
    statuses = emptyStatuses();
    latencies = [];
  };
  const timer = setInterval(() => flush('stats'), 1000);

  const post = (body: Buffer): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = send(
        url as URL,
        {
          agent,
          method: 'POST',
          timeout: REQUEST_TIMEOUT_MS,
          headers: { 'content-type': 'application/x-ndjson', 'content-length': body.length, ...authHeaders() },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const retryAfter = res.headers['retry-after'];
            resolve({
              status: res.statusCode ?? 0,
              retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
              text: Buffer.concat(chunks).toString('utf8'),
            });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on('error', reject);
      req.end(body);
    });

  const nextBody = (): Buffer => {
    const body = Buffer.from(batchBody(data.tails, next, data.batch, new Date().toISOString()));
    next = (next + data.batch) % data.tails.length;
    return body;
  };

  const connection = async (): Promise<void> => {
    while (!stopped.value && performance.now() < deadline) {
      await bucket.take(data.batch);
      if (stopped.value || performance.now() >= deadline) break;
      const body = nextBody();
      sentEvents += data.batch;
      sentBytes += body.length;
      sentBatches++;
      if (data.dryRun) {
        // Measure the generator alone: let timers and messages through between batches.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      const t0 = performance.now();
      let answer: Answer;
      try {
        answer = await post(body);
      } catch (err) {
        statuses.error++;
        firstFailure ??= `error: ${(err as Error).message}`;
        await pause(ERROR_BACKOFF_MS);
        continue;
      }
      latencies.push(performance.now() - t0);
      if (answer.status === 200) {
        statuses['200']++;
        try {
          const json = JSON.parse(answer.text) as { accepted?: number; rejected?: unknown[] };
          ackedEvents += json.accepted ?? 0;
          rejectedEvents += json.rejected?.length ?? 0;
        } catch {
          firstFailure ??= `200 with an unreadable answer: ${answer.text.slice(0, 200)}`;
        }
        continue;
      }
      firstFailure ??= `${answer.status}: ${answer.text.slice(0, 300)}`;
      if (answer.status === 429 || answer.status === 503) {
        statuses[answer.status === 429 ? '429' : '503']++;
        const seconds = Number(answer.retryAfter);
        const waitMs = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 1000;
        await pause(Math.min(waitMs, MAX_BACKOFF_MS));
      } else {
        statuses.other++;
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: data.dryRun ? 1 : data.connections }, connection));
  } finally {
    clearInterval(timer);
    agent?.destroy();
    flush('done');
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const stopped = { value: false };
  let started = false;
  port.on('message', (message: ToLoadWorker) => {
    if (message.type === 'stop') stopped.value = true;
    if (message.type === 'start' && !started) {
      started = true;
      void runLoadWorker(workerData as LoadWorkerData, (stats) => port.postMessage(stats), stopped).finally(() =>
        port.close(),
      );
    }
  });
  port.postMessage({ type: 'ready' } satisfies FromLoadWorker);
}
