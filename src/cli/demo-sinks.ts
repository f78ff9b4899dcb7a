/**
 * Where the demo sends its events and how it asks what is stored: in-process
 * through the ingest pipeline, or over HTTP to a running server (--url).
 */
import { AppError } from '../errors.ts';
import { OTLP_PROTOBUF } from '../ingest/otlp-common.ts';
import { ingestOtlpTraces } from '../ingest/otlp-traces.ts';
import type { IngestPipeline } from '../ingest/pipeline.ts';
import type { EventSink, NdjsonSink, SinkResult } from '../demo/demo-runner.ts';
import { SERVICES } from '../demo/shop-model.ts';
import type { SpanRecord } from '../store/spans.ts';
import { authHeaders, postNdjson, unreachableReason } from './client.ts';
import { otlpTracesBody } from './demo-traces.ts';

/** How long the HTTP sink keeps retrying a server that is down or overloaded. */
const RETRY_FOR_MS = 60_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function ndjsonOf(events: readonly Record<string, unknown>[]): string {
  let body = '';
  for (const event of events) body += `${JSON.stringify(event)}\n`;
  return body;
}

/** Whether the store asks to be tried again later: overloaded (429) or unavailable for a moment (503). */
function isRetryable(err: unknown): err is AppError {
  return err instanceof AppError && (err.status === 429 || err.status === 503);
}

/**
 * Runs `attempt` until it succeeds, waiting out each 429/503 until `deadline`
 * (epoch ms): by `wait` when given (in process, the sink can wait for exactly
 * what it is waiting for), else for the answer's Retry-After.
 */
async function retrying<T>(deadline: number, attempt: () => Promise<T>, wait?: () => Promise<void>): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!isRetryable(err) || Date.now() > deadline) throw err;
      if (wait && err.status === 429) await wait();
      else await sleep(Math.max(1, Number(err.headers['Retry-After']) || 1) * 1000);
    }
  }
}

/**
 * Delivers events through the in-process ingest pipeline: parsed and
 * normalised in the ingest worker threads (as `POST /api/v1/events` bodies
 * are), then committed. Waits out an overloaded (429) or unavailable (503)
 * pipeline, as an HTTP client honours Retry-After.
 */
export function pipelineSink(
  pipeline: IngestPipeline,
  tenant = 'default',
  appendSpans?: (spans: readonly SpanRecord[]) => Promise<void>,
): EventSink & NdjsonSink {
  async function deliver(body: Buffer): Promise<SinkResult> {
    const deadline = Date.now() + RETRY_FOR_MS;
    // Admitted as an HTTP body is (back-pressure included), then as one block of rows, the way
    // /api/v1/events bodies go. Overloaded: the store is behind loading the ingest log; in process there is
    // no need to wait a whole second (Retry-After), and trying again shortly keeps the loader busy
    // without letting it fall behind.
    return retrying(
      deadline,
      () =>
        pipeline.admitted(body.length, async () => {
          const { record, rejected } = await pipeline.prepareRows(body, 'application/x-ndjson', {
            tenant,
            receivedAtMs: Date.now(),
          });
          const codes = rejected.map((r) => r.code);
          await pipeline.commitRows('demo', record, codes);
          const firstRejection = rejected[0]?.message;
          return { accepted: record.rows, rejected: codes.length, ...(firstRejection ? { firstRejection } : {}) };
        }),
      () => sleep(50),
    );
  }
  /** An OTLP/HTTP protobuf body, through what `POST /v1/traces` runs (admission, decoding, redaction, commit). */
  async function deliverSpans(body: Uint8Array): Promise<SinkResult> {
    const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const outcome = await retrying(
      Date.now() + RETRY_FOR_MS,
      () =>
        pipeline.admitted(buffer.length, () =>
          ingestOtlpTraces(pipeline, appendSpans, buffer, 'protobuf', { tenant, receivedAtMs: Date.now() }),
        ),
      () => sleep(50),
    );
    const firstRejection = outcome.errors[0];
    return { accepted: outcome.accepted, rejected: outcome.rejected, ...(firstRejection ? { firstRejection } : {}) };
  }
  return {
    send: (events) => deliver(Buffer.from(ndjsonOf(events))),
    sendNdjson: (body) => deliver(Buffer.from(body.buffer, body.byteOffset, body.byteLength)),
    ...(appendSpans
      ? {
          sendTraces: (traces, shiftMsOf) => deliverSpans(otlpTracesBody(traces, shiftMsOf).body),
          sendOtlpTraces: (body) => deliverSpans(body),
        }
      : {}),
    flush: () => pipeline.refresh(),
  };
}

/** Delivers events as NDJSON to `POST {baseUrl}/api/v1/events`; honours 429/503 Retry-After. */
export function httpSink(baseUrl: string): EventSink & NdjsonSink {
  const endpoint = new URL('/api/v1/events', baseUrl);
  async function post(body: string | Uint8Array, events: number): Promise<SinkResult> {
    const deadline = Date.now() + RETRY_FOR_MS;
    for (;;) {
      let response: Response;
      try {
        response = await postNdjson(endpoint, body);
      } catch (err) {
        if (Date.now() > deadline) {
          throw new AppError(503, 'demo.unreachable', `Cannot reach Shoplens at ${baseUrl}: ${unreachableReason(err)}`);
        }
        await sleep(1000);
        continue;
      }
      const json = (await response.json().catch(() => ({}))) as {
        accepted?: number;
        rejected?: { message?: string }[];
        error?: { code?: string; message?: string };
      };
      if ((response.status === 503 || response.status === 429) && Date.now() < deadline) {
        await sleep(Math.max(1, Number(response.headers.get('retry-after')) || 1) * 1000);
        continue;
      }
      if (response.ok || json.error?.code === 'ingest.no_valid_events') {
        const rejected = json.rejected ?? [];
        const firstRejection = rejected[0]?.message ?? json.error?.message;
        return {
          accepted: json.accepted ?? 0,
          rejected: response.ok ? rejected.length : events,
          ...(firstRejection ? { firstRejection } : {}),
        };
      }
      throw new AppError(
        response.status,
        json.error?.code ?? 'demo.http_error',
        `Shoplens at ${baseUrl} refused the events: HTTP ${response.status} ${json.error?.message ?? ''}`.trim(),
      );
    }
  }
  const tracesEndpoint = new URL('/v1/traces', baseUrl);
  /** Set once the server answered that it keeps no spans (501: a store without traces): no more are sent. */
  let noTraces = false;
  async function postSpans(body: Uint8Array, spans: number): Promise<SinkResult> {
    if (noTraces) return { accepted: 0, rejected: 0 };
    const deadline = Date.now() + RETRY_FOR_MS;
    for (;;) {
      let response: Response;
      try {
        response = await fetch(tracesEndpoint, {
          method: 'POST',
          headers: { 'content-type': OTLP_PROTOBUF, ...authHeaders() },
          body,
        });
      } catch (err) {
        if (Date.now() > deadline) {
          throw new AppError(503, 'demo.unreachable', `Cannot reach Shoplens at ${baseUrl}: ${unreachableReason(err)}`);
        }
        await sleep(1000);
        continue;
      }
      await response.arrayBuffer();
      if ((response.status === 503 || response.status === 429) && Date.now() < deadline) {
        await sleep(Math.max(1, Number(response.headers.get('retry-after')) || 1) * 1000);
        continue;
      }
      if (response.status === 501) {
        noTraces = true;
        return { accepted: 0, rejected: spans, firstRejection: `${baseUrl} keeps no traces (HTTP 501): none sent` };
      }
      // 200 with a partial success would name rejected spans; the demo's spans are all valid.
      if (response.ok) return { accepted: spans, rejected: 0 };
      throw new AppError(
        response.status,
        'demo.http_error',
        `Shoplens at ${baseUrl} refused the spans: HTTP ${response.status}`,
      );
    }
  }
  return {
    send: (events) => post(ndjsonOf(events), events.length),
    sendNdjson: (body, events) => post(body, events),
    sendTraces: (traces, shiftMsOf) => {
      const { body, spans } = otlpTracesBody(traces, shiftMsOf);
      return postSpans(body, spans);
    },
    sendOtlpTraces: (body, spans) => postSpans(body, spans),
    async flush(): Promise<void> {
      // Elasticsearch's refresh API: what the server acknowledged becomes visible now.
      await fetch(new URL('/_refresh', baseUrl), { method: 'POST', headers: authHeaders() }).catch(() => undefined);
    },
  };
}

/** The query that finds the oldest and newest demo events, to fill gaps instead of duplicating history. */
export const DEMO_SPAN_QUERY = `service.name:(${[...SERVICES, 'frontend-service'].join(' or ')}) | stats min(@timestamp) as first, max(@timestamp) as last`;

export type QueryRunner = (query: string, fromIso: string) => Promise<{ rows: readonly (readonly unknown[])[] }>;

export function epochMsOf(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : Date.parse(String(value));
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The parts of [fromMs, toMs) that hold no demo events yet: all of it on an
 * empty store; before the oldest and after the newest stored demo event
 * otherwise (a second `npm start` adds only the time it was down).
 */
export async function missingHistory(
  runQueryText: QueryRunner,
  fromMs: number,
  toMs: number,
): Promise<{ fromMs: number; toMs: number }[]> {
  const answer = await runQueryText(DEMO_SPAN_QUERY, new Date(fromMs).toISOString());
  const first = epochMsOf(answer.rows[0]?.[0]);
  const last = epochMsOf(answer.rows[0]?.[1]);
  if (first === undefined || last === undefined) return [{ fromMs, toMs }];
  const gaps = [
    { fromMs, toMs: Math.min(first, toMs) },
    { fromMs: Math.max(fromMs, last + 1), toMs },
  ];
  // Before the oldest event, a gap of a few minutes is only sparse history (infrastructure samples come every 5).
  return gaps.filter((gap) => gap.toMs - gap.fromMs >= (gap.fromMs === fromMs ? 10 * 60_000 : 1));
}

export function httpQueryRunner(baseUrl: string): QueryRunner {
  return async (query, from) => {
    const response = await fetch(new URL('/api/v1/query', baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders() },
      body: JSON.stringify({ query, from, to: 'now+1h' }),
    }).catch((err: unknown) => {
      throw new AppError(503, 'demo.unreachable', `Cannot reach Shoplens at ${baseUrl}: ${unreachableReason(err)}`);
    });
    const json = (await response.json().catch(() => ({}))) as {
      rows?: unknown[][];
      error?: { message?: string };
    };
    if (!response.ok) {
      throw new AppError(response.status, 'demo.http_error', `Query failed: ${json.error?.message ?? response.status}`);
    }
    return { rows: json.rows ?? [] };
  };
}
