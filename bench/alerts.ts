/**
 * Alerting benchmark (`node --import tsx bench/alerts.ts`):
 * 1. Notification latency: POST the events that trigger a rule (`every: 5s`)
 *    to a running server, and time until a loopback webhook receiver gets the
 *    notification. Target p95 <= 10 s.
 * 2. Pack evaluation: the whole prebuilt pack over 7 days of demo data (the
 *    demo's backfill density), one full cycle. Target <= 1 s.
 * Prints the figures; asserts nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateRule } from '../src/alerts/alert-evaluator.ts';
import { loadRuleDirectory } from '../src/alerts/rule-files.ts';
import { pipelineSink } from '../src/cli/demo-sinks.ts';
import { backfill } from '../src/demo/demo-runner.ts';
import { ShopSimulator } from '../src/demo/shop-simulator.ts';
import { startTestServer } from '../test/helpers/server.ts';
import { HttpRecorder } from '../test/alerts/peers.ts';

const { values } = parseArgs({
  options: { samples: { type: 'string', default: '20' }, cycles: { type: 'string', default: '5' } },
});

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
}

async function notificationLatency(samples: number): Promise<number[]> {
  const rulesDir = mkdtempSync(join(tmpdir(), 'shoplens-bench-rules-'));
  writeFileSync(
    join(rulesDir, 'bench.yaml'),
    `rules:
  - name: GatewayDown
    query: 'event.type:payment_transaction | stats countif(event.outcome:success) as ok, count() as total by transaction.gateway'
    window: 1m
    every: 5s
    condition: total >= 5 and ok / total < 0.5
    severity: P0
    group_by: [transaction.gateway]
`,
  );
  const webhook = await new HttpRecorder().start();
  const server = await startTestServer({
    alerts: {
      rulesDir,
      pack: false,
      receivers: { hook: { type: 'webhook', url: webhook.url('/hook') } },
      routes: [{ receivers: ['hook'], group_by: ['alertname', 'transaction.gateway'], group_wait: '0s' }],
    },
  } as never);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const gateway = `gw-${i}`;
      const body = Array.from({ length: 6 }, () =>
        JSON.stringify({ event: { type: 'payment_transaction', outcome: 'failure' }, transaction: { gateway } }),
      ).join('\n');
      const started = performance.now();
      const res = await fetch(`${server.url}/api/v1/events`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-ndjson' },
      });
      if (!res.ok) throw new Error(`ingest answered ${res.status}`);
      for (;;) {
        if (
          webhook.received.some((r) =>
            r.json?.alerts?.some(
              (a: { labels: Record<string, string> }) => a.labels['transaction.gateway'] === gateway,
            ),
          )
        )
          break;
        if (performance.now() - started > 60_000) throw new Error(`no notification for ${gateway} within 60 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      latencies.push((performance.now() - started) / 1000);
      // Spread the triggers over the 5 s evaluation cycle.
      await new Promise((r) => setTimeout(r, 700 + Math.random() * 1500));
    }
  } finally {
    await server.close();
    await webhook.stop();
    rmSync(rulesDir, { recursive: true, force: true });
  }
  return latencies;
}

async function packEvaluation(cycles: number): Promise<{ events: number; cycleMs: number[]; slowest: string }> {
  const server = await startTestServer({ alerts: { enabled: false } });
  const endMs = Math.floor(Date.now() / 60_000) * 60_000;
  const fullFrom = endMs - 3_600_000;
  const simulator = new ShopSimulator({ seed: 42, trafficScale: (t) => (t < fullFrom ? 0.1 : 1) });
  const summary = await backfill(simulator, pipelineSink(server.server.context.pipeline), {
    fromMs: endMs - 7 * 86_400_000,
    toMs: endMs,
  });
  const { rules } = loadRuleDirectory('/nonexistent', true);
  const cycleMs: number[] = [];
  const perRule = new Map<string, number>();
  try {
    for (let c = 0; c < cycles; c++) {
      const started = performance.now();
      for (const rule of rules) {
        const t = performance.now();
        await evaluateRule(server.server.context.store, 'default', rule, endMs + c * 30_000);
        perRule.set(rule.id, Math.max(perRule.get(rule.id) ?? 0, performance.now() - t));
      }
      cycleMs.push(performance.now() - started);
    }
  } finally {
    await server.close();
  }
  const slowest = [...perRule.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, v]) => `${k} ${v.toFixed(0)} ms`)
    .join(', ');
  return { events: summary.accepted, cycleMs, slowest };
}

const latencies = (await notificationLatency(Number(values.samples))).sort((a, b) => a - b);
console.log(
  `notification latency (every: 5s, ${latencies.length} triggers): p50 ${quantile(latencies, 0.5).toFixed(2)} s, ` +
    `p95 ${quantile(latencies, 0.95).toFixed(2)} s, max ${latencies.at(-1)?.toFixed(2)} s (target p95 <= 10 s)`,
);
const pack = await packEvaluation(Number(values.cycles));
const sorted = [...pack.cycleMs].sort((a, b) => a - b);
console.log(
  `pack evaluation (${pack.events} demo events over 7 days, 19 rules): median cycle ${quantile(sorted, 0.5).toFixed(0)} ms, ` +
    `max ${sorted.at(-1)?.toFixed(0)} ms (target <= 1000 ms); slowest rules: ${pack.slowest}`,
);
