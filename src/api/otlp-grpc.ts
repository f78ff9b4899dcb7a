/**
 * OTLP/gRPC on a second port (default 4317, `otlp.grpc.*`), for the gRPC
 * exporters of the OpenTelemetry SDKs and a Collector's default `otlp`
 * exporter: the `Export` methods of
 * `opentelemetry.proto.collector.{trace,logs,metrics}.v1.{Trace,Logs,Metrics}Service`.
 *
 * A thin transport over the OTLP/HTTP receivers: the method paths come from
 * the service definitions in `proto/`, the request bytes are handed as they
 * arrive (grpc-js has already undone gzip) to the same decoding, validation,
 * redaction and back-pressure as `POST /v1/*` (src/ingest/otlp-*.ts), and
 * the answer is the same Export*ServiceResponse, with `partial_success` when
 * some items were refused. Messages are decoded by protobufjs in
 * decodeOtlpRequest, not by grpc-js, so that a message that is not the
 * request answers INVALID_ARGUMENT naming the problem.
 *
 * The key is the `authorization: Bearer <key>` metadata (what
 * OTEL_EXPORTER_OTLP_HEADERS sends over gRPC), also `x-api-key`; it decides
 * the tenant. Status codes per the OTLP specification: UNAUTHENTICATED (no
 * or unknown key), PERMISSION_DENIED (a key without the ingest role),
 * INVALID_ARGUMENT (bad data), RESOURCE_EXHAUSTED (a message larger than
 * `server.maxBodyBytes`, not retried), UNAVAILABLE (back-pressure or the
 * tenant's ingest rate limit, shared with HTTP: the exporter retries, after
 * the delay of the RetryInfo in `grpc-status-details-bin` if it reads
 * it, as the Collector does), INTERNAL (a fault of ours, logged).
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import protobuf from 'protobufjs';
import { AppError } from '../errors.ts';
import { encodeOtlpResponse, otlpGrpcMethod, type OtlpOutcome, type OtlpSignal } from '../ingest/otlp-common.ts';
import { ingestOtlpLogs } from '../ingest/otlp-logs.ts';
import { ingestOtlpMetrics } from '../ingest/otlp-metrics.ts';
import { ingestOtlpTraces } from '../ingest/otlp-traces.ts';
import { redactMessage } from '../privacy/log-redaction.ts';
import { roleAllows, type Principal } from './auth.ts';
import type { IngestRateLimit } from './limits.ts';
import type { AppContext } from './server.ts';

export interface OtlpGrpcServer {
  /** Binds `host:port` (0 = a free port) and starts serving; resolves the port bound. */
  listen(host: string, port: number): Promise<number>;
  /** The port bound, once listening. */
  readonly port: number | undefined;
  /** Stops taking calls; calls under way finish (at most `graceMs`, then they are cancelled). */
  close(graceMs?: number): Promise<void>;
}

/** Who a call's metadata names; undefined = no or unknown key. */
export type GrpcAuthenticate = (key: string | undefined) => Promise<Principal | undefined> | Principal | undefined;

/** The key of a call: `authorization: Bearer <key>` (case-insensitive scheme), else `x-api-key`. */
export function keyFromMetadata(metadata: grpc.Metadata): string | undefined {
  const header = metadata.get('authorization')[0];
  if (typeof header === 'string') {
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    if (scheme === 'bearer') return header.slice(space + 1).trim();
  }
  const apiKey = metadata.get('x-api-key')[0];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

/** A gRPC error status with a message that holds no card number or secret. */
function status(code: grpc.status, message: string): Partial<grpc.StatusObject> {
  return { code, details: redactMessage(message) };
}

/**
 * google.rpc.Status with a google.rpc.RetryInfo detail (field numbers as in
 * google/rpc/status.proto, error_details.proto, protobuf/any.proto and
 * duration.proto): the `grpc-status-details-bin` trailer that tells an
 * exporter (the Collector's among them) how long to wait before it retries.
 */
const richStatus = (() => {
  const root = new protobuf.Root();
  root
    .define('google.protobuf')
    .add(
      new protobuf.Type('Any')
        .add(new protobuf.Field('type_url', 1, 'string'))
        .add(new protobuf.Field('value', 2, 'bytes')),
    )
    .add(
      new protobuf.Type('Duration')
        .add(new protobuf.Field('seconds', 1, 'int64'))
        .add(new protobuf.Field('nanos', 2, 'int32')),
    );
  root
    .define('google.rpc')
    .add(
      new protobuf.Type('Status')
        .add(new protobuf.Field('code', 1, 'int32'))
        .add(new protobuf.Field('message', 2, 'string'))
        .add(new protobuf.Field('details', 3, 'google.protobuf.Any', 'repeated')),
    )
    .add(new protobuf.Type('RetryInfo').add(new protobuf.Field('retry_delay', 1, 'google.protobuf.Duration')));
  root.resolveAll();
  return { status: root.lookupType('google.rpc.Status'), retryInfo: root.lookupType('google.rpc.RetryInfo') };
})();

/** A retryable status (UNAVAILABLE) carrying RetryInfo with `retryAfterSeconds`. */
function retryStatus(message: string, retryAfterSeconds: number): Partial<grpc.StatusObject> {
  const details = redactMessage(message);
  const retry = richStatus.retryInfo.encode({ retry_delay: { seconds: retryAfterSeconds, nanos: 0 } }).finish();
  const body = richStatus.status
    .encode({
      code: grpc.status.UNAVAILABLE,
      message: details,
      details: [{ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: retry }],
    })
    .finish();
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(body));
  return { code: grpc.status.UNAVAILABLE, details, metadata };
}

/** The gRPC status of an ingest error (AppError statuses as on OTLP/HTTP). */
function statusOf(err: AppError): grpc.status {
  switch (err.status) {
    case 400:
    case 415:
    case 422:
      return grpc.status.INVALID_ARGUMENT;
    case 413:
      return grpc.status.RESOURCE_EXHAUSTED;
    case 401:
      return grpc.status.UNAUTHENTICATED;
    case 403:
      return grpc.status.PERMISSION_DENIED;
    case 429:
    case 503:
      // Retryable per the OTLP spec (RESOURCE_EXHAUSTED is retried only with RetryInfo).
      return grpc.status.UNAVAILABLE;
    default:
      return err.status < 500 ? grpc.status.FAILED_PRECONDITION : grpc.status.INTERNAL;
  }
}

/** Request and response bytes pass through grpc-js untouched: protobufjs decodes them in the receivers. */
const bytes = (b: Buffer): Buffer => b;

export function createOtlpGrpcServer(
  ctx: AppContext,
  authenticate: GrpcAuthenticate,
  ingestLimit: IngestRateLimit,
  logger: Logger,
): OtlpGrpcServer {
  const ingest: Record<OtlpSignal, (body: Buffer, principal: Principal) => Promise<OtlpOutcome>> = {
    traces: (body, principal) =>
      ingestOtlpTraces(
        ctx.pipeline,
        ctx.store.appendSpans ? (spans) => ctx.store.appendSpans!(spans) : undefined,
        body,
        'protobuf',
        { tenant: principal.tenant, receivedAtMs: Date.now() },
      ),
    logs: (body, principal) =>
      ingestOtlpLogs(ctx.pipeline, body, 'protobuf', { tenant: principal.tenant, receivedAtMs: Date.now() }),
    metrics: (body, principal) =>
      ingestOtlpMetrics(ctx.pipeline, body, 'protobuf', { tenant: principal.tenant, receivedAtMs: Date.now() }),
  };

  const server = new grpc.Server({
    // Larger messages (after decompression) are refused by grpc-js with RESOURCE_EXHAUSTED, as 413 on HTTP.
    'grpc.max_receive_message_length': ctx.config.server.maxBodyBytes,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
  });

  for (const signal of ['traces', 'logs', 'metrics'] as const) {
    const method = otlpGrpcMethod(signal);
    const definition: grpc.ServiceDefinition = {
      Export: {
        path: method.path,
        requestStream: false,
        responseStream: false,
        requestSerialize: bytes,
        requestDeserialize: bytes,
        responseSerialize: bytes,
        responseDeserialize: bytes,
      },
    };
    const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, answer) => {
      // Counted beside the HTTP requests, the status being the gRPC code's name.
      const callback: grpc.sendUnaryData<Buffer> = (err, value) => {
        const code = err ? (err.code ?? grpc.status.UNKNOWN) : grpc.status.OK;
        ctx.metrics.httpRequests.inc({ route: method.path, method: 'gRPC', status: grpc.status[code] ?? String(code) });
        answer(err, value);
      };
      void (async () => {
        const principal = await authenticate(keyFromMetadata(call.metadata));
        if (!principal) {
          ctx.metrics.authFailures.inc({ reason: keyFromMetadata(call.metadata) ? 'unknown' : 'missing' });
          return callback(
            status(
              grpc.status.UNAUTHENTICATED,
              'This service needs a valid ingest API key (it is missing, unknown or revoked): send "authorization: Bearer <key>" metadata (OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20<key>")',
            ),
          );
        }
        if (!roleAllows(principal.role, 'ingest')) {
          ctx.metrics.authFailures.inc({ reason: 'role' });
          return callback(
            status(
              grpc.status.PERMISSION_DENIED,
              `This API key has the role "${principal.role}"; OTLP export needs "ingest"`,
            ),
          );
        }
        const body = call.request;
        // The tenant's ingest limit, one bucket with the HTTP ingest routes.
        ingestLimit.take(principal.tenant, body.length);
        const outcome = await ctx.pipeline.admitted(body.length, () => ingest[signal](body, principal));
        const answer = encodeOtlpResponse(signal, outcome, 'protobuf');
        callback(null, Buffer.isBuffer(answer.body) ? answer.body : Buffer.from(answer.body));
      })().catch((err: unknown) => {
        const retryAfter = err instanceof AppError ? Number(err.headers['Retry-After']) : NaN;
        if (err instanceof AppError && (err.status === 429 || err.status === 503) && retryAfter > 0) {
          callback(retryStatus(err.message, retryAfter));
        } else if (err instanceof AppError && err.expose !== false && err.status < 500) {
          callback(status(statusOf(err), err.message));
        } else if (err instanceof AppError && err.status === 503) {
          callback(status(grpc.status.UNAVAILABLE, err.message));
        } else {
          logger.error({ err, method: method.path }, 'OTLP/gRPC export failed');
          callback(status(grpc.status.INTERNAL, 'Shoplens could not store this export; it was logged'));
        }
      });
    };
    server.addService(definition, { Export: handler });
  }

  let boundPort: number | undefined;
  return {
    get port() {
      return boundPort;
    },
    listen(host: string, port: number): Promise<number> {
      // An IPv6 literal needs brackets in the address.
      const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      return new Promise((resolve, reject) => {
        server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => {
          if (err) return reject(err);
          boundPort = bound;
          resolve(bound);
        });
      });
    },
    close(graceMs = 5_000): Promise<void> {
      return new Promise((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
