/**
 * OTLP span ingest and trace lookup (issue 14's benchmark): `shoplens serve`
 * takes OTLP/HTTP protobuf export requests of 512 spans each (what the SDK's
 * batch span processor sends), several in flight, answered only once durable;
 * then it is topped up to `--spans-total` spans and traces are read back by
 * id. Also runnable alone:
 *
 *     node --import tsx bench/spans.ts [--seconds 20] [--spans-total 10m] [--connections 8]
 *
 * The requests are encoded once, with protobufjs and the official
 * opentelemetry-proto definitions in proto/, from traces of 8 spans across
 * the shop's services (gateway → auth → catalog → cart → order → payment →
 * the external gateway API, and a database call); each send writes a fresh
 * request number into every trace id of a copy of its template, so no two
 * traces share an id and the client stays cheap.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import protobuf from 'protobufjs';
import { fmt, percentile, progress, rng } from './stats.ts';
import { ensureBuild, startServerProcess, type ServerProcess } from './server-process.ts';

export const SPANS_PER_REQUEST = 512;
const SPANS_PER_TRACE = 8;
const TRACES_PER_REQUEST = SPANS_PER_REQUEST / SPANS_PER_TRACE;
/** The first 4 bytes of every template trace id; bytes 4..7 number the trace within its request, 8..15 the request. */
const MAGIC = Buffer.from([0x5e, 0x1e, 0x25, 0xb7]);
export const TRACE_LOOKUP_TARGET_MS = 50;

export interface SpanIngestResult {
  readonly spansPerSecond: number;
  readonly cpuMicrosPerSpan: number;
  readonly requests: number;
  readonly rejected: number;
  readonly totalSpans: number;
  readonly fillSeconds: number;
  readonly lookupP50Ms: number;
  readonly lookupP99Ms: number;
  readonly lookups: number;
  readonly rssMiB: number;
}

function requestType(): protobuf.Type {
  const dir = fileURLToPath(new URL('../proto/', import.meta.url));
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(dir, target);
  root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', { keepCase: false });
  return root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
}

const HOPS = [
  { service: 'api-gateway', name: 'POST /api/checkout', kind: 2 },
  { service: 'auth-service', name: 'auth.verify', kind: 2 },
  { service: 'catalog-service', name: 'GET /api/products/{id}', kind: 2 },
  { service: 'cart-service', name: 'cart.load', kind: 2 },
  { service: 'order-service', name: 'order.create', kind: 2 },
  { service: 'order-service', name: 'INSERT orders', kind: 3, db: true },
  { service: 'payment-service', name: 'payment.authorize', kind: 2 },
  { service: 'payment-service', name: 'POST api.stripe.com/v1/charges', kind: 3 },
] as const;

/** A template request: 64 traces of 8 spans over 4 services' resources, trace ids marked for rewriting. */
export function templates(count: number, seed: number): Buffer[] {
  const type = requestType();
  const random = rng(seed);
  const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
  const int = (key: string, value: number) => ({ key, value: { intValue: value } });
  const out: Buffer[] = [];
  const startNs = BigInt(Date.now() - 60_000) * 1_000_000n;
  for (let t = 0; t < count; t++) {
    const byService = new Map<string, unknown[]>();
    for (let i = 0; i < TRACES_PER_REQUEST; i++) {
      const traceId = Buffer.alloc(16);
      MAGIC.copy(traceId, 0);
      traceId.writeUInt32BE(i, 4);
      const failed = random() < 0.02;
      let offsetNs = BigInt(Math.floor(random() * 50_000_000_000));
      let parent: Buffer = Buffer.alloc(0);
      HOPS.forEach((hop, h) => {
        const spanId = Buffer.alloc(8);
        spanId.writeUInt32BE(i + 1, 0);
        spanId.writeUInt32BE(h + 1, 4);
        const durationNs = BigInt(Math.floor((5 + random() * 200) * 1_000_000 * (HOPS.length - h)));
        const attributes = [
          str('http.request.method', 'POST'),
          str('http.route', '/api/checkout'),
          int('http.response.status_code', failed && h === 0 ? 502 : 200),
          str('order.id', `ORD-${100000 + Math.floor(random() * 900000)}`),
          str('customer.id', `CUST-${Math.floor(random() * 50000)}`),
        ];
        if ('db' in hop) attributes.push(str('db.system', 'postgresql'), str('db.operation.name', 'INSERT'));
        const span = {
          traceId,
          spanId,
          parentSpanId: parent,
          name: hop.name,
          kind: hop.kind,
          startTimeUnixNano: (startNs + offsetNs).toString(),
          endTimeUnixNano: (startNs + offsetNs + durationNs).toString(),
          attributes,
          status: failed && h >= 6 ? { code: 2, message: 'gateway timeout' } : { code: 1 },
        };
        offsetNs += 1_000_000n;
        parent = spanId;
        const list = byService.get(hop.service) ?? [];
        list.push(span);
        byService.set(hop.service, list);
      });
    }
    const message = type.fromObject({
      resourceSpans: [...byService].map(([service, spans]) => ({
        resource: {
          attributes: [
            str('service.name', service),
            str('deployment.environment', 'production'),
            str('k8s.pod.name', `${service}-7d9f8-${t % 4}`),
          ],
        },
        scopeSpans: [{ scope: { name: 'bench', version: '1' }, spans }],
      })),
    });
    out.push(Buffer.from(type.encode(message).finish()));
  }
  return out;
}

/** Offsets of the request-number bytes (8..15 of each marked trace id) in a template. */
function idOffsets(template: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = template.indexOf(MAGIC); at !== -1; at = template.indexOf(MAGIC, at + 16)) offsets.push(at + 8);
  return offsets;
}

/** The hex trace id of trace `i` of request number `n`. */
function traceIdOf(n: number, i: number): string {
  const id = Buffer.alloc(16);
  MAGIC.copy(id, 0);
  id.writeUInt32BE(i, 4);
  id.writeBigUInt64BE(BigInt(n), 8);
  return id.toString('hex');
}

class Sender {
  #n = 0;
  rejected = 0;
  readonly #templates: { body: Buffer; offsets: number[] }[];
  constructor(
    readonly url: string,
    readonly key: string,
    templates: Buffer[],
  ) {
    this.#templates = templates.map((body) => ({ body, offsets: idOffsets(body) }));
  }
  get sent(): number {
    return this.#n;
  }
  async send(): Promise<void> {
    const n = ++this.#n;
    const t = this.#templates[n % this.#templates.length]!;
    const body = Buffer.from(t.body);
    for (const at of t.offsets) body.writeBigUInt64BE(BigInt(n), at);
    for (;;) {
      const r = await fetch(`${this.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${this.key}` },
        body,
      });
      await r.arrayBuffer();
      if (r.status === 200) return;
      if (r.status === 429 || r.status === 503) {
        this.rejected++;
        await new Promise((res) => setTimeout(res, 1000 * Number(r.headers.get('retry-after') ?? 1)));
        continue;
      }
      throw new Error(`POST /v1/traces: ${r.status}`);
    }
  }
  /** Sends with `connections` requests in flight until `until()` says stop. */
  async run(connections: number, until: () => boolean): Promise<void> {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (!until()) await this.send();
      }),
    );
  }
}

export async function runSpanBench(o: {
  seconds: number;
  totalSpans: number;
  connections: number;
  lookups: number;
  log?: (line: string) => void;
}): Promise<SpanIngestResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const compiled = ensureBuild(log);
  const server: ServerProcess = await startServerProcess({ SHOPLENS_LIMITS_INGEST_BYTES_PER_SECOND: '0' }, compiled);
  try {
    const key = await server.createKey('ingest');
    const readKey = await server.createKey('read');
    const sender = new Sender(server.url, key, templates(16, 7));
    // Warm-up, then the measured window.
    const warmUntil = performance.now() + 3_000;
    await sender.run(o.connections, () => performance.now() > warmUntil);
    const sent0 = sender.sent;
    const cpu0 = server.cpuMicros();
    const t0 = performance.now();
    const until = t0 + o.seconds * 1000;
    await sender.run(o.connections, () => performance.now() > until);
    const seconds = (performance.now() - t0) / 1000;
    const measured = (sender.sent - sent0) * SPANS_PER_REQUEST;
    const cpu = server.cpuMicros() - cpu0;
    log(
      `spans: ${fmt(measured / seconds)} spans/s over ${fmt(seconds, 1)} s, ${fmt(cpu / measured, 1)} µs server CPU per span`,
    );
    // Top up to the lookup size.
    const fillStart = performance.now();
    const targetRequests = Math.ceil(o.totalSpans / SPANS_PER_REQUEST);
    await sender.run(o.connections, () => {
      if (sender.sent % 200 === 0)
        progress(`spans: filling ${fmt(sender.sent * SPANS_PER_REQUEST)} / ${fmt(o.totalSpans)}`);
      return sender.sent >= targetRequests;
    });
    progress(`spans: ${fmt(sender.sent * SPANS_PER_REQUEST)} stored`, true);
    const fillSeconds = (performance.now() - fillStart) / 1000;
    // Wait for visibility of the newest, then look traces up by id, spread over everything sent.
    const last = traceIdOf(sender.sent, 0);
    for (let i = 0; i < 120; i++) {
      const r = await fetch(`${server.url}/api/v1/traces/${last}`, { headers: { authorization: `Bearer ${readKey}` } });
      if (r.ok) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    const random = rng(11);
    const times: number[] = [];
    for (let k = 0; k < o.lookups; k++) {
      const n = 1 + Math.floor(random() * sender.sent);
      const id = traceIdOf(n, Math.floor(random() * TRACES_PER_REQUEST));
      const started = performance.now();
      const r = await fetch(`${server.url}/api/v1/traces/${id}`, { headers: { authorization: `Bearer ${readKey}` } });
      const answer = (await r.json()) as { spans?: unknown[] };
      times.push(performance.now() - started);
      if (!r.ok || answer.spans?.length !== SPANS_PER_TRACE)
        throw new Error(`trace ${id}: ${r.status}, ${answer.spans?.length} spans (want ${SPANS_PER_TRACE})`);
    }
    return {
      spansPerSecond: measured / seconds,
      cpuMicrosPerSpan: cpu / measured,
      requests: sender.sent,
      rejected: sender.rejected,
      totalSpans: sender.sent * SPANS_PER_REQUEST,
      fillSeconds,
      lookupP50Ms: percentile(times, 50),
      lookupP99Ms: percentile(times, 99),
      lookups: times.length,
      rssMiB: server.memory().rss / 1024 / 1024,
    };
  } finally {
    await server.stop();
  }
}

/** Rows for run.ts's table: what, value, unit, target, met. */
export function spanRows(r: SpanIngestResult, eventsPerSecond?: number): string[][] {
  return [
    [
      'OTLP/HTTP protobuf spans, 512 a request, durable ack',
      fmt(r.spansPerSecond),
      'spans/s',
      eventsPerSecond ? `≥ ${fmt(eventsPerSecond)} (NDJSON events/s)` : '≥ NDJSON events/s',
      eventsPerSecond ? (r.spansPerSecond >= eventsPerSecond ? 'yes' : 'no') : '',
    ],
    ['server CPU per span', fmt(r.cpuMicrosPerSpan, 1), 'µs', '', ''],
    [
      `trace by id over ${fmt(r.totalSpans)} spans, p50 / p99 (${r.lookups} lookups)`,
      `${fmt(r.lookupP50Ms, 1)} / ${fmt(r.lookupP99Ms, 1)}`,
      'ms',
      `< ${TRACE_LOOKUP_TARGET_MS}`,
      r.lookupP99Ms < TRACE_LOOKUP_TARGET_MS ? 'yes' : 'no',
    ],
    ['RSS after the lookups', fmt(r.rssMiB), 'MiB', '', ''],
  ];
}

function parseCount(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text);
  if (!m) throw new Error(`not a count: ${text}`);
  return Math.round(Number(m[1]) * (m[2]?.toLowerCase() === 'm' ? 1e6 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      'spans-total': { type: 'string', default: '10m' },
      connections: { type: 'string', default: '8' },
      lookups: { type: 'string', default: '200' },
    },
  });
  const r = await runSpanBench({
    seconds: Number(values.seconds),
    totalSpans: parseCount(values['spans-total']!),
    connections: Number(values.connections),
    lookups: Number(values.lookups),
  });
  for (const row of spanRows(r)) console.log(row.join(' | '));
  console.log(`filled ${fmt(r.totalSpans)} spans in ${fmt(r.fillSeconds, 1)} s; ${r.rejected} answers 429/503`);
}
