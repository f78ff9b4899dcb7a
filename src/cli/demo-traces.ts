/**
 * The demo shop's traces as OTLP: one ExportTraceServiceRequest, binary
 * protobuf (the official opentelemetry-proto definitions the receiver
 * decodes with), as the services' OpenTelemetry SDKs would send it to
 * `POST /v1/traces`. One resource per pod (service.name, service.version,
 * k8s.pod.name, ...), one scope per resource.
 */
import type { DemoTrace } from '../demo/traces.ts';
import { K8S_CLUSTER, K8S_NAMESPACE } from '../demo/shop-model.ts';
import { encodeOtlpRequest } from '../ingest/otlp-common.ts';

type KeyValue = { key: string; value: Record<string, unknown> };

function keyValues(attributes: Readonly<Record<string, string | number | boolean>>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [key, v] of Object.entries(attributes)) {
    out.push({
      key,
      value:
        typeof v === 'string'
          ? { stringValue: v }
          : typeof v === 'boolean'
            ? { boolValue: v }
            : Number.isInteger(v)
              ? { intValue: String(v) }
              : { doubleValue: v },
    });
  }
  return out;
}

/** Epoch microseconds (+ a shift in ms) as decimal nanoseconds. */
function nanos(us: number, shiftMs: number): string {
  return `${Math.round(us + shiftMs * 1000)}000`;
}

/**
 * The traces as one OTLP/HTTP protobuf body. `shiftMsOf` moves each trace
 * (a time-lapse places it on the wall clock), its spans keep their durations.
 */
export function otlpTracesBody(
  traces: readonly DemoTrace[],
  shiftMsOf: (trace: DemoTrace) => number = () => 0,
): { body: Uint8Array; spans: number } {
  const resources = new Map<string, { resource: Record<string, unknown>; spans: Record<string, unknown>[] }>();
  let count = 0;
  for (const trace of traces) {
    const shift = shiftMsOf(trace);
    for (const s of trace.spans) {
      const key = `${s.service}\u0000${s.pod}`;
      let group = resources.get(key);
      if (!group) {
        const attrs: Record<string, string> = {
          'service.name': s.service,
          'service.version': s.serviceVersion,
          'deployment.environment.name': 'production',
          'telemetry.sdk.language': s.pod === '' ? 'webjs' : 'nodejs',
          'telemetry.sdk.name': 'opentelemetry',
        };
        if (s.pod !== '') {
          attrs['k8s.pod.name'] = s.pod;
          attrs['k8s.namespace.name'] = K8S_NAMESPACE;
          attrs['k8s.cluster.name'] = K8S_CLUSTER;
        }
        group = { resource: { attributes: keyValues(attrs) }, spans: [] };
        resources.set(key, group);
      }
      count++;
      group.spans.push({
        traceId: Buffer.from(s.traceId, 'hex'),
        spanId: Buffer.from(s.spanId, 'hex'),
        ...(s.parentSpanId === '' ? {} : { parentSpanId: Buffer.from(s.parentSpanId, 'hex') }),
        name: s.name,
        kind: s.kind,
        startTimeUnixNano: nanos(s.startUs, shift),
        endTimeUnixNano: nanos(s.endUs, shift),
        attributes: keyValues(s.attributes),
        ...(s.events.length > 0
          ? {
              events: s.events.map((e) => ({
                name: e.name,
                timeUnixNano: nanos(e.timeUs, shift),
                attributes: keyValues(e.attributes),
              })),
            }
          : {}),
        ...(s.statusCode === 0 ? {} : { status: { code: s.statusCode, message: s.statusMessage } }),
      });
    }
  }
  const request = {
    resourceSpans: [...resources.values()].map((g) => ({
      resource: g.resource,
      scopeSpans: [{ scope: { name: 'shoplens-demo-shop', version: '1.0.0' }, spans: g.spans }],
    })),
  };
  return { body: encodeOtlpRequest('traces', request), spans: count };
}
