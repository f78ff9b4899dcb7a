/**
 * OTLP/HTTP receivers on the main port, for unmodified OpenTelemetry SDKs
 * and Collectors pointed at Shoplens by `OTEL_EXPORTER_OTLP_ENDPOINT`:
 *
 * - `POST /v1/traces`: spans (src/ingest/otlp-traces.ts)
 * - `POST /v1/logs`: log records → events (src/ingest/otlp-logs.ts)
 * - `POST /v1/metrics`: data points → metric events (src/ingest/otlp-metrics.ts)
 *
 * Bodies are `application/x-protobuf` or `application/json`, optionally
 * gzip; the answer is the signal's Export*ServiceResponse in the request's
 * encoding, with `partialSuccess` when some items were refused. Errors: 400
 * undecodable, 413 too large, 415 another content type, 429 with
 * Retry-After under back-pressure; protobuf clients get a google.rpc.Status
 * body. The key is an ingest key, `Authorization: Bearer <key>` (the
 * exporters' `OTEL_EXPORTER_OTLP_HEADERS`).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { decodeBody } from '../../ingest/body.ts';
import {
  encodeOtlpResponse,
  encodeOtlpStatus,
  grpcCodeOf,
  OTLP_PROTOBUF,
  otlpEncoding,
  type OtlpEncoding,
  type OtlpOutcome,
  type OtlpSignal,
} from '../../ingest/otlp-common.ts';
import { ingestOtlpLogs } from '../../ingest/otlp-logs.ts';
import { ingestOtlpMetrics } from '../../ingest/otlp-metrics.ts';
import { ingestOtlpTraces } from '../../ingest/otlp-traces.ts';
import type { IngestContext } from '../../ingest/pipeline.ts';
import type { AppContext } from '../server.ts';

function isProtobuf(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && type.split(';')[0]?.trim().toLowerCase() === OTLP_PROTOBUF;
}

export function otlpRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    // Errors of a protobuf request answer as google.rpc.Status in protobuf, as the spec asks.
    app.addHook('onSend', async (request, reply, payload) => {
      if (reply.statusCode < 400 || !isProtobuf(request) || typeof payload !== 'string') return payload;
      let message = payload;
      try {
        const parsed = JSON.parse(payload) as { error?: { message?: string } };
        message = parsed.error?.message ?? payload;
      } catch {
        // not JSON: sent as it is
      }
      reply.header('content-type', OTLP_PROTOBUF);
      return encodeOtlpStatus(grpcCodeOf(reply.statusCode), message);
    });

    const ingest: Record<
      OtlpSignal,
      (body: Buffer, encoding: OtlpEncoding, ingestCtx: IngestContext) => Promise<OtlpOutcome>
    > = {
      traces: (body, encoding, ingestCtx) =>
        ingestOtlpTraces(
          ctx.pipeline,
          ctx.store.appendSpans ? (spans) => ctx.store.appendSpans!(spans) : undefined,
          body,
          encoding,
          ingestCtx,
        ),
      logs: (body, encoding, ingestCtx) => ingestOtlpLogs(ctx.pipeline, body, encoding, ingestCtx),
      metrics: (body, encoding, ingestCtx) => ingestOtlpMetrics(ctx.pipeline, body, encoding, ingestCtx),
    };

    for (const signal of ['traces', 'logs', 'metrics'] as const) {
      app.post(`/v1/${signal}`, { config: { role: 'ingest', ingestBody: true } }, async (request, reply) => {
        // Checked before the body is read: a wrong content type costs nothing.
        const encoding = otlpEncoding(request.headers['content-type']);
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const outcome = await ctx.pipeline.admitted(raw.length, async (admission) => {
          const body = await decodeBody(raw, request.headers['content-encoding'], ctx.config.server.maxBodyBytes);
          admission.resize(Math.max(raw.length, body.length));
          return ingest[signal](body, encoding, { tenant: request.principal.tenant, receivedAtMs: Date.now() });
        });
        const answer = encodeOtlpResponse(signal, outcome, encoding);
        return reply.code(200).header('content-type', answer.contentType).send(answer.body);
      });
    }
  };
}
