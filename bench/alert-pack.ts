/**
 * The prebuilt rule pack on the demo shop (part of `npm run bench`, or alone:
 * `node --import tsx bench/alert-pack.ts`):
 * 1. Detection latency per incident: each of the seven incidents in its own
 *    tenant (2 h of history at 10 % of traffic, 24 h for conversion-drop,
 *    then 75 minutes at full density, the incident from one hour in, as
 *    test/alerts/pack-demo.test.ts), the pack run on an injected clock
 *    in 1 s steps (each rule on its own `every`, `for`, the rule that names
 *    the incident also on each visible batch as the server does, the in-app
 *    inbox at once and a real webhook receiver after group_wait 1 s), from
 *    the incident's recorded start to the first notification of the rule
 *    that names it, shop time.
 * 2. False alerts on a clean week: Monday to Monday of clean traffic at
 *    `--alert-density` (default 1: the demo's full traffic) after a day of
 *    history, the pack evaluated every `--alert-step` of shop time (default
 *    10 m: a condition must hold at one evaluation to be seen, so shorter
 *    blips are missed; `for` is applied at that resolution). Alert episodes
 *    (P0–P2, P3) per simulated day, and condition episodes (`for` not
 *    applied, an upper bound).
 * Prints figures beside the targets and the reference; asserts nothing.
 */
import { parseArgs } from 'node:util';
import { INCIDENT_NAMES, type IncidentName } from '../src/demo/incidents.ts';
import { parseDuration } from '../src/util/duration.ts';
import { runCleanWeek } from '../test/alerts/clean-week.ts';
import { loadScenario, MINUTE_MS } from '../test/alerts/demo-scenario.ts';
import { describeEpisodes, firstNotification, runPack, type Episode } from '../test/alerts/pack-run.ts';
import { HttpRecorder } from '../test/alerts/peers.ts';
import { startTestServer } from '../test/helpers/server.ts';
import { fmt } from './stats.ts';

/**
 * Prometheus + Alertmanager with their defaults (scrape 1 m, evaluation 1 m,
 * group_wait 30 s), measured on this machine: about 90 s from a threshold
 * crossing to the notification (issue 13).
 */
export const PROMETHEUS_DEFAULT_S = 90;

/** The rule that names each incident, its labels, and the detection target (issue 13), ms. */
export const DETECTION: Record<IncidentName, { rule: string; labels: Record<string, string>; targetMs: number }> = {
  'payment-gateway-outage': {
    rule: 'PaymentGatewayDown',
    labels: { 'health_check.gateway': 'stripe' },
    targetMs: 90_000,
  },
  'checkout-latency': { rule: 'CheckoutLatencyP95', labels: { 'http.route': '/api/checkout' }, targetMs: 90_000 },
  'fraud-burst': { rule: 'HighRiskTransactions', labels: {}, targetMs: 90_000 },
  'error-spike': { rule: 'ErrorRateCritical', labels: { 'service.name': 'catalog-service' }, targetMs: 90_000 },
  'checkout-failure-promo': { rule: 'CheckoutErrorRate', labels: {}, targetMs: 90_000 },
  'stock-out': { rule: 'BestsellerLowStock', labels: { 'product.id': 'PHONE001' }, targetMs: 90_000 },
  'conversion-drop': { rule: 'ConversionDrop', labels: {}, targetMs: 10 * MINUTE_MS },
};

export interface AlertPackOptions {
  readonly density: number;
  readonly stepMs: number;
  readonly days: number;
}

export interface AlertPackResult {
  readonly detections: { incident: IncidentName; rule: string; latencyS: number | null; targetS: number }[];
  readonly days: number;
  readonly alerts: Episode[];
  readonly conditions: Episode[];
  readonly events: number;
  readonly seconds: number;
}

/** A fixed Wednesday afternoon (the incident starts at 14:00). */
const INCIDENT_END = Date.UTC(2025, 9, 15, 14, 15);

export async function runAlertPack(options: AlertPackOptions, log: (line: string) => void): Promise<AlertPackResult> {
  const started = performance.now();
  const server = await startTestServer({ alerts: { enabled: false } });
  const webhook = await new HttpRecorder().start();
  try {
    const detections: AlertPackResult['detections'] = [];
    for (const incident of INCIDENT_NAMES) {
      const scenario = await loadScenario(server, {
        endMs: INCIDENT_END,
        tenant: incident,
        incident,
        fullHours: 1.25,
        incidentMinutes: 30,
        historyHours: incident === 'conversion-drop' ? 24 : 2,
      });
      const { fromMs } = scenario.incident!;
      const { rule, labels, targetMs } = DETECTION[incident];
      const run = await runPack(server.server.context.store, webhook, incident, {
        fromMs: fromMs - 5 * MINUTE_MS + 7_000,
        fineFromMs: fromMs,
        fineToMs: fromMs + 12 * MINUTE_MS,
        toMs: fromMs + 12 * MINUTE_MS,
        // As test/alerts/pack-demo.test.ts: the server's 1 s tick, the rule evaluated on each visible batch.
        fineStepMs: 1_000,
        live: { arrivals: scenario.arrivals, rules: [rule] },
        until: (sent) =>
          firstNotification(
            sent.filter((n) => n.receiver === 'hook'),
            rule,
            labels,
          ) !== undefined,
      });
      const notified = firstNotification(run.notifications, rule, labels);
      const latencyS = notified ? (Date.parse(notified.createdAt) - fromMs) / 1000 : null;
      detections.push({ incident, rule, latencyS, targetS: targetMs / 1000 });
      log(`alert pack: ${incident}: ${rule} ${latencyS === null ? 'not notified in 12 min' : `${latencyS} s`}`);
    }
    log(`alert pack: clean week at density ${options.density}, evaluated every ${options.stepMs / 1000} s...`);
    const week = await runCleanWeek(server, webhook, {
      tenant: 'clean-week',
      density: options.density,
      spans: options.days === 7 ? [] : [[0, options.days * 24]],
      historyDays: 1,
      stepMs: options.stepMs,
    });
    for (const line of describeEpisodes(week.alerts)) log(`alert pack: clean week alert: ${line}`);
    for (const line of describeEpisodes(week.conditions)) log(`alert pack: clean week condition: ${line}`);
    return {
      detections,
      days: week.hours / 24,
      alerts: week.alerts,
      conditions: week.conditions,
      events: week.events,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await server.close();
    await webhook.stop();
  }
}

/** Table rows: metric, value, unit, target, meets target. */
export function alertPackRows(r: AlertPackResult): string[][] {
  const rows: string[][] = [];
  for (const d of r.detections) {
    rows.push([
      `detection ${d.incident} (${d.rule})`,
      d.latencyS === null ? 'missed' : fmt(d.latencyS),
      's',
      `≤ ${fmt(d.targetS)} (Prometheus+AM defaults ~${PROMETHEUS_DEFAULT_S} s after the crossing)`,
      d.latencyS !== null && d.latencyS <= d.targetS ? 'yes' : 'NO',
    ]);
  }
  const urgent = r.alerts.filter((e) => e.priority !== 'P3').length;
  const info = r.alerts.filter((e) => e.priority === 'P3').length;
  const weekBudget = (r.days / 7) * 1;
  rows.push([
    `clean traffic: P0–P2 alert episodes per day (${fmt(r.days, 1)} days)`,
    fmt(urgent / r.days, 2),
    '/day',
    `≤ ${fmt(1 / 7, 2)} (1 a week)`,
    urgent <= Math.max(1, weekBudget) ? 'yes' : 'NO',
  ]);
  rows.push([
    `clean traffic: P3 alert episodes per day`,
    fmt(info / r.days, 2),
    '/day',
    '≤ 1',
    info / r.days <= 1 ? 'yes' : 'NO',
  ]);
  rows.push([
    `clean traffic: condition episodes per day (for not applied)`,
    fmt(r.conditions.length / r.days, 2),
    '/day',
    '',
    '',
  ]);
  return rows;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'alert-density': { type: 'string', default: '1' },
      'alert-step': { type: 'string', default: '10m' },
      'alert-days': { type: 'string', default: '7' },
    },
  });
  const result = await runAlertPack(
    {
      density: Number(values['alert-density']),
      stepMs: parseDuration(values['alert-step']),
      days: Number(values['alert-days']),
    },
    (line) => console.error(line),
  );
  for (const row of alertPackRows(result)) console.log(row.join(' | '));
  console.log(`${fmt(result.events)} clean-week events; ${fmt(result.seconds)} s in all`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
