/**
 * OTLP/HTTP answers as the specification asks, over real HTTP: partial
 * success naming each refused item (the good ones kept), 400 for a body
 * that is not the message, 415 for another content type, 413 for a body too
 * large (also once gunzipped), 429 with Retry-After under back-pressure,
 * protobuf answers to protobuf requests (google.rpc.Status for errors), the
 * JSON mapping (hex ids, int64 as strings), gzip bodies, and never a 500.
 * Request bodies are built with protobufjs from the opentelemetry-proto files.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PROTO = fileURLToPath(new URL('../../proto/', import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(PROTO, target);
root.loadSync([
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
]);
const TraceRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const TraceResponse = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
const Status = new protobuf.Type('Status')
  .add(new protobuf.Field('code', 1, 'int32'))
  .add(new protobuf.Field('message', 2, 'string'));
new protobuf.Root().define('google.rpc').add(Status);

const NOW_NS = BigInt(Date.now() - 30_000) * 1_000_000n;
const ns = (offsetMs: number): string => String(NOW_NS + BigInt(offsetMs) * 1_000_000n);
const hex = (n: number, bytes: number): string => n.toString(16).padStart(bytes * 2, '0');

interface Answer {
  status: number;
  type: string;
  headers: Headers;
  bytes: Buffer;
  json: any;
}

describe('OTLP/HTTP answers', () => {
  let srv: TestServer;
  let key: string;
  let readKey: string;

  const send = async (path: string, body: string | Buffer, headers: Record<string, string>, k = key) => {
    const r = await fetch(`${srv.url}${path}`, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${k}`, ...headers },
    });
    const bytes = Buffer.from(await r.arrayBuffer());
    const type = r.headers.get('content-type') ?? '';
    let json: unknown;
    if (type.startsWith('application/json')) json = JSON.parse(bytes.toString('utf8'));
    return { status: r.status, type, headers: r.headers, bytes, json } as Answer;
  };
  const json = (path: string, value: unknown) =>
    send(path, JSON.stringify(value), { 'content-type': 'application/json' });
  const proto = (path: string, body: Uint8Array, extra: Record<string, string> = {}) =>
    send(path, Buffer.from(body), { 'content-type': 'application/x-protobuf', ...extra });
  const traceOf = async (traceId: string) => {
    const r = await fetch(`${srv.url}/api/v1/traces/${traceId}`, { headers: { authorization: `Bearer ${readKey}` } });
    return { status: r.status, json: (await r.json()) as any };
  };
  const queryRows = async (q: string, min: number) => {
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

  const span = (traceId: string, spanId: string, extra: Record<string, unknown> = {}) => ({
    traceId,
    spanId,
    name: 'GET /api/products',
    kind: 2,
    startTimeUnixNano: ns(0),
    endTimeUnixNano: ns(25),
    ...extra,
  });
  const traces = (spans: unknown[], service = 'catalog-service') => ({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ scope: { name: 'test' }, spans }],
      },
    ],
  });

  before(async () => {
    srv = await startTestServer({
      auth: 'keys',
      server: { maxBodyBytes: '1mb' },
      ingest: { maxPendingBytes: '256kb', maxQueueDelay: '1h' },
    });
    key = (await srv.server.context.keys.create({ tenant: 'shop-x', role: 'ingest', createdBy: 't' })).key;
    readKey = (await srv.server.context.keys.create({ tenant: 'shop-x', role: 'read', createdBy: 't' })).key;
  });
  after(async () => {
    await srv.close();
  });

  it('keeps the good spans of a JSON request and names each refused one in partialSuccess', async () => {
    const traceId = hex(0xa1, 16);
    const r = await json(
      '/v1/traces',
      traces([
        span(traceId, hex(1, 8), {
          attributes: [
            { key: 'http.response.status_code', value: { intValue: '200' } },
            { key: 'big', value: { intValue: '9007199254740993' } },
            { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }, { boolValue: true }] } } },
            { key: 'cfg', value: { kvlistValue: { values: [{ key: 'x', value: { doubleValue: 1.5 } }] } } },
          ],
        }),
        span('abcd', hex(2, 8)),
        span(traceId, hex(3, 8), { endTimeUnixNano: ns(-5) }),
        span(traceId, 'not-hex!'),
      ]),
    );
    assert.equal(r.status, 200, r.bytes.toString());
    assert.match(r.type, /^application\/json/);
    assert.equal(r.json.partialSuccess.rejectedSpans, '3');
    const message: string = r.json.partialSuccess.errorMessage;
    assert.match(message, /^3 spans were rejected: /);
    assert.match(
      message,
      /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\]: traceId must be 16 bytes \(32 hex characters\), got 2/,
    );
    assert.match(message, /spans\[2\]: endTimeUnixNano is before startTimeUnixNano/);
    assert.match(message, /spans\[3\]: spanId must be 8 bytes/);
    const t = await traceOf(traceId);
    assert.equal(t.status, 200, JSON.stringify(t.json));
    assert.equal(t.json.spanCount, 1);
    const s = t.json.spans[0];
    assert.equal(s.spanId, hex(1, 8));
    assert.equal(s.kind, 'server');
    assert.equal(s.service, 'catalog-service');
    assert.equal(s.durationMs, 25);
    assert.deepEqual(s.attributes, {
      'http.response.status_code': 200,
      big: '9007199254740993',
      tags: ['a', true],
      cfg: { x: 1.5 },
    });
  });

  it('answers protobuf with protobuf: partial success, gzip bodies', async () => {
    const traceId = hex(0xb2, 16);
    const message = TraceRequest.fromObject(
      traces([
        span(Buffer.from(traceId, 'hex') as never, Buffer.from(hex(1, 8), 'hex') as never, { kind: 3 }),
        span(Buffer.from(traceId, 'hex') as never, Buffer.from('0102', 'hex') as never),
      ]),
    );
    const body = gzipSync(TraceRequest.encode(message).finish());
    const r = await proto('/v1/traces', body, { 'content-encoding': 'gzip' });
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/x-protobuf');
    const answer = TraceResponse.toObject(TraceResponse.decode(r.bytes), { longs: String }) as any;
    assert.equal(answer.partialSuccess.rejectedSpans, '1');
    assert.match(answer.partialSuccess.errorMessage, /spans\[1\]: spanId must be 8 bytes \(16 hex characters\), got 2/);
    const t = await traceOf(traceId);
    assert.equal(t.json.spanCount, 1);
    assert.equal(t.json.spans[0].kind, 'client');

    // Everything good: an empty response message, no partial_success.
    const ok = await proto(
      '/v1/traces',
      TraceRequest.encode(
        TraceRequest.fromObject(
          traces([span(Buffer.from(hex(0xb3, 16), 'hex') as never, Buffer.from(hex(9, 8), 'hex') as never)]),
        ),
      ).finish(),
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.bytes.length, 0);
  });

  it('answers 400 with google.rpc.Status for a body that is not protobuf, and JSON errors for JSON', async () => {
    const bad = await proto('/v1/traces', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    assert.equal(bad.status, 400);
    assert.equal(bad.type, 'application/x-protobuf');
    const status = Status.toObject(Status.decode(bad.bytes)) as { code: number; message: string };
    assert.equal(status.code, 3);
    assert.match(status.message, /not a valid OTLP ExportTraceServiceRequest protobuf message/);

    const notJson = await send('/v1/logs', '{"resourceLogs": [', { 'content-type': 'application/json' });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.error.code, 'otlp.invalid_json');
    const wrongShape = await json('/v1/traces', { resourceSpans: 5 });
    assert.equal(wrongShape.status, 400);
    assert.match(wrongShape.json.error.message, /resourceSpans: array expected/);
    const allBad = await json('/v1/traces', traces([span('zz', hex(1, 8))]));
    assert.equal(allBad.status, 400);
    assert.match(allBad.json.error.message, /No valid span .* traceId must be 16 bytes/);
  });

  it('answers 415 for another content type and 413 for a body too large, also once gunzipped', async () => {
    const r = await send('/v1/metrics', '{}', { 'content-type': 'text/plain' });
    assert.equal(r.status, 415);
    assert.match(
      r.json.error.message,
      /"text\/plain" is not OTLP\/HTTP: send application\/x-protobuf .* or application\/json/,
    );
    const big = await send('/v1/traces', Buffer.alloc(2 * 1024 * 1024, 0x20), { 'content-type': 'application/json' });
    assert.equal(big.status, 413);
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
    const inflated = await send('/v1/traces', bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assert.equal(inflated.status, 413);
    assert.match(inflated.json.error.message, /decompressed body is larger than the limit/);
  });

  it('needs an ingest key, as the other ingest routes do', async () => {
    const none = await fetch(`${srv.url}/v1/traces`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(none.status, 401);
    const reader = await send('/v1/traces', '{}', { 'content-type': 'application/json' }, readKey);
    assert.equal(reader.status, 403);
  });

  it("keeps each tenant's spans to itself, even under the same trace id", async () => {
    const traceId = hex(0xe5, 16);
    const other = (await srv.server.context.keys.create({ tenant: 'shop-y', role: 'ingest', createdBy: 't' })).key;
    const otherRead = (await srv.server.context.keys.create({ tenant: 'shop-y', role: 'read', createdBy: 't' })).key;
    assert.equal((await json('/v1/traces', traces([span(traceId, hex(1, 8))], 'mine'))).status, 200);
    const theirs = await send(
      '/v1/traces',
      JSON.stringify(traces([span(traceId, hex(2, 8))], 'theirs')),
      {
        'content-type': 'application/json',
      },
      other,
    );
    assert.equal(theirs.status, 200);
    const mine = await traceOf(traceId);
    assert.deepEqual(
      mine.json.spans.map((s: any) => s.service),
      ['mine'],
    );
    const r = await fetch(`${srv.url}/api/v1/traces/${traceId}`, { headers: { authorization: `Bearer ${otherRead}` } });
    assert.deepEqual(
      ((await r.json()) as any).spans.map((s: any) => s.service),
      ['theirs'],
    );
    const search = await fetch(`${srv.url}/api/v1/traces?service=mine&from=now-1d`, {
      headers: { authorization: `Bearer ${otherRead}` },
    });
    assert.deepEqual(((await search.json()) as any).traces, []);
  });

  it('keeps good log records, maps severity and body, and refuses a bad trace id by name', async () => {
    const traceId = hex(0xc3, 16);
    const r = await json('/v1/logs', {
      resourceLogs: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'order-service' } },
              { key: 'deployment.environment', value: { stringValue: 'staging' } },
            ],
          },
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: ns(0),
                  severityNumber: 13,
                  body: { kvlistValue: { values: [{ key: 'step', value: { stringValue: 'reserve' } }] } },
                  traceId,
                  spanId: hex(7, 8),
                  attributes: [{ key: 'order.id', value: { stringValue: 'ORD-777' } }],
                },
                { timeUnixNano: ns(1), severityText: 'info', body: { stringValue: 'x' }, traceId: '00ff' },
              ],
            },
          ],
        },
      ],
    });
    assert.equal(r.status, 200, r.bytes.toString());
    assert.equal(r.json.partialSuccess.rejectedLogRecords, '1');
    assert.match(r.json.partialSuccess.errorMessage, /logRecords\[1\]: traceId must be 16 bytes/);
    const rows = await queryRows(
      `trace_id:${traceId} | stats count() as n by log.level, message, span_id, order.id, deployment.environment, service.name`,
      1,
    );
    assert.deepEqual(rows, [['WARN', '{"step":"reserve"}', hex(7, 8), 'ORD-777', 'staging', 'order-service', 1]]);
  });

  it('keeps good metric points and refuses unknown metric types and broken histograms', async () => {
    const r = await json('/v1/metrics', {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cart-service' } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'queue.depth',
                  gauge: { dataPoints: [{ timeUnixNano: ns(0), asInt: '17' }] },
                },
                { name: 'mystery.metric' },
                {
                  name: 'latency',
                  histogram: {
                    aggregationTemporality: 1,
                    dataPoints: [
                      { timeUnixNano: ns(0), count: '3', bucketCounts: ['1', '2'], explicitBounds: [1, 2, 3] },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    assert.equal(r.status, 200, r.bytes.toString());
    assert.equal(r.json.partialSuccess.rejectedDataPoints, '2');
    assert.match(r.json.partialSuccess.errorMessage, /metrics\[1\] \("mystery\.metric"\): no known data type/);
    assert.match(
      r.json.partialSuccess.errorMessage,
      /"latency"\)\.dataPoints\[0\]: bucketCounts has 2 entries; with 3 explicitBounds it must have 4/,
    );
    const rows = await queryRows(
      'event.type:metric service.name:"cart-service" | stats max(metric.value) as v by metric.name, metric.type',
      1,
    );
    assert.deepEqual(rows, [['queue.depth', 'gauge', 17]]);
  });

  it('answers 429 with Retry-After under back-pressure, and stores all of every accepted request', async () => {
    const traceIds: string[] = [];
    const bodies = Array.from({ length: 24 }, (_, i) => {
      const traceId = hex(0xd000 + i, 16);
      traceIds.push(traceId);
      const filler = 'x'.repeat(900);
      return JSON.stringify(
        traces(
          Array.from({ length: 100 }, (_, j) =>
            span(traceId, hex(j + 1, 8), { attributes: [{ key: 'filler', value: { stringValue: filler } }] }),
          ),
        ),
      );
    });
    const answers = await Promise.all(bodies.map((b) => send('/v1/traces', b, { 'content-type': 'application/json' })));
    const statuses = answers.map((a) => a.status);
    assert.ok(
      statuses.every((s) => s === 200 || s === 429),
      statuses.join(','),
    );
    assert.ok(statuses.includes(429), 'some were refused');
    assert.ok(statuses.includes(200), 'some were taken');
    for (const [i, a] of answers.entries()) {
      const t = await traceOf(traceIds[i] as string);
      if (a.status === 429) {
        assert.match(a.headers.get('retry-after') ?? '', /^\d+$/);
        assert.match(a.json.error.message, /ingest\.maxPendingBytes/);
        assert.equal(t.status, 404);
      } else assert.equal(t.json.spanCount, 100);
    }
  });
});
