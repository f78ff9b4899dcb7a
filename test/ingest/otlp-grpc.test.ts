/**
 * OTLP/gRPC on its own port, with the real OpenTelemetry JS SDK and its
 * unmodified gRPC exporters (configured only through
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS and gzip
 * compression): a trace across two services, logs in its context and
 * metrics, read back through the public HTTP API. Then the answers a raw
 * grpc-js client gets: UNAUTHENTICATED without a key, PERMISSION_DENIED
 * with a read key, INVALID_ARGUMENT for bytes that are not the message
 * (the server keeps serving), OK with partial_success, RESOURCE_EXHAUSTED
 * for a message over the size bound, UNAVAILABLE under back-pressure. A card
 * number in a span attribute never reaches the data directory.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import protobuf from 'protobufjs';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const CARD = '4111111111111111';
const CARD_SPACED = '4111 1111 1111 1111';

const PROTO = fileURLToPath(new URL('../../proto/', import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(PROTO, target);
root.loadSync(['opentelemetry/proto/collector/trace/v1/trace_service.proto']);
const TraceRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const TraceResponse = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

const NOW_NS = BigInt(Date.now() - 30_000) * 1_000_000n;
const ns = (offsetMs: number): string => String(NOW_NS + BigInt(offsetMs) * 1_000_000n);
const hex = (n: number, bytes: number): string => n.toString(16).padStart(bytes * 2, '0');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else out.push(path);
  }
  return out;
}

const spanOf = (traceId: string, spanId: string, extra: Record<string, unknown> = {}) => ({
  traceId: Buffer.from(traceId, 'hex'),
  spanId: Buffer.from(spanId, 'hex'),
  name: 'GET /api/products',
  kind: 2,
  startTimeUnixNano: ns(0),
  endTimeUnixNano: ns(25),
  ...extra,
});
const tracesOf = (spans: unknown[]) =>
  Buffer.from(
    TraceRequest.encode(
      TraceRequest.fromObject({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'catalog-service' } }] },
            scopeSpans: [{ scope: { name: 'test' }, spans }],
          },
        ],
      }),
    ).finish(),
  );

// google.rpc.Status and RetryInfo, to read the grpc-status-details-bin trailer.
const rpcRoot = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
            Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
          },
        },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: 'int32', id: 1 },
                message: { type: 'string', id: 2 },
                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
              },
            },
            RetryInfo: { fields: { retry_delay: { type: 'google.protobuf.Duration', id: 1 } } },
          },
        },
      },
    },
  },
});
const RpcStatus = rpcRoot.lookupType('google.rpc.Status');
const RetryInfo = rpcRoot.lookupType('google.rpc.RetryInfo');

/** Seconds of the RetryInfo an error's trailer carries (0 without one). */
function retryDelayOf(err: grpc.ServiceError): number {
  const bin = err.metadata?.get('grpc-status-details-bin')[0];
  if (!Buffer.isBuffer(bin)) return 0;
  const st = RpcStatus.toObject(RpcStatus.decode(bin), { longs: Number }) as any;
  assert.equal(st.code, grpc.status.UNAVAILABLE);
  assert.equal(st.message, err.details);
  const detail = st.details.find((d: any) => d.type_url === 'type.googleapis.com/google.rpc.RetryInfo');
  if (!detail) return 0;
  const info = RetryInfo.toObject(RetryInfo.decode(detail.value), { longs: Number }) as any;
  return Number(info.retry_delay.seconds);
}

interface Call {
  err: grpc.ServiceError | null;
  response: Buffer | undefined;
}

describe('OTLP/gRPC', () => {
  let srv: TestServer;
  let ingestKey: string;
  let readKey: string;
  let client: grpc.Client;
  let traceId: string;
  const spanIds: Record<string, string> = {};
  const t0 = Date.now() - 60_000;

  /** One raw Export call: bytes in, bytes out, no decoding on the client side. */
  const call = (path: string, body: Buffer, key: string | null = ingestKey): Promise<Call> =>
    new Promise((resolve) => {
      const metadata = new grpc.Metadata();
      if (key !== null) metadata.set('authorization', `Bearer ${key}`);
      client.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        metadata,
        { deadline: Date.now() + 20_000 },
        (err, response) => resolve({ err: err ?? null, response }),
      );
    });
  const get = async (path: string) => {
    const r = await fetch(`${srv.url}${path}`, { headers: { authorization: `Bearer ${readKey}` } });
    return { status: r.status, json: (await r.json()) as any };
  };
  const rowsOf = async (q: string, min = 1): Promise<unknown[][]> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await fetch(`${srv.url}/api/v1/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${readKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: q, from: 'now-1d', to: 'now+1h' }),
      });
      const body = (await r.json()) as any;
      assert.equal(r.status, 200, JSON.stringify(body));
      if (body.rows.length >= min || Date.now() > deadline) return body.rows as unknown[][];
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  before(async () => {
    srv = await startTestServer({
      auth: 'keys',
      otlp: { grpc: { enabled: true } },
      server: { maxBodyBytes: '1mb' },
      ingest: { maxPendingBytes: '256kb', maxQueueDelay: '1h' },
    });
    assert.ok(srv.grpcUrl, 'OTLP/gRPC listens');
    assert.notEqual(new URL(srv.grpcUrl).port, new URL(srv.url).port);
    const keys = srv.server.context.keys;
    ingestKey = (await keys.create({ tenant: 'shop-grpc', role: 'ingest', createdBy: 'otlp grpc test' })).key;
    readKey = (await keys.create({ tenant: 'shop-grpc', role: 'read', createdBy: 'otlp grpc test' })).key;
    client = new grpc.Client(new URL(srv.grpcUrl).host, grpc.credentials.createInsecure());

    // The only configuration the exporters get, as a shop would set it.
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = srv.grpcUrl;
    process.env['OTEL_EXPORTER_OTLP_HEADERS'] = `Authorization=Bearer%20${ingestKey}`;
    process.env['OTEL_EXPORTER_OTLP_COMPRESSION'] = 'gzip';

    const provider = (service: string): TracerProvider =>
      new TracerProvider({
        resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'production' }),
        spanProcessors: [new SimpleSpanProcessor({ exporter: new OTLPTraceExporter() })],
      });
    const gateway = provider('api-gateway');
    const payment = provider('payment-service');
    const rootSpan = gateway.getTracer('shop').startSpan('POST /api/checkout', {
      kind: SpanKind.SERVER,
      startTime: t0,
      attributes: { 'http.route': '/api/checkout', 'order.id': 'ORD-777001' },
    });
    const paySpan = payment.getTracer('shop').startSpan(
      'charge card',
      {
        kind: SpanKind.CLIENT,
        startTime: t0 + 10,
        attributes: { 'payment.note': `customer typed ${CARD_SPACED} in the note`, 'transaction.amount': 42.5 },
      },
      trace.setSpan(context.active(), rootSpan),
    );
    paySpan.setStatus({ code: SpanStatusCode.ERROR, message: 'gateway declined' });
    traceId = rootSpan.spanContext().traceId;
    spanIds['root'] = rootSpan.spanContext().spanId;
    spanIds['payment'] = paySpan.spanContext().spanId;

    const logs = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'payment-service' }),
      processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter() })],
    });
    logs.getLogger('shop').emit({
      severityNumber: 17,
      severityText: 'ERROR',
      body: `charging card ${CARD} failed`,
      attributes: { 'order.id': 'ORD-777001' },
      context: trace.setSpan(context.active(), paySpan),
    });
    await logs.forceFlush();
    await logs.shutdown();

    paySpan.end(t0 + 70);
    rootSpan.end(t0 + 100);
    for (const p of [gateway, payment]) {
      await p.forceFlush();
      await p.shutdown();
    }

    const meters = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout-grpc' }),
      readers: [
        new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: 60_000 }),
      ],
    });
    const meter = meters.getMeter('shop');
    meter.createCounter('orders.placed').add(5, { 'http.route': '/api/checkout' });
    const latency = meter.createHistogram('checkout.latency', { unit: 'ms' });
    for (const v of [20, 80]) latency.record(v, { 'http.route': '/api/checkout' });
    await meters.forceFlush();
    await meters.shutdown();
  });

  after(async () => {
    delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    delete process.env['OTEL_EXPORTER_OTLP_HEADERS'];
    delete process.env['OTEL_EXPORTER_OTLP_COMPRESSION'];
    client?.close();
    await srv?.close();
  });

  it('answers the SDK trace with parent/child links, services and attributes', async () => {
    const r = await get(`/api/v1/traces/${traceId}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const t = r.json;
    assert.equal(t.spanCount, 2);
    assert.deepEqual(t.services, ['api-gateway', 'payment-service']);
    assert.equal(t.durationMs, 100);
    assert.deepEqual(t.rootSpanIds, [spanIds['root']]);
    const byName = Object.fromEntries(t.spans.map((s: any) => [s.name, s]));
    const rootSpan = byName['POST /api/checkout'];
    const pay = byName['charge card'];
    assert.equal(rootSpan.parentSpanId, null);
    assert.equal(rootSpan.kind, 'server');
    assert.equal(rootSpan.attributes['order.id'], 'ORD-777001');
    assert.equal(rootSpan.resource['deployment.environment'], 'production');
    assert.deepEqual(rootSpan.childSpanIds, [spanIds['payment']]);
    assert.equal(pay.parentSpanId, spanIds['root']);
    assert.equal(pay.service, 'payment-service');
    assert.equal(pay.durationMs, 60);
    assert.deepEqual(pay.status, { code: 'error', message: 'gateway declined' });
    assert.equal(pay.attributes['transaction.amount'], 42.5);
    assert.match(pay.attributes['payment.note'], /^customer typed .* in the note$/);
    assert.doesNotMatch(pay.attributes['payment.note'], /4111/);
  });

  it('links the SDK log record to the trace and span', async () => {
    const rows = await rowsOf(`trace_id:${traceId} | stats count() as n by service.name, log.level, span_id, order.id`);
    assert.deepEqual(
      rows.map((r) => r.map(String)),
      [['payment-service', 'ERROR', spanIds['payment'], 'ORD-777001', '1']],
    );
    const t = await get(`/api/v1/traces/${traceId}`);
    assert.deepEqual(
      t.json.events.map((e: any) => [e['event.type'], e['span_id']]),
      [['log', spanIds['payment']]],
    );
    const messages = await rowsOf(`trace_id:${traceId} | stats count() as n by message`);
    assert.match(String(messages[0]?.[0]), /^charging card .* failed$/);
    assert.doesNotMatch(String(messages[0]?.[0]), /4111/);
  });

  it('stores the SDK metric points', async () => {
    const counters = await rowsOf(
      'event.type:metric metric.name:"orders.placed" service.name:"checkout-grpc" | stats max(metric.value) as total by metric.monotonic',
    );
    assert.deepEqual(
      counters.map((r) => r.map(String)),
      [['true', '5']],
    );
    const histograms = await rowsOf(
      'event.type:metric metric.name:"checkout.latency" service.name:"checkout-grpc" | stats max(metric.count) as n, max(metric.sum) as total by metric.type',
    );
    assert.deepEqual(
      histograms.map((r) => r.map(String)),
      [['histogram', '2', '100']],
    );
  });

  it('refuses a call without a key (UNAUTHENTICATED) and with a read key (PERMISSION_DENIED)', async () => {
    const body = tracesOf([spanOf(hex(0xb1, 16), hex(1, 8))]);
    const none = await call(TRACE_EXPORT, body, null);
    assert.equal(none.err?.code, grpc.status.UNAUTHENTICATED);
    assert.match(none.err?.details ?? '', /API key/);
    const unknown = await call(TRACE_EXPORT, body, 'slk_not_a_key');
    assert.equal(unknown.err?.code, grpc.status.UNAUTHENTICATED);
    const read = await call(TRACE_EXPORT, body, readKey);
    assert.equal(read.err?.code, grpc.status.PERMISSION_DENIED);
    assert.match(read.err?.details ?? '', /"read".*"ingest"/);
    assert.equal((await get(`/api/v1/traces/${hex(0xb1, 16)}`)).status, 404);
  });

  it('answers INVALID_ARGUMENT for bytes that are not the message, and keeps serving', async () => {
    const bad = await call(TRACE_EXPORT, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    assert.equal(bad.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(bad.err?.details ?? '', /not a valid OTLP ExportTraceServiceRequest protobuf message/);
    const good = await call(TRACE_EXPORT, tracesOf([spanOf(hex(0xb2, 16), hex(1, 8))]));
    assert.equal(good.err, null);
    assert.deepEqual(TraceResponse.toObject(TraceResponse.decode(good.response!)), {});
    assert.equal((await get(`/api/v1/traces/${hex(0xb2, 16)}`)).json.spanCount, 1);
  });

  it('answers OK with partial_success naming the refused span, and keeps the good one', async () => {
    const id = hex(0xb3, 16);
    const r = await call(
      TRACE_EXPORT,
      tracesOf([spanOf(id, hex(1, 8)), { ...spanOf(id, hex(2, 8)), spanId: Buffer.from([1, 2]) }]),
    );
    assert.equal(r.err, null);
    const answer = TraceResponse.toObject(TraceResponse.decode(r.response!), { longs: String }) as any;
    assert.equal(answer.partialSuccess.rejectedSpans, '1');
    assert.match(
      answer.partialSuccess.errorMessage,
      /^1 span was rejected: resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\]: spanId must be 8 bytes/,
    );
    assert.equal((await get(`/api/v1/traces/${id}`)).json.spanCount, 1);
    // No valid span at all: INVALID_ARGUMENT, as 400 on HTTP.
    const none = await call(TRACE_EXPORT, tracesOf([{ ...spanOf(id, hex(3, 8)), traceId: Buffer.alloc(0) }]));
    assert.equal(none.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(none.err?.details ?? '', /traceId is missing/);
  });

  it('answers RESOURCE_EXHAUSTED for a message over server.maxBodyBytes', async () => {
    const id = hex(0xb4, 16);
    const big = tracesOf([spanOf(id, hex(1, 8), { name: 'x'.repeat(1_200_000) })]);
    const r = await call(TRACE_EXPORT, big);
    assert.equal(r.err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal((await get(`/api/v1/traces/${id}`)).status, 404);
  });

  it('takes gzip-compressed messages, and bounds them once decompressed', async () => {
    // grpc-js compresses every message of this channel with gzip (grpc-encoding: gzip).
    const gzipClient = new grpc.Client(new URL(srv.grpcUrl!).host, grpc.credentials.createInsecure(), {
      'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
    });
    const send = (body: Buffer) =>
      new Promise<grpc.ServiceError | null>((resolve) => {
        const metadata = new grpc.Metadata();
        metadata.set('authorization', `Bearer ${ingestKey}`);
        gzipClient.makeUnaryRequest(
          TRACE_EXPORT,
          (b: Buffer) => b,
          (b: Buffer) => b,
          body,
          metadata,
          (e) => resolve(e ?? null),
        );
      });
    try {
      const id = hex(0xb5, 16);
      assert.equal(await send(tracesOf([spanOf(id, hex(1, 8), { name: 'gzipped span' })])), null);
      const t = await get(`/api/v1/traces/${id}`);
      assert.equal(t.json.spans[0].name, 'gzipped span');
      // 1.2 MB of one repeated letter compresses to a few kB: refused for its decompressed size.
      const bomb = hex(0xb6, 16);
      const err = await send(tracesOf([spanOf(bomb, hex(1, 8), { name: 'y'.repeat(1_200_000) })]));
      assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal((await get(`/api/v1/traces/${bomb}`)).status, 404);
    } finally {
      gzipClient.close();
    }
  });

  it('answers UNAVAILABLE under back-pressure, and stores all of every accepted call', async () => {
    const ids: string[] = [];
    const bodies = Array.from({ length: 24 }, (_, i) => {
      const id = hex(0xd000 + i, 16);
      ids.push(id);
      const filler = 'x'.repeat(900);
      return tracesOf(
        Array.from({ length: 100 }, (_, j) =>
          spanOf(id, hex(j + 1, 8), { attributes: [{ key: 'filler', value: { stringValue: filler } }] }),
        ),
      );
    });
    const answers = await Promise.all(bodies.map((b) => call(TRACE_EXPORT, b)));
    const codes = answers.map((a) => a.err?.code ?? grpc.status.OK);
    assert.ok(
      codes.every((c) => c === grpc.status.OK || c === grpc.status.UNAVAILABLE),
      codes.join(','),
    );
    assert.ok(codes.includes(grpc.status.UNAVAILABLE), 'some were refused');
    assert.ok(codes.includes(grpc.status.OK), 'some were taken');
    for (const [i, a] of answers.entries()) {
      const t = await get(`/api/v1/traces/${ids[i]}`);
      if (a.err) {
        assert.match(a.err.details, /ingest\.maxPendingBytes/);
        assert.ok(retryDelayOf(a.err) >= 1, 'RetryInfo says when to retry');
        assert.equal(t.status, 404);
      } else assert.equal(t.json.spanCount, 100);
    }
  });

  it('never writes the card numbers to the data directory', async () => {
    await srv.server.context.store.refresh(true);
    for (const file of files(srv.dataDir)) {
      const bytes = readFileSync(file);
      assert.equal(bytes.includes(CARD), false, `${file} holds the card number`);
      assert.equal(bytes.includes(CARD_SPACED), false, `${file} holds the card number`);
    }
  });
});

describe('OTLP/gRPC under the tenant ingest limit', () => {
  let srv: TestServer;
  let key: string;
  let client: grpc.Client;
  before(async () => {
    srv = await startTestServer({
      auth: 'keys',
      otlp: { grpc: { enabled: true } },
      limits: { ingestBytesPerSecond: '1kb', ingestBurstBytes: '20kb' },
    });
    key = (await srv.server.context.keys.create({ tenant: 'shop-slow', role: 'ingest', createdBy: 't' })).key;
    client = new grpc.Client(new URL(srv.grpcUrl!).host, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await srv?.close();
  });

  it('answers UNAVAILABLE past the limit, a bucket shared with OTLP/HTTP', async () => {
    const body = (n: number) => tracesOf([spanOf(hex(0xe0 + n, 16), hex(1, 8), { name: 'x'.repeat(8_000) })]);
    const codes: number[] = [];
    let refused: grpc.ServiceError | undefined;
    for (let i = 0; i < 3; i++) {
      const err = await new Promise<grpc.ServiceError | null>((resolve) => {
        const metadata = new grpc.Metadata();
        metadata.set('authorization', `Bearer ${key}`);
        client.makeUnaryRequest(
          TRACE_EXPORT,
          (b: Buffer) => b,
          (b: Buffer) => b,
          body(i),
          metadata,
          (e) => resolve(e ?? null),
        );
      });
      codes.push(err?.code ?? grpc.status.OK);
      if (err) refused = err;
    }
    // 20 kB of burst: two calls of 8 kB pass, the third waits for tokens.
    assert.deepEqual(codes, [grpc.status.OK, grpc.status.OK, grpc.status.UNAVAILABLE]);
    assert.match(refused?.details ?? '', /Tenant "shop-slow" is sending faster than its ingest limit/);
    assert.ok(retryDelayOf(refused!) >= 1, 'RetryInfo says when to retry');
    const http = await fetch(`${srv.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-protobuf' },
      body: body(9),
    });
    assert.equal(http.status, 429);
  });
});
