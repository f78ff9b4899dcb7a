/**
 * OTLP/HTTP, the parts every signal shares (OTLP specification 1.x,
 * https://opentelemetry.io/docs/specs/otlp/#otlphttp): decoding a request
 * body, `application/x-protobuf` or `application/json`, into plain objects,
 * and encoding the answer in the request's own content type.
 *
 * Protobuf is decoded by protobufjs with the official message definitions
 * of opentelemetry-proto v1.9.0, kept as they are in `proto/` at the root
 * of the repository. JSON bodies follow the OTLP JSON mapping (lowerCamelCase
 * field names, trace and span ids as hex, enums as integers, 64-bit integers
 * as strings or numbers) and go through the same message definitions
 * (`fromObject`), so that both encodings reach the signal mappers in the
 * same shape.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { AppError } from '../errors.ts';

export type OtlpSignal = 'traces' | 'logs' | 'metrics';

/** The two encodings of OTLP/HTTP. */
export type OtlpEncoding = 'protobuf' | 'json';

export const OTLP_PROTOBUF = 'application/x-protobuf';
export const OTLP_JSON = 'application/json';

const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

interface SignalProto {
  readonly file: string;
  readonly request: string;
  readonly response: string;
  /** The OTLP/gRPC service whose `Export` method takes the request. */
  readonly service: string;
  /** The partial_success counter of the response (`rejectedSpans`, ...). */
  readonly rejectedField: string;
  /** What an item is called in messages. */
  readonly item: string;
}

const SIGNALS: Record<OtlpSignal, SignalProto> = {
  traces: {
    file: 'opentelemetry/proto/collector/trace/v1/trace_service.proto',
    request: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
    response: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
    service: 'opentelemetry.proto.collector.trace.v1.TraceService',
    rejectedField: 'rejectedSpans',
    item: 'span',
  },
  logs: {
    file: 'opentelemetry/proto/collector/logs/v1/logs_service.proto',
    request: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
    response: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse',
    service: 'opentelemetry.proto.collector.logs.v1.LogsService',
    rejectedField: 'rejectedLogRecords',
    item: 'log record',
  },
  metrics: {
    file: 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
    request: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
    response: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
    service: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
    rejectedField: 'rejectedDataPoints',
    item: 'data point',
  },
};

let root: protobuf.Root | undefined;

/** The opentelemetry-proto definitions, loaded on the first OTLP request. */
function protoRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  // Imports name paths relative to the proto directory ("opentelemetry/proto/common/v1/common.proto").
  r.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  r.loadSync(
    Object.values(SIGNALS).map((s) => s.file),
    { keepCase: false },
  );
  r.resolveAll();
  root = r;
  return r;
}

/**
 * The HTTP/2 path of a signal's OTLP/gRPC `Export` method
 * (`/opentelemetry.proto.collector.trace.v1.TraceService/Export`), read from
 * the service definition in the proto files, with the request and response
 * message names it declares.
 */
export function otlpGrpcMethod(signal: OtlpSignal): { path: string; request: string; response: string } {
  const spec = SIGNALS[signal];
  const service = protoRoot().lookupService(spec.service);
  const method = service.methods['Export'];
  if (!method) throw new Error(`${spec.service} has no Export method in the proto files`);
  method.resolve();
  return {
    path: `/${spec.service}/${method.name}`,
    request: method.resolvedRequestType?.fullName.slice(1) ?? method.requestType,
    response: method.resolvedResponseType?.fullName.slice(1) ?? method.responseType,
  };
}

/** google.rpc.Status, the body of an OTLP error answer (fields as in google/rpc/status.proto). */
let statusType: protobuf.Type | undefined;
function rpcStatus(): protobuf.Type {
  if (statusType) return statusType;
  const t = new protobuf.Type('Status')
    .add(new protobuf.Field('code', 1, 'int32'))
    .add(new protobuf.Field('message', 2, 'string'));
  new protobuf.Root().define('google.rpc').add(t);
  statusType = t;
  return t;
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The encoding a Content-Type names, or 415. */
export function otlpEncoding(contentType: string | undefined): OtlpEncoding {
  const type = mediaType(contentType);
  if (type === OTLP_PROTOBUF) return 'protobuf';
  if (type === OTLP_JSON) return 'json';
  throw new AppError(
    415,
    'otlp.unsupported_media_type',
    `Content-Type "${type}" is not OTLP/HTTP: send ${OTLP_PROTOBUF} (protobuf) or ${OTLP_JSON} (the OTLP JSON encoding)`,
  );
}

const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);
const HEX = /^(?:[0-9a-fA-F]{2})*$/;
/** An id that is not hex: kept as one byte, so that the item is refused for its length and named. */
const BAD_ID = Buffer.from([0]);

/**
 * OTLP JSON ids are hex (not base64 as in protobuf's JSON mapping): turned
 * into bytes before fromObject, which would read them as base64.
 */
function hexIds(value: unknown, depth: number): unknown {
  if (depth > 64 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = hexIds(value[i], depth + 1);
    return value;
  }
  const obj = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (ID_KEYS.has(k) && typeof v === 'string') obj[k] = HEX.test(v) ? Buffer.from(v, 'hex') : BAD_ID;
    else if (typeof v === 'object') obj[k] = hexIds(v, depth + 1);
  }
  return obj;
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number, arrays: true, defaults: false };

/**
 * Decodes an export request body (already decompressed) into a plain
 * object: field names in lowerCamelCase, 64-bit integers as decimal strings,
 * enums as numbers, bytes as Uint8Array. Throws 400 for a body that is not
 * such a message, 415 for another content type.
 */
export function decodeOtlpRequest(signal: OtlpSignal, body: Buffer, encoding: OtlpEncoding): Record<string, unknown> {
  const spec = SIGNALS[signal];
  const type = protoRoot().lookupType(spec.request);
  const name = spec.request.split('.').pop() ?? spec.request;
  if (encoding === 'protobuf') {
    let message: protobuf.Message;
    try {
      message = type.decode(body);
    } catch (err) {
      throw new AppError(
        400,
        'otlp.invalid_protobuf',
        `The body is not a valid OTLP ${name} protobuf message: ${(err as Error).message}`,
      );
    }
    return type.toObject(message, TO_OBJECT);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    throw new AppError(
      400,
      'otlp.invalid_json',
      `The body is not valid JSON${m ? ` (at character ${Number(m[1]) + 1})` : ''}; send an OTLP ${name} in the OTLP JSON encoding`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AppError(400, 'otlp.invalid_json', `The body must be a JSON object: an OTLP ${name}`);
  }
  let message: protobuf.Message;
  try {
    message = type.fromObject(hexIds(parsed, 0) as Record<string, unknown>);
  } catch (err) {
    // protobufjs names the field: "ExportTraceServiceRequest.resourceSpans: array expected".
    throw new AppError(400, 'otlp.invalid_json', `The body is not an OTLP ${name}: ${(err as Error).message}`);
  }
  return type.toObject(message, TO_OBJECT);
}

/**
 * Encodes an export request given as a plain object in the shape
 * `decodeOtlpRequest` answers (lowerCamelCase fields, ids as bytes, 64-bit
 * integers as decimal strings) as binary protobuf, with the same message
 * definitions: what an OTLP/HTTP exporter sends with `application/x-protobuf`.
 */
export function encodeOtlpRequest(signal: OtlpSignal, request: Record<string, unknown>): Uint8Array {
  const type = protoRoot().lookupType(SIGNALS[signal].request);
  // The generated encoder takes a plain object of the right types as it is (fromObject would copy it
  // field by field first, several times slower): bytes as Uint8Array, enums as numbers, 64-bit
  // integers as decimal strings (read by the `long` package) or numbers.
  return type.encode(request).finish();
}

/** What an export answer says: how many items were refused and why. */
export interface OtlpOutcome {
  readonly accepted: number;
  readonly rejected: number;
  /** The first few problems, each naming the item and the field. */
  readonly errors: readonly string[];
}

/** Most problems quoted in one partial_success error_message. */
const MAX_QUOTED = 5;

/** The export response (with partial_success when something was refused), in the request's encoding. */
export function encodeOtlpResponse(
  signal: OtlpSignal,
  outcome: OtlpOutcome,
  encoding: OtlpEncoding,
): { contentType: string; body: Buffer | string } {
  const spec = SIGNALS[signal];
  const partial =
    outcome.rejected > 0
      ? {
          [spec.rejectedField]: String(outcome.rejected),
          errorMessage: errorMessage(spec.item, outcome),
        }
      : undefined;
  if (encoding === 'json') {
    return { contentType: OTLP_JSON, body: JSON.stringify(partial ? { partialSuccess: partial } : {}) };
  }
  const type = protoRoot().lookupType(spec.response);
  const message = type.fromObject(partial ? { partialSuccess: partial } : {});
  return { contentType: OTLP_PROTOBUF, body: Buffer.from(type.encode(message).finish()) };
}

function errorMessage(item: string, outcome: OtlpOutcome): string {
  const quoted = outcome.errors.slice(0, MAX_QUOTED).join('; ');
  const more = outcome.errors.length > MAX_QUOTED ? `; and ${outcome.errors.length - MAX_QUOTED} more` : '';
  return `${outcome.rejected} ${item}${outcome.rejected === 1 ? ' was' : 's were'} rejected: ${quoted}${more}`;
}

/** An error answer as google.rpc.Status protobuf (OTLP/HTTP's error body for protobuf clients). */
export function encodeOtlpStatus(code: number, message: string): Buffer {
  const type = rpcStatus();
  return Buffer.from(type.encode(type.fromObject({ code, message })).finish());
}

/** The gRPC status code the spec pairs with an HTTP status, for the Status body. */
export function grpcCodeOf(httpStatus: number): number {
  if (httpStatus === 400 || httpStatus === 413 || httpStatus === 415) return 3; // INVALID_ARGUMENT
  if (httpStatus === 401) return 16; // UNAUTHENTICATED
  if (httpStatus === 403) return 7; // PERMISSION_DENIED
  if (httpStatus === 429) return 8; // RESOURCE_EXHAUSTED
  if (httpStatus === 503) return 14; // UNAVAILABLE
  return 2; // UNKNOWN
}

// --- Values -------------------------------------------------------------

/** A decoded AnyValue as JSON: strings, numbers, booleans, arrays, objects; bytes as base64. */
export function anyValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return undefined;
  const a = v as Record<string, unknown>;
  if (a['stringValue'] !== undefined) return a['stringValue'];
  if (a['boolValue'] !== undefined) return a['boolValue'];
  if (a['intValue'] !== undefined) return int64(a['intValue']);
  if (a['doubleValue'] !== undefined) return a['doubleValue'];
  if (a['arrayValue'] !== undefined) {
    const values = (a['arrayValue'] as { values?: unknown[] }).values ?? [];
    return values.map(anyValue);
  }
  if (a['kvlistValue'] !== undefined) return attributes((a['kvlistValue'] as { values?: unknown[] }).values);
  if (a['bytesValue'] !== undefined) return Buffer.from(a['bytesValue'] as Uint8Array).toString('base64');
  return undefined;
}

/** A KeyValue list as an object of dotted names (as sent) to values; empty keys and empty values dropped. */
export function attributes(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list as { key?: string; value?: unknown }[]) {
    if (!kv || typeof kv.key !== 'string' || kv.key === '') continue;
    const value = anyValue(kv.value);
    if (value !== undefined) out[kv.key] = value;
  }
  return out;
}

/** A 64-bit integer (decimal string from toObject): a number when it is exact, else the string. */
export function int64(v: unknown): number | string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) return undefined;
  return Number.isSafeInteger(n) ? n : String(v);
}

/** Nanoseconds since the epoch (a decimal string) → epoch ms with a fraction; undefined for 0/absent. */
export function nanosToMs(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  let nanos: bigint;
  try {
    nanos = BigInt(String(v));
  } catch {
    return undefined;
  }
  if (nanos <= 0n) return undefined;
  return Number(nanos / 1000n) / 1000;
}

/** Nanoseconds → ISO-8601 with microseconds (the store's precision). */
export function nanosToIso(v: unknown): string | undefined {
  const ms = nanosToMs(v);
  if (ms === undefined) return undefined;
  const whole = Math.floor(ms);
  const date = new Date(whole);
  if (Number.isNaN(date.getTime())) return undefined;
  const micros = Math.round((ms - whole) * 1000);
  return `${date.toISOString().slice(0, 19)}.${String(date.getUTCMilliseconds()).padStart(3, '0')}${String(micros).padStart(3, '0')}Z`;
}

/** Bytes as lowercase hex; '' for absent or all-zero ids (the spec's "invalid"). */
export function hexId(v: unknown): string {
  if (!(v instanceof Uint8Array) || v.length === 0) return '';
  if (v.every((b) => b === 0)) return '';
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
}

/** Checks an id's byte length; answers a problem text or undefined. */
export function idProblem(v: unknown, field: string, bytes: number, required: boolean): string | undefined {
  const len = v instanceof Uint8Array ? v.length : 0;
  if (len === 0) return required ? `${field} is missing` : undefined;
  if (len !== bytes) return `${field} must be ${bytes} bytes (${bytes * 2} hex characters), got ${len}`;
  if (required && hexId(v) === '') return `${field} is all zeroes (invalid)`;
  return undefined;
}

/** The resource's attributes and its `service.name`. */
export function resourceOf(resource: unknown): { attrs: Record<string, unknown>; service: string | undefined } {
  const attrs = attributes((resource as { attributes?: unknown } | undefined)?.attributes);
  const service = typeof attrs['service.name'] === 'string' ? attrs['service.name'] : undefined;
  return { attrs, service };
}

/** Scope name and version as attributes (`otel.scope.name`, `otel.scope.version`). */
export function scopeAttrs(scope: unknown): Record<string, unknown> {
  const s = (scope ?? {}) as { name?: string; version?: string };
  const out: Record<string, unknown> = {};
  if (s.name) out['otel.scope.name'] = s.name;
  if (s.version) out['otel.scope.version'] = s.version;
  return out;
}
