/**
 * OTLP/HTTP with the real OpenTelemetry JS SDK and its exporters, unmodified
 * and configured only through OTEL_EXPORTER_OTLP_ENDPOINT and
 * OTEL_EXPORTER_OTLP_HEADERS (the ingest key): a trace across three
 * services (protobuf and JSON exporters), logs carrying its trace id, and
 * metrics, read back through the public API. A card number in a span
 * attribute and in a log body never reaches the data directory.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPLogExporter as LogsHttpExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as MetricsHttpExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as TraceHttpExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const CARD = '4111111111111111';
const CARD_SPACED = '4111 1111 1111 1111';

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else out.push(path);
  }
  return out;
}

async function get(srv: TestServer, key: string, path: string): Promise<{ status: number; json: any }> {
  const r = await fetch(`${srv.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: r.status, json: await r.json() };
}

async function queryWith(srv: TestServer, key: string, q: string): Promise<{ status: number; json: any }> {
  const r = await fetch(`${srv.url}/api/v1/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: q, from: 'now-1d', to: 'now+1h' }),
  });
  return { status: r.status, json: await r.json() };
}

/** Polls a query until it answers rows (events are visible within the refresh interval). */
async function rowsOf(srv: TestServer, key: string, q: string, min = 1): Promise<unknown[][]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await queryWith(srv, key, q);
    assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.json)}`);
    if (r.json.rows.length >= min || Date.now() > deadline) return r.json.rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('OTLP/HTTP from the OpenTelemetry JS SDK', () => {
  let srv: TestServer;
  let ingestKey: string;
  let readKey: string;
  let traceId: string;
  const spanIds: Record<string, string> = {};
  const t0 = Date.now() - 60_000;

  before(async () => {
    srv = await startTestServer({ auth: 'keys' });
    const keys = srv.server.context.keys;
    ingestKey = (await keys.create({ tenant: 'shop-otel', role: 'ingest', createdBy: 'otlp test' })).key;
    readKey = (await keys.create({ tenant: 'shop-otel', role: 'read', createdBy: 'otlp test' })).key;
    // The only configuration the exporters get: the endpoint and the key header, as a shop would set them.
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = srv.url;
    process.env['OTEL_EXPORTER_OTLP_HEADERS'] = `Authorization=Bearer%20${ingestKey}`;

    const provider = (service: string, exporter: SpanExporter): TracerProvider =>
      new TracerProvider({
        resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'production' }),
        spanProcessors: [new SimpleSpanProcessor({ exporter })],
      });
    // Three services, two wire encodings: protobuf for the gateway and payment, JSON for cart.
    const gateway = provider('api-gateway', new TraceProtoExporter());
    const cart = provider('cart-service', new TraceHttpExporter());
    const payment = provider('payment-service', new TraceProtoExporter());

    const root = gateway.getTracer('shop').startSpan('POST /api/checkout', {
      kind: SpanKind.SERVER,
      startTime: t0,
      attributes: { 'http.route': '/api/checkout', 'http.request.method': 'POST', 'order.id': 'ORD-123456' },
    });
    const cartSpan = cart.getTracer('shop').startSpan(
      'cart.load',
      {
        kind: SpanKind.INTERNAL,
        startTime: t0 + 5,
        attributes: { 'customer.id': 'C-42', 'db.system': 'postgresql' },
      },
      trace.setSpan(context.active(), root),
    );
    const paySpan = payment.getTracer('shop').startSpan(
      'charge card',
      {
        kind: SpanKind.CLIENT,
        startTime: t0 + 10,
        attributes: { 'payment.note': `customer typed ${CARD_SPACED} in the note`, 'transaction.amount': 129.5 },
      },
      trace.setSpan(context.active(), cartSpan),
    );
    paySpan.recordException(new Error('card declined by issuer'), t0 + 50);
    paySpan.setStatus({ code: SpanStatusCode.ERROR, message: 'gateway declined' });
    traceId = root.spanContext().traceId;
    spanIds['root'] = root.spanContext().spanId;
    spanIds['cart'] = cartSpan.spanContext().spanId;
    spanIds['payment'] = paySpan.spanContext().spanId;

    // Logs in both encodings, in the payment span's context: the SDK puts its trace and span id on them.
    const payContext = trace.setSpan(context.active(), paySpan);
    for (const [service, exporter] of [
      ['payment-service', new LogsProtoExporter()],
      ['cart-service', new LogsHttpExporter()],
    ] as const) {
      const logs = new LoggerProvider({
        resource: resourceFromAttributes({ 'service.name': service, 'k8s.pod.name': `${service}-7f9c` }),
        processors: [new SimpleLogRecordProcessor({ exporter })],
      });
      logs.getLogger('shop').emit({
        severityNumber: 17,
        severityText: 'ERROR',
        body: `charging card ${CARD} failed`,
        attributes: { 'order.id': 'ORD-123456' },
        context: payContext,
      });
      await logs.forceFlush();
      await logs.shutdown();
    }

    paySpan.end(t0 + 70);
    cartSpan.end(t0 + 80);
    root.end(t0 + 120);
    for (const p of [gateway, cart, payment]) {
      await p.forceFlush();
      await p.shutdown();
    }

    for (const [service, exporter] of [
      ['checkout-proto', new MetricsProtoExporter()],
      ['checkout-json', new MetricsHttpExporter()],
    ] as const) {
      const meters = new MeterProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })],
      });
      const meter = meters.getMeter('shop');
      meter.createCounter('orders.placed').add(3, { 'http.route': '/api/checkout' });
      const latency = meter.createHistogram('checkout.latency', { unit: 'ms' });
      for (const v of [12, 48, 250]) latency.record(v, { 'http.route': '/api/checkout' });
      await meters.forceFlush();
      await meters.shutdown();
    }
  });

  after(async () => {
    delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    delete process.env['OTEL_EXPORTER_OTLP_HEADERS'];
    await srv.close();
  });

  it('answers the whole trace with parent/child links, durations, services and attributes', async () => {
    const r = await get(srv, readKey, `/api/v1/traces/${traceId}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const t = r.json;
    assert.equal(t.spanCount, 3);
    assert.deepEqual(t.services, ['api-gateway', 'cart-service', 'payment-service']);
    assert.equal(t.durationMs, 120);
    assert.equal(t.errorCount, 1);
    assert.deepEqual(t.rootSpanIds, [spanIds['root']]);
    const byName = Object.fromEntries(t.spans.map((s: any) => [s.name, s]));
    const root = byName['POST /api/checkout'];
    const cart = byName['cart.load'];
    const pay = byName['charge card'];
    assert.equal(root.parentSpanId, null);
    assert.equal(root.kind, 'server');
    assert.equal(root.service, 'api-gateway');
    assert.equal(root.durationMs, 120);
    assert.equal(root.attributes['order.id'], 'ORD-123456');
    assert.equal(root.attributes['http.route'], '/api/checkout');
    assert.equal(root.resource['deployment.environment'], 'production');
    assert.deepEqual(root.childSpanIds, [spanIds['cart']]);
    assert.equal(cart.parentSpanId, spanIds['root']);
    assert.equal(cart.service, 'cart-service');
    assert.equal(cart.durationMs, 75);
    assert.equal(cart.depth, 1);
    assert.equal(pay.parentSpanId, spanIds['cart']);
    assert.equal(pay.depth, 2);
    assert.equal(pay.kind, 'client');
    assert.equal(pay.durationMs, 60);
    assert.deepEqual(pay.status, { code: 'error', message: 'gateway declined' });
    assert.equal(pay.attributes['transaction.amount'], 129.5);
    assert.equal(pay.startTime, new Date(t0 + 10).toISOString().replace('Z', '000Z'));
    const exception = pay.events.find((e: any) => e.name === 'exception');
    assert.ok(exception, JSON.stringify(pay.events));
    assert.equal(exception.attributes['exception.message'], 'card declined by issuer');
    assert.match(exception.attributes['exception.stacktrace'], /Error: card declined by issuer/);
    // The card number in the attribute is masked; the rest of the text is kept.
    assert.match(pay.attributes['payment.note'], /^customer typed .* in the note$/);
    assert.doesNotMatch(pay.attributes['payment.note'], /4111/);
  });

  it('finds the trace by service, operation, status and duration', async () => {
    const search = async (qs: string) => {
      const r = await get(srv, readKey, `/api/v1/traces?from=now-1d&${qs}`);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return r.json.traces as any[];
    };
    const found = await search('service=payment-service&status=error');
    assert.equal(found.length, 1);
    assert.deepEqual(found[0], {
      traceId,
      rootService: 'api-gateway',
      rootName: 'POST /api/checkout',
      startTime: new Date(t0).toISOString().replace('Z', '000Z'),
      durationMs: 120,
      spanCount: 3,
      services: ['api-gateway', 'cart-service', 'payment-service'],
      errorCount: 1,
      hasError: true,
    });
    assert.equal((await search('name=cart.load&minDuration=70ms')).length, 1);
    assert.equal((await search('name=cart.load&minDuration=80ms')).length, 0);
    assert.equal((await search('service=api-gateway&status=error')).length, 0);
    assert.equal((await search('attribute=order.id:ORD-123456&attribute=http.route:/api/checkout')).length, 1);
    assert.equal((await search('attribute=deployment.environment:production&service=cart-service')).length, 1);
    assert.equal((await search('attribute=order.id:ORD-999')).length, 0);
    const bad = await get(srv, readKey, '/api/v1/traces?status=broken');
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /status/);
    const badAttribute = await get(srv, readKey, '/api/v1/traces?attribute=order.id');
    assert.equal(badAttribute.status, 400);
    assert.match(badAttribute.json.error.message, /"attribute": expected name:value/);
  });

  it('lists the log lines of the trace beside its spans', async () => {
    const deadline = Date.now() + 10_000;
    let events: any[] = [];
    while (events.length < 2 && Date.now() < deadline) {
      const r = await get(srv, readKey, `/api/v1/traces/${traceId}`);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      events = r.json.events;
      if (events.length < 2) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(events.map((e) => [e['service.name'], e['event.type'], e['log.level'], e['span_id']]).sort(), [
      ['cart-service', 'log', 'ERROR', spanIds['payment']],
      ['payment-service', 'log', 'ERROR', spanIds['payment']],
    ]);
  });

  it('stores the log records as events linked to the trace and span', async () => {
    const rows = await rowsOf(
      srv,
      readKey,
      `trace_id:${traceId} | stats count() as n by service.name, log.level, span_id, kubernetes.pod, order.id`,
      2,
    );
    const sorted = rows.map((r) => r.map(String)).sort();
    assert.deepEqual(sorted, [
      ['cart-service', 'ERROR', spanIds['payment'], 'cart-service-7f9c', 'ORD-123456', '1'],
      ['payment-service', 'ERROR', spanIds['payment'], 'payment-service-7f9c', 'ORD-123456', '1'],
    ]);
    const messages = await rowsOf(srv, readKey, `trace_id:${traceId} | stats count() as n by message`);
    assert.equal(messages.length, 1);
    assert.match(String(messages[0]?.[0]), /^charging card .* failed$/);
    assert.doesNotMatch(String(messages[0]?.[0]), /4111/);
  });

  it('stores metric points queryable by name and attributes', async () => {
    const counters = await rowsOf(
      srv,
      readKey,
      'event.type:metric metric.name:"orders.placed" | stats max(metric.value) as total by service.name, metric.monotonic, metric.temporality',
      2,
    );
    // Cumulative sums (the SDK's default): each export (forceFlush, then shutdown) repeats the running total.
    assert.deepEqual(counters.map((r) => r.map(String)).sort(), [
      ['checkout-json', 'true', 'cumulative', '3'],
      ['checkout-proto', 'true', 'cumulative', '3'],
    ]);
    const histograms = await rowsOf(
      srv,
      readKey,
      'event.type:metric metric.name:"checkout.latency" http.route:"/api/checkout" | stats max(metric.count) as n, max(metric.sum) as total, max(metric.max) as worst by service.name, metric.type, metric.unit',
      2,
    );
    assert.deepEqual(histograms.map((r) => r.map(String)).sort(), [
      ['checkout-json', 'histogram', 'ms', '3', '310', '250'],
      ['checkout-proto', 'histogram', 'ms', '3', '310', '250'],
    ]);
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
