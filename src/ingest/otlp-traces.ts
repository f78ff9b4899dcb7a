/**
 * OTLP traces → spans. Each span is checked (ids of the right length, an end
 * not before its start), redacted as events are (its name, status message,
 * attributes, events and links: a card number in a span attribute never
 * reaches disk), and stored in the spans table (Store.appendSpans), which
 * commits before the answer.
 */
import { AppError } from '../errors.ts';
import type { SpanEventRecord, SpanLinkRecord, SpanRecord } from '../store/spans.ts';
import {
  attributes,
  decodeOtlpRequest,
  hexId,
  idProblem,
  nanosToIso,
  resourceOf,
  type OtlpEncoding,
  type OtlpOutcome,
} from './otlp-common.ts';
import type { IngestContext, IngestPipeline } from './pipeline.ts';

const ENDPOINT = 'otlp_traces';
/** Longest span name kept, characters. */
const MAX_NAME = 1024;

interface OtlpSpan {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  parentSpanId?: Uint8Array;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: unknown;
  events?: { timeUnixNano?: string; name?: string; attributes?: unknown }[];
  links?: { traceId?: Uint8Array; spanId?: Uint8Array; attributes?: unknown }[];
  status?: { code?: number; message?: string };
}

function nanos(v: string | undefined): bigint {
  try {
    return v === undefined ? 0n : BigInt(v);
  } catch {
    return 0n;
  }
}

/** One OTLP span as a record (not yet redacted), or what is wrong with it. */
export function spanToRecord(
  span: OtlpSpan,
  tenant: string,
  resource: Record<string, unknown>,
  service: string | undefined,
  scopeName: string | undefined,
): { ok: true; span: SpanRecord } | { ok: false; message: string } {
  const problem =
    idProblem(span.traceId, 'traceId', 16, true) ??
    idProblem(span.spanId, 'spanId', 8, true) ??
    idProblem(span.parentSpanId, 'parentSpanId', 8, false);
  if (problem) return { ok: false, message: problem };
  const start = nanos(span.startTimeUnixNano);
  const end = nanos(span.endTimeUnixNano);
  if (start <= 0n) return { ok: false, message: 'startTimeUnixNano is missing' };
  if (end < start) return { ok: false, message: 'endTimeUnixNano is before startTimeUnixNano' };
  const kind = span.kind ?? 0;
  const statusCode = span.status?.code ?? 0;
  const events: SpanEventRecord[] = (span.events ?? []).map((e) => ({
    name: e.name ?? '',
    timestamp: nanosToIso(e.timeUnixNano) ?? null,
    attributes: attributes(e.attributes),
  }));
  const links: SpanLinkRecord[] = (span.links ?? []).map((l) => ({
    traceId: hexId(l.traceId),
    spanId: hexId(l.spanId),
    attributes: attributes(l.attributes),
  }));
  return {
    ok: true,
    span: {
      tenant,
      traceId: hexId(span.traceId),
      spanId: hexId(span.spanId),
      parentSpanId: hexId(span.parentSpanId),
      name: (span.name ?? '').slice(0, MAX_NAME),
      kind: kind >= 0 && kind <= 5 ? kind : 0,
      startUs: start / 1000n,
      endUs: end / 1000n,
      durationMs: Number(end - start) / 1e6,
      statusCode: statusCode >= 0 && statusCode <= 2 ? statusCode : 0,
      statusMessage: span.status?.message ?? '',
      service: service ?? null,
      scopeName: scopeName ?? null,
      resource,
      attributes: attributes(span.attributes),
      events,
      links,
    },
  };
}

/**
 * The parts of a span that hold client text, redacted together (as one event would be). The
 * resource is redacted once for all the spans that share it (`resource`, with its `marker`).
 */
function redactSpan(
  pipeline: IngestPipeline,
  span: SpanRecord,
  resource: RedactedResource,
): SpanRecord | { code: string; message: string } {
  const parts = {
    name: span.name,
    status: { message: span.statusMessage },
    attributes: { ...span.attributes },
    events: span.events.map((e) => ({ ...e, attributes: { ...e.attributes } })),
    links: span.links.map((l) => ({ ...l, attributes: { ...l.attributes } })),
  };
  const result = pipeline.redactValue(parts);
  if (!result.ok) return { code: result.code, message: result.message };
  const v = result.value;
  const attrs: Record<string, unknown> = { ...v.attributes };
  const marker = mergeMarkers(resource.marker, result.marker);
  if (marker) attrs['privacy.redacted'] = marker;
  return {
    ...span,
    name: v.name,
    statusMessage: v.status.message,
    resource: resource.attrs,
    attributes: attrs,
    events: v.events,
    links: v.links,
    service: resource.service ?? span.service,
  };
}

interface RedactedResource {
  readonly attrs: Record<string, unknown>;
  readonly service: string | undefined;
  readonly marker: string[] | undefined;
}

/** A resource's attributes redacted, once for all its spans; or why its spans are refused. */
function redactResource(
  pipeline: IngestPipeline,
  attrs: Record<string, unknown>,
  service: string | undefined,
): RedactedResource | { code: string; message: string } {
  const result = pipeline.redactValue({ resource: { ...attrs } });
  if (!result.ok) return { code: result.code, message: result.message };
  const redacted = result.value.resource;
  const name = redacted['service.name'];
  return { attrs: redacted, service: typeof name === 'string' ? name : service, marker: result.marker };
}

function mergeMarkers(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  if (!a || a.length === 0) return b;
  if (!b || b.length === 0) return a;
  return [...new Set([...a, ...b])];
}

/** Ingests one ExportTraceServiceRequest body (already decompressed). */
export async function ingestOtlpTraces(
  pipeline: IngestPipeline,
  appendSpans: ((spans: readonly SpanRecord[]) => Promise<void>) | undefined,
  body: Buffer,
  encoding: OtlpEncoding,
  ctx: IngestContext,
): Promise<OtlpOutcome> {
  if (!appendSpans) throw new AppError(501, 'store.no_spans', 'This store does not keep spans (traces)');
  pipeline.countBytes(ENDPOINT, body.length);
  const request = decodeOtlpRequest('traces', body, encoding);
  const spans: SpanRecord[] = [];
  const codes: string[] = [];
  const errors: string[] = [];
  const resourceSpans = (request['resourceSpans'] as Record<string, unknown>[] | undefined) ?? [];
  resourceSpans.forEach((rs, ri) => {
    const { attrs, service } = resourceOf(rs['resource']);
    const scopeSpans = (rs['scopeSpans'] as Record<string, unknown>[] | undefined) ?? [];
    const resource = redactResource(pipeline, attrs, service);
    scopeSpans.forEach((ss, si) => {
      const scopeName = (ss['scope'] as { name?: string } | undefined)?.name;
      const list = (ss['spans'] as OtlpSpan[] | undefined) ?? [];
      list.forEach((s, i) => {
        const where = `resourceSpans[${ri}].scopeSpans[${si}].spans[${i}]`;
        const mapped = spanToRecord(s, ctx.tenant, attrs, service, scopeName);
        if (!mapped.ok) {
          codes.push('otlp.invalid_span');
          errors.push(`${where}: ${mapped.message}`);
          return;
        }
        const redacted = 'code' in resource ? resource : redactSpan(pipeline, mapped.span, resource);
        if ('code' in redacted) {
          codes.push(redacted.code);
          errors.push(`${where}: ${redacted.message}`);
          return;
        }
        spans.push(redacted);
      });
    });
  });
  if (spans.length === 0 && errors.length > 0) {
    pipeline.countRejected(ENDPOINT, codes);
    throw new AppError(400, 'otlp.no_valid_spans', `No valid span in the request; first problem: ${errors[0]}`);
  }
  await appendSpans(spans);
  pipeline.countAccepted(ENDPOINT, spans.length);
  pipeline.countRejected(ENDPOINT, codes);
  return { accepted: spans.length, rejected: errors.length, errors };
}
