/**
 * The demo shop's traces. First against the events the simulator made
 * (read here apart from the trace builder): every api_request is its
 * service's span (same trace, same span id, duration and error status),
 * every span hangs in its trace under the frontend's root, the exceptions
 * of error events are on their request's span, traces do not depend on how
 * the time is cut, and sampling keeps whole traces by id with their weight.
 * Then through a real server as the demo sends them (OTLP protobuf through
 * what POST /v1/traces runs): GET /api/v1/traces/{id} answers each trace
 * with its spans, and each span's service.version is the release that was
 * running then, as the error events say.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pipelineSink } from '../../src/cli/demo.ts';
import { backfill } from '../../src/demo/demo-runner.ts';
import { demoSimulatorOptions, type DemoShop } from '../../src/demo/demo-shop.ts';
import { IncidentSchedule } from '../../src/demo/incidents.ts';
import { demoDeploys } from '../../src/demo/releases.ts';
import { FRONTEND_SERVICE, SERVICE_DEPLOYMENTS, type Service } from '../../src/demo/shop-model.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import { sampledTrace, SAMPLING_WEIGHT, type DemoTrace } from '../../src/demo/traces.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const LIVE_START = Math.floor(Date.now() / MIN) * MIN;
const DEPLOYS = demoDeploys(LIVE_START);
/** Two hours around the cart service's new release, with a gateway outage in the second. */
const DEPLOY =
  DEPLOYS.find((d) => d.service === 'cart-service' && d.version !== SERVICE_DEPLOYMENTS['cart-service'].version)
    ?.atMs ?? NaN;
const WINDOW = { fromMs: DEPLOY - HOUR, toMs: DEPLOY + HOUR };
const OUTAGE = { fromMs: DEPLOY + 20 * MIN, toMs: DEPLOY + 50 * MIN };

function shop(sampling: number): DemoShop {
  return {
    seed: 11,
    liveStartMs: LIVE_START,
    historyScale: 0.3,
    liveScale: 0.3,
    infraIntervalMs: 300_000,
    traceSampling: { history: sampling, live: sampling },
  };
}

function simulator(sampling: number): ShopSimulator {
  const incidents = new IncidentSchedule();
  incidents.add('payment-gateway-outage', OUTAGE.fromMs, OUTAGE.toMs);
  return new ShopSimulator(demoSimulatorOptions(shop(sampling), incidents.hook));
}

type Body = Record<string, any>;

describe('demo traces', () => {
  let events: { tsMs: number; body: Body }[] = [];
  let traces: DemoTrace[] = [];
  let server: TestServer;
  let source: ShopSimulator;

  before(async () => {
    source = simulator(1);
    events = source.eventsBetween(WINDOW.fromMs, WINDOW.toMs) as typeof events;
    traces = source.tracesBetween(WINDOW.fromMs, WINDOW.toMs);
    server = await startTestServer();
    const store = server.server.context.store;
    assert.ok(store.appendSpans, 'the embedded store keeps spans');
    const sink = pipelineSink(server.server.context.pipeline, 'default', (spans) => store.appendSpans!(spans));
    const result = await backfill(simulator(1), sink, WINDOW);
    assert.equal(result.rejected, 0, result.firstRejection);
    assert.equal(
      result.spans,
      traces.reduce((n, t) => n + t.spans.length, 0),
    );
  });
  after(async () => {
    await server?.close();
  });

  it('makes every api_request its service span: same trace and span id, duration, error status', () => {
    const spans = new Map(traces.flatMap((t) => t.spans.map((s) => [`${s.traceId}/${s.spanId}`, s] as const)));
    const requests = events.filter(
      (e) =>
        e.body.event?.type === 'api_request' &&
        typeof e.body.trace_id === 'string' &&
        e.tsMs >= WINDOW.fromMs + 10 * MIN,
    );
    assert.ok(requests.length > 500, `${requests.length} requests`);
    let errors = 0;
    for (const e of requests) {
      const span = spans.get(`${e.body.trace_id}/${e.body.span_id}`);
      assert.ok(span, `a span for ${e.body.service.name} ${e.body.http.route} at ${new Date(e.tsMs).toISOString()}`);
      assert.equal(span.service, e.body.service.name);
      assert.equal(span.kind, 2, 'a server span');
      assert.ok(
        Math.abs((span.endUs - span.startUs) / 1000 - Number(e.body.event.duration)) < 1,
        `${span.name}: ${(span.endUs - span.startUs) / 1000} ms vs the event's ${e.body.event.duration}`,
      );
      const failed = Number(e.body.http.response.status_code) >= 500;
      if (failed) errors++;
      assert.equal(span.statusCode === 2, failed, `${span.name} status for HTTP ${e.body.http.response.status_code}`);
      assert.equal(
        span.attributes['http.response.status_code'] ?? span.attributes['http.status_code'],
        Number(e.body.http.response.status_code),
      );
    }
    assert.ok(errors >= 5, `${errors} failed requests (the gateway outage)`);
  });

  it('hangs every span in its trace under the frontend root, children inside their parents', () => {
    assert.ok(traces.length > 200, `${traces.length} traces`);
    const services = new Set<string>();
    for (const trace of traces) {
      const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
      assert.equal(byId.size, trace.spans.length, 'span ids unique in a trace');
      const roots = trace.spans.filter((s) => s.parentSpanId === '');
      assert.equal(roots.length, 1, `one root in ${trace.traceId}`);
      assert.equal(roots[0]?.service, 'frontend-service');
      assert.equal(Math.floor((roots[0]?.startUs ?? 0) / 1000), trace.startMs);
      for (const s of trace.spans) {
        services.add(s.service);
        assert.equal(s.traceId, trace.traceId);
        assert.ok(s.endUs >= s.startUs);
        if (s.parentSpanId === '') continue;
        const parent = byId.get(s.parentSpanId);
        assert.ok(parent, `${s.name}'s parent is in the trace`);
        assert.ok(s.startUs >= parent.startUs && s.endUs <= parent.endUs, `${s.name} inside ${parent.name}`);
      }
    }
    for (const service of [
      'api-gateway',
      'user-service',
      'catalog-service',
      'cart-service',
      'order-service',
      'payment-service',
    ]) {
      assert.ok(services.has(service), `${service} in ${[...services].join(', ')}`);
    }
  });

  it('puts the exception of a request error event on its service span in that trace', () => {
    const byTrace = new Map(traces.map((t) => [t.traceId, t]));
    const failures = events.filter(
      (e) => e.body.event?.type === 'error' && byTrace.has(e.body.trace_id) && e.tsMs >= WINDOW.fromMs + 10 * MIN,
    );
    assert.ok(failures.length > 10, `${failures.length} error events in traces`);
    for (const e of failures) {
      const spans = byTrace.get(e.body.trace_id)?.spans.filter((s) => s.service === e.body.service.name) ?? [];
      const withException = spans.filter((s) => s.events.some((x) => x.name === 'exception'));
      assert.ok(
        withException.some((s) =>
          s.events.some(
            (x) =>
              x.attributes['exception.type'] === e.body.exception.type &&
              x.attributes['exception.message'] === e.body.exception.message,
          ),
        ),
        `${e.body.exception.type} on a ${e.body.service.name} span of ${e.body.trace_id}`,
      );
    }
  });

  it('gives the same traces however the time is cut, and samples whole traces by id with their weight', () => {
    const cut = WINDOW.fromMs + 37 * MIN + 123;
    const a = simulator(1);
    a.eventsBetween(WINDOW.fromMs, cut);
    const first = a.tracesBetween(WINDOW.fromMs, cut);
    a.eventsBetween(cut, WINDOW.toMs);
    const second = a.tracesBetween(cut, WINDOW.toMs);
    assert.deepEqual(
      [...first, ...second].map((t) => JSON.stringify(t)),
      traces.map((t) => JSON.stringify(t)),
    );

    const s = simulator(10);
    s.eventsBetween(WINDOW.fromMs, WINDOW.toMs);
    const sampled = s.tracesBetween(WINDOW.fromMs, WINDOW.toMs);
    const expected = traces.filter((t) => sampledTrace(t.traceId, 10));
    assert.ok(sampled.length > 10 && sampled.length < traces.length / 5, `${sampled.length} of ${traces.length}`);
    assert.deepEqual(
      sampled.map((t) => t.traceId),
      expected.map((t) => t.traceId),
    );
    for (const [i, t] of sampled.entries()) {
      assert.equal(t.spans.length, expected[i]?.spans.length);
      for (const span of t.spans) assert.equal(span.attributes[SAMPLING_WEIGHT], 10);
    }
  });

  it('serves each trace from the store with its spans, and service.version is the release then running', async () => {
    // Errors name the release they happened in: the spans of the same service at the same time must agree.
    const releases = new Map<string, Set<string>>();
    for (const e of events) {
      if (e.body.event?.type !== 'error' || !e.body.service?.version) continue;
      const key = `${e.body.service.name} ${e.tsMs < DEPLOY ? 'before' : 'after'}`;
      (releases.get(key) ?? releases.set(key, new Set()).get(key))?.add(e.body.service.version);
    }
    const step = Math.max(1, Math.floor(traces.length / 40));
    let checked = 0;
    for (let i = 0; i < traces.length; i += step) {
      const trace = traces[i] as DemoTrace;
      const res = await fetch(`${server.url}/api/v1/traces/${trace.traceId}`);
      assert.equal(res.status, 200, trace.traceId);
      const body = (await res.json()) as {
        spans: {
          spanId: string;
          parentSpanId: string | null;
          service: string;
          resource: Record<string, unknown>;
          durationMs: number;
          status: { code: string };
        }[];
      };
      assert.deepEqual(body.spans.map((s) => s.spanId).sort(), trace.spans.map((s) => s.spanId).sort());
      for (const s of body.spans) {
        const sent = trace.spans.find((x) => x.spanId === s.spanId);
        assert.ok(sent);
        assert.equal(s.service, sent.service);
        assert.equal(s.parentSpanId ?? '', sent.parentSpanId);
        assert.ok(Math.abs(s.durationMs - (sent.endUs - sent.startUs) / 1000) < 0.01);
        assert.equal(s.status.code === 'error', sent.statusCode === 2);
        assert.equal(
          s.resource['service.version'],
          sent.service === FRONTEND_SERVICE.name
            ? FRONTEND_SERVICE.version
            : source.releaseOf(sent.service as Service, sent.startUs / 1000),
        );
        const known = releases.get(`${sent.service} ${sent.startUs / 1000 < DEPLOY ? 'before' : 'after'}`);
        if (known && known.size === 1 && Math.abs(sent.startUs / 1000 - DEPLOY) > MIN) {
          assert.ok(
            known.has(String(s.resource['service.version'])),
            `${sent.service} ${[...known].join()} vs ${s.resource['service.version']}`,
          );
        }
      }
      checked++;
    }
    assert.ok(checked >= 30);
  });
});
