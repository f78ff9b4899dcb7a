/**
 * Payment-gateway outage detection over demo seeds 1–30 (part of `npm run bench`, or alone:
 * `node --import tsx bench/payment-outage-seeds.ts [--seeds 1-30]`). For each seed, the
 * `payment-gateway-outage` incident in its own tenant (2 h of history at 10 % of traffic, then 75 minutes at
 * full density, the incident from one hour in, as test/alerts/pack-demo.test.ts), the pack run on an injected
 * clock in 1 s steps; the time from the incident's recorded start to the first notification of
 * PaymentGatewayDown naming stripe, shop time. Prints each seed, the median, the max and the count within the
 * 90 s target (issue 13). Asserts nothing.
 */
import { parseArgs } from 'node:util';
import { loadScenario, MINUTE_MS } from '../test/alerts/demo-scenario.ts';
import { firstNotification, runPack } from '../test/alerts/pack-run.ts';
import { HttpRecorder } from '../test/alerts/peers.ts';
import { startTestServer } from '../test/helpers/server.ts';
import { DETECTION } from './alert-pack.ts';
import { fmt, median } from './stats.ts';

const INCIDENT_END = Date.UTC(2025, 9, 15, 14, 15);
const INCIDENT = 'payment-gateway-outage';

export interface OutageSeedsResult {
  readonly perSeed: { seed: number; latencyS: number | null; wrongGateway: string[] }[];
  readonly medianS: number | null;
  readonly maxS: number | null;
  readonly withinTarget: number;
  readonly targetS: number;
  readonly seconds: number;
}

export async function runOutageSeeds(
  seeds: readonly number[],
  log: (line: string) => void,
): Promise<OutageSeedsResult> {
  const started = performance.now();
  const { rule, labels, targetMs } = DETECTION[INCIDENT];
  const server = await startTestServer({ alerts: { enabled: false } });
  const webhook = await new HttpRecorder().start();
  const perSeed: OutageSeedsResult['perSeed'] = [];
  try {
    for (const seed of seeds) {
      const tenant = `outage-s${seed}`;
      const scenario = await loadScenario(server, {
        endMs: INCIDENT_END,
        tenant,
        seed,
        incident: INCIDENT,
        fullHours: 1.25,
        incidentMinutes: 30,
        historyHours: 2,
      });
      const { fromMs } = scenario.incident!;
      const run = await runPack(server.server.context.store, webhook, tenant, {
        fromMs: fromMs - 5 * MINUTE_MS + 7_000,
        fineFromMs: fromMs,
        fineToMs: fromMs + 10 * MINUTE_MS,
        toMs: fromMs + 10 * MINUTE_MS,
        fineStepMs: 1_000,
        live: { arrivals: scenario.arrivals, rules: [rule] },
        until: (sent) => firstNotification(sent, rule, labels) !== undefined,
      });
      const notified = firstNotification(run.notifications, rule, labels);
      const latencyS = notified ? (Date.parse(notified.createdAt) - fromMs) / 1000 : null;
      // P0 pages naming a gateway that is not down (before the run stopped at the detection).
      const wrong = new Set<string>();
      for (const n of run.notifications)
        for (const a of n.alerts) {
          const gateway = a.labels['transaction.gateway'] ?? a.labels['health_check.gateway'];
          if (
            a.status === 'firing' &&
            ['P0', 'critical'].includes(a.labels['severity'] ?? '') &&
            gateway !== undefined &&
            gateway !== 'stripe'
          )
            wrong.add(`${a.labels['alertname']} ${gateway}`);
        }
      perSeed.push({ seed, latencyS, wrongGateway: [...wrong] });
      log(
        `payment outage: seed ${seed}: ${rule} ${latencyS === null ? 'not notified in 10 min' : `${latencyS} s`}` +
          (wrong.size > 0 ? `; P0 naming a healthy gateway: ${[...wrong].join(', ')}` : ''),
      );
    }
  } finally {
    await server.close();
    await webhook.stop();
  }
  const caught = perSeed.map((s) => s.latencyS).filter((s): s is number => s !== null);
  const sorted = [...caught].sort((a, b) => a - b);
  return {
    perSeed,
    medianS: perSeed.length === caught.length && sorted.length > 0 ? median(sorted) : null,
    maxS: perSeed.length === caught.length && sorted.length > 0 ? sorted[sorted.length - 1]! : null,
    withinTarget: caught.filter((s) => s <= targetMs / 1000).length,
    targetS: targetMs / 1000,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Table rows: metric, value, unit, target, meets target. */
export function outageSeedsRows(r: OutageSeedsResult): string[][] {
  const n = r.perSeed.length;
  return [
    [
      `payment outage over ${n} seeds: median detection`,
      r.medianS === null ? 'missed' : fmt(r.medianS),
      's',
      `≤ ${r.targetS}`,
      r.medianS !== null && r.medianS <= r.targetS ? 'yes' : 'NO',
    ],
    [
      `payment outage over ${n} seeds: max detection`,
      r.maxS === null ? 'missed' : fmt(r.maxS),
      's',
      `≤ ${r.targetS}`,
      r.maxS !== null && r.maxS <= r.targetS ? 'yes' : 'NO',
    ],
    [
      `payment outage: seeds with a P0 naming a healthy gateway`,
      `${r.perSeed.filter((s) => s.wrongGateway.length > 0).length}/${n}`,
      '',
      `0/${n}`,
      r.perSeed.every((s) => s.wrongGateway.length === 0) ? 'yes' : 'NO',
    ],
    [
      `payment outage: seeds within ${r.targetS} s`,
      `${r.withinTarget}/${n}`,
      '',
      `${n}/${n}`,
      r.withinTarget === n ? 'yes' : 'NO',
    ],
  ];
}

/** `1-30` or `7,18,23`. */
export function parseSeeds(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new Error(`--seeds: expected a list like 1-30 or 7,18, got "${text}"`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let s = from; s <= to; s++) out.push(s);
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seeds: { type: 'string', default: '1-30' } } });
  const result = await runOutageSeeds(parseSeeds(values.seeds), (line) => console.error(line));
  for (const { seed, latencyS } of result.perSeed)
    console.log(`seed ${seed} | ${latencyS === null ? 'missed' : latencyS} s`);
  for (const row of outageSeedsRows(result)) console.log(row.join(' | '));
  console.log(`${fmt(result.seconds)} s in all`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
