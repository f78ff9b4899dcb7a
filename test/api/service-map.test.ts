/**
 * GET /api/v1/service-map against a real server holding the demo shop's
 * traces (sent as the demo sends them: OTLP protobuf through what
 * POST /v1/traces runs), sampled one in 4 in the older hours (each span with
 * sampling.weight 4) and whole in the last hour. The expected map is
 * computed here from the spans that were sent, apart from the server: a
 * span where a service is entered (no parent, or a parent in another
 * service) counts for that service and for the edge from its parent's
 * service, a client span without a child for its peer (peer.service,
 * db.system, server.address) and the edge to it, weighted; p95 is the linear-interpolated 95th percentile of the
 * kept spans' durations, as DuckDB's quantile_cont.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pipelineSink } from '../../src/cli/demo.ts';
import { backfill } from '../../src/demo/demo-runner.ts';
import { demoSimulatorOptions } from '../../src/demo/demo-shop.ts';
import { IncidentSchedule, OUTAGE_GATEWAY } from '../../src/demo/incidents.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import { SAMPLING_WEIGHT, type DemoSpan } from '../../src/demo/traces.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Math.floor(Date.now() / MIN) * MIN;
const LIVE_START = NOW - HOUR;
const WINDOW = { fromMs: NOW - 3 * HOUR, toMs: NOW };
/** In the last hour, where every trace is kept. */
const OUTAGE = { fromMs: NOW - 45 * MIN, toMs: NOW - 15 * MIN };

interface Figures {
  requests: number;
  errors: number;
  p95Ms: number;
  ratePerSec: number;
  errorRate: number;
}
type Node = Figures & { service: string };
type Edge = Figures & { from: string; to: string };

function simulator(): ShopSimulator {
  const incidents = new IncidentSchedule();
  incidents.add('payment-gateway-outage', OUTAGE.fromMs, OUTAGE.toMs);
  return new ShopSimulator(
    demoSimulatorOptions(
      {
        seed: 21,
        liveStartMs: LIVE_START,
        historyScale: 0.3,
        liveScale: 1,
        infraIntervalMs: 300_000,
        traceSampling: { history: 4, live: 1 },
      },
      incidents.hook,
    ),
  );
}

/** quantile_cont: linear interpolation between the closest ranks. */
function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * 0.95;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/** The expected map of the spans starting in [fromMs, toMs). */
function expectedMap(spans: readonly DemoSpan[], fromMs: number, toMs: number) {
  const inRange = spans.filter((s) => s.startUs >= fromMs * 1000 && s.startUs < toMs * 1000);
  const byId = new Map(inRange.map((s) => [`${s.traceId}/${s.spanId}`, s]));
  const acc = new Map<string, { requests: number; errors: number; durations: number[] }>();
  const add = (key: string, s: DemoSpan) => {
    const w = Number(s.attributes[SAMPLING_WEIGHT] ?? 1);
    const a = acc.get(key) ?? { requests: 0, errors: 0, durations: [] };
    a.requests += w;
    if (s.statusCode === 2) a.errors += w;
    a.durations.push((s.endUs - s.startUs) / 1000);
    acc.set(key, a);
  };
  const parents = new Set(inRange.map((s) => `${s.traceId}/${s.parentSpanId}`));
  for (const s of inRange) {
    const parent = s.parentSpanId ? byId.get(`${s.traceId}/${s.parentSpanId}`) : undefined;
    if (parent?.service !== s.service) {
      add(`node ${s.service}`, s);
      if (parent) add(`edge ${parent.service} ${s.service}`, s);
    }
    // A client span without a child: a call to its peer.
    if (s.kind === 3 && !parents.has(`${s.traceId}/${s.spanId}`)) {
      const peer = s.attributes['peer.service'] ?? s.attributes['db.system'] ?? s.attributes['server.address'];
      if (peer !== undefined) {
        add(`node ${String(peer)}`, s);
        add(`edge ${s.service} ${String(peer)}`, s);
      }
    }
  }
  return new Map([...acc].map(([k, a]) => [k, { requests: a.requests, errors: a.errors, p95Ms: p95(a.durations) }]));
}

describe('service map', () => {
  let server: TestServer;
  let spans: DemoSpan[] = [];

  const map = async (fromMs: number, toMs: number) => {
    const res = await fetch(
      `${server.url}/api/v1/service-map?from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}`,
    );
    assert.equal(res.status, 200);
    return (await res.json()) as { nodes: Node[]; edges: Edge[] };
  };

  before(async () => {
    const s = simulator();
    s.eventsBetween(WINDOW.fromMs - HOUR, WINDOW.toMs);
    spans = s.tracesBetween(WINDOW.fromMs - HOUR, WINDOW.toMs).flatMap((t) => t.spans);
    server = await startTestServer();
    const store = server.server.context.store;
    assert.ok(store.appendSpans);
    const sink = pipelineSink(server.server.context.pipeline, 'default', (rows) => store.appendSpans!(rows));
    const result = await backfill(simulator(), sink, { fromMs: WINDOW.fromMs - HOUR, toMs: WINDOW.toMs });
    assert.equal(result.rejected, 0, result.firstRejection);
    assert.equal(result.spans, spans.length);
  });
  after(async () => {
    await server?.close();
  });

  for (const [name, range] of [
    ['the whole window (sampled hours and whole ones)', WINDOW],
    ['the gateway outage alone', OUTAGE],
  ] as const) {
    it(`has every service and call with the figures of the spans sent: ${name}`, async () => {
      const got = await map(range.fromMs, range.toMs);
      const expected = expectedMap(spans, range.fromMs, range.toMs);
      const seconds = (range.toMs - range.fromMs) / 1000;
      const keys = [
        ...got.nodes.map((n) => [`node ${n.service}`, n] as const),
        ...got.edges.map((e) => [`edge ${e.from} ${e.to}`, e] as const),
      ];
      assert.deepEqual(keys.map(([k]) => k).sort(), [...expected.keys()].sort());
      for (const [key, figures] of keys) {
        const want = expected.get(key);
        assert.ok(want);
        assert.equal(figures.requests, want.requests, `${key} requests`);
        assert.equal(figures.errors, want.errors, `${key} errors`);
        assert.ok(Math.abs(figures.p95Ms - want.p95Ms) < 0.002, `${key} p95 ${figures.p95Ms} vs ${want.p95Ms}`);
        assert.ok(Math.abs(figures.ratePerSec - want.requests / seconds) < 1e-9, `${key} rate`);
        assert.ok(Math.abs(figures.errorRate - want.errors / want.requests) < 1e-9, `${key} error rate`);
      }
      for (const service of ['frontend-service', 'api-gateway', 'cart-service', 'order-service', 'payment-service']) {
        assert.ok(
          got.nodes.some((n) => n.service === service),
          service,
        );
      }
      assert.ok(got.edges.some((e) => e.from === 'api-gateway' && e.to === 'cart-service'));
    });
  }

  it("shows the outage as errors on the payment service's calls to the gateway, and the database as a peer", async () => {
    const errorsTo = (m: { edges: Edge[] }) =>
      m.edges.filter((e) => e.from === 'payment-service' && e.errors > 0 && !e.to.endsWith('-service'));
    const during = errorsTo(await map(OUTAGE.fromMs, OUTAGE.toMs));
    assert.ok(
      during.length > 0,
      `failing gateway calls during the outage in ${JSON.stringify((await map(OUTAGE.fromMs, OUTAGE.toMs)).edges.filter((e) => e.from === 'payment-service'))}`,
    );
    assert.ok(
      during.some((e) => e.to === `${OUTAGE_GATEWAY}-api`),
      during.map((e) => e.to).join(),
    );
    const after = await map(LIVE_START, OUTAGE.fromMs);
    for (const e of during) {
      const later = after.edges.find((x) => x.from === e.from && x.to === e.to);
      assert.ok(!later || later.errorRate < e.errorRate, `${e.to}: ${later?.errorRate} before vs ${e.errorRate}`);
    }
    assert.ok(after.nodes.some((n) => n.service === 'postgresql'));
    assert.ok(after.edges.some((e) => e.from === 'order-service' && e.to === 'postgresql'));
  });

  it('answers an empty map for a range without spans, and 400 for a bad range', async () => {
    const empty = await map(NOW + HOUR, NOW + 2 * HOUR);
    assert.deepEqual([empty.nodes, empty.edges], [[], []]);
    const bad = await fetch(`${server.url}/api/v1/service-map?from=tomorrow-ish`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /from/);
    const reversed = await fetch(
      `${server.url}/api/v1/service-map?from=${new Date(NOW).toISOString()}&to=${new Date(NOW - HOUR).toISOString()}`,
    );
    assert.equal(reversed.status, 400);
  });
});
