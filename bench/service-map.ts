/**
 * The service map over 24 hours of demo traffic (issue 14's benchmark):
 * `shoplens serve` as its own process takes the demo shop's traces of the
 * last 24 hours at scale 1, every trace kept (~190 k traces, ~1 M spans), as
 * OTLP/HTTP protobuf export requests of about 512 spans; then
 * `GET /api/v1/service-map` over those 24 hours is timed. Target: < 1 s.
 *
 *     node --import tsx bench/service-map.ts [--hours 24] [--runs 10]
 */
import { parseArgs } from 'node:util';
import { otlpTracesBody } from '../src/cli/demo-traces.ts';
import { demoSimulatorOptions } from '../src/demo/demo-shop.ts';
import { ShopSimulator } from '../src/demo/shop-simulator.ts';
import type { DemoTrace } from '../src/demo/traces.ts';
import { fmt, percentile, progress } from './stats.ts';
import { ensureBuild, startServerProcess } from './server-process.ts';

export const SERVICE_MAP_TARGET_MS = 1_000;
const HOUR = 3_600_000;

export interface ServiceMapResult {
  readonly hours: number;
  readonly spans: number;
  readonly traces: number;
  readonly nodes: number;
  readonly edges: number;
  readonly fillSeconds: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly runs: number;
}

export async function runServiceMapBench(o: {
  hours: number;
  runs: number;
  log?: (line: string) => void;
}): Promise<ServiceMapResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const compiled = ensureBuild(log);
  const server = await startServerProcess({ SHOPLENS_LIMITS_INGEST_BYTES_PER_SECOND: '0' }, compiled);
  try {
    const key = await server.createKey('ingest');
    const readKey = await server.createKey('read');
    const toMs = Math.floor(Date.now() / 60_000) * 60_000;
    const fromMs = toMs - o.hours * HOUR;
    const simulator = new ShopSimulator(
      demoSimulatorOptions({
        seed: 42,
        liveStartMs: toMs,
        historyScale: 1,
        liveScale: 1,
        infraIntervalMs: 300_000,
        traceSampling: { history: 1, live: 1 },
      }),
    );
    let spans = 0;
    let traces = 0;
    const started = performance.now();
    const inFlight = new Set<Promise<void>>();
    const send = async (batch: DemoTrace[]): Promise<void> => {
      const { body } = otlpTracesBody(batch);
      for (;;) {
        const r = await fetch(`${server.url}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${key}` },
          body,
        });
        await r.arrayBuffer();
        if (r.status === 429 || r.status === 503) {
          await new Promise((res) => setTimeout(res, 200));
          continue;
        }
        if (!r.ok) throw new Error(`POST /v1/traces: HTTP ${r.status}`);
        return;
      }
    };
    for (let t = fromMs; t < toMs; t += HOUR) {
      simulator.eventsBetween(t, t + HOUR);
      const hour = simulator.tracesBetween(t, t + HOUR);
      let batch: DemoTrace[] = [];
      let batchSpans = 0;
      for (const trace of hour) {
        batch.push(trace);
        batchSpans += trace.spans.length;
        if (batchSpans >= 512) {
          const p = send(batch).finally(() => inFlight.delete(p));
          inFlight.add(p);
          if (inFlight.size >= 4) await Promise.race(inFlight);
          batch = [];
          batchSpans = 0;
        }
      }
      if (batch.length > 0) {
        const p = send(batch).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      spans += hour.reduce((n, x) => n + x.spans.length, 0);
      traces += hour.length;
      progress(`service map: ${fmt(spans)} spans of ${Math.round((t + HOUR - fromMs) / HOUR)} / ${o.hours} h sent`);
    }
    await Promise.all(inFlight);
    const fillSeconds = (performance.now() - started) / 1000;
    progress(`service map: ${fmt(spans)} spans in ${fmt(fillSeconds, 1)} s`, true);
    const url = `${server.url}/api/v1/service-map?from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}`;
    const times: number[] = [];
    let answer: { nodes: unknown[]; edges: unknown[] } = { nodes: [], edges: [] };
    for (let k = 0; k < o.runs + 1; k++) {
      const t0 = performance.now();
      const r = await fetch(url, { headers: { authorization: `Bearer ${readKey}` } });
      answer = (await r.json()) as typeof answer;
      if (!r.ok) throw new Error(`GET /api/v1/service-map: HTTP ${r.status}`);
      // The first run warms the caches; the rest are measured.
      if (k > 0) times.push(performance.now() - t0);
    }
    return {
      hours: o.hours,
      spans,
      traces,
      nodes: answer.nodes.length,
      edges: answer.edges.length,
      fillSeconds,
      medianMs: percentile(times, 50),
      p95Ms: percentile(times, 95),
      runs: times.length,
    };
  } finally {
    await server.stop();
  }
}

/** Rows for run.ts's table: what, value, unit, target, met. */
export function serviceMapRows(r: ServiceMapResult): string[][] {
  return [
    [
      `service map over ${r.hours} h of demo traffic (${fmt(r.spans)} spans; ${r.nodes} nodes, ${r.edges} edges), median / p95`,
      `${fmt(r.medianMs, 0)} / ${fmt(r.p95Ms, 0)}`,
      'ms',
      `< ${fmt(SERVICE_MAP_TARGET_MS)}`,
      r.p95Ms < SERVICE_MAP_TARGET_MS ? 'yes' : 'no',
    ],
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { hours: { type: 'string', default: '24' }, runs: { type: 'string', default: '10' } },
  });
  const r = await runServiceMapBench({ hours: Number(values.hours), runs: Number(values.runs) });
  for (const row of serviceMapRows(r)) console.log(row.join(' | '));
  console.log(`sent ${fmt(r.traces)} traces, ${fmt(r.spans)} spans in ${fmt(r.fillSeconds, 1)} s`);
}
