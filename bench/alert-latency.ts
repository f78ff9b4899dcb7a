/**
 * Crossing → notification latency of `shoplens serve` as its own process
 * (its defaults: 1 s refresh interval, 1 s alert tick), to a webhook
 * receiver on loopback. One rule with `every: 10m` and `for: 0s`, so only
 * evaluation on ingest explains a notification within the run, beside the
 * prebuilt pack (on by default), whose rules the traffic keeps busy too. Each
 * crossing is a batch that takes a new gateway's failures over the
 * threshold; after its notification a batch of successes resolves it, then
 * the next crossing comes after a random pause (so crossings land at every
 * phase of the loader's refresh cycle). Meanwhile a background stream of
 * api_request events (which the rule does not read) keeps the loader and
 * the trigger's checks busy. Latency is measured from the ingest request's
 * send and from its acknowledgement to the receiver getting the firing
 * notification.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess } from './server-process.ts';
import { fmt, percentile } from './stats.ts';
import type { Row } from './ingest-table.ts';

export interface AlertLatencyOptions {
  /** Crossings measured. */
  readonly crossings: number;
  /** Background api_request events per second (0: none). */
  readonly backgroundPerSec: number;
  readonly compiled: boolean;
}

export interface AlertLatencyResult {
  /** Seconds from the send of the crossing batch to the notification at the receiver. */
  readonly fromSend: number[];
  /** Seconds from its acknowledgement (the ingest answer) to the notification. */
  readonly fromAck: number[];
  /** Evaluations of the rule by trigger, from /metrics, over the run. */
  readonly evaluations: { readonly batch: number; readonly schedule: number };
  /** Mean seconds from an append's acknowledgement to its visibility, server-side, over the run. */
  readonly meanVisibleSeconds: number;
  /** Visible-row checks that matched no rule (the background stream). */
  readonly checksWithoutRules: number;
  readonly backgroundEvents: number;
  /** The machine's 1-minute load average at the start and at the end (others share it: read the figures with it). */
  readonly loadAverage: readonly [number, number];
}

/** The target: p95 from the crossing batch to the notification leaving Shoplens. */
export const ALERT_LATENCY_P95_TARGET_S = 5;

/**
 * Prometheus + Alertmanager with their defaults, from a crossing to the
 * notification (the figure on this machine): the new value waits
 * for the next scrape (`scrape_interval` 1 m: 30 s on average), then for
 * the next rule evaluation (`evaluation_interval` 1 m: 30 s on average),
 * then Alertmanager holds the new group for `group_wait` (30 s):
 * 30 + 30 + 30 = 90 s on average, 150 s at worst.
 */
export const PROMETHEUS_DEFAULT_REFERENCE_S = 90;

const RULE = `rules:
  - name: BenchGatewayFailures
    query: 'event.type:payment_transaction | stats countif(event.outcome:failure) as failures, count() as total by transaction.gateway | eval failure_rate = failures / total'
    window: 10m
    every: 10m
    condition: failures >= 5 and failure_rate > 0.5
    for: 0s
    severity: P0
    group_by: [transaction.gateway]
`;

function payments(gateway: string, failures: number, successes: number): string {
  const at = new Date().toISOString();
  const lines: string[] = [];
  for (let i = 0; i < failures + successes; i++) {
    lines.push(
      JSON.stringify({
        '@timestamp': at,
        service: { name: 'payment-service' },
        event: { type: 'payment_transaction', outcome: i < failures ? 'failure' : 'success' },
        transaction: { gateway, amount: 42.5, currency: 'USD' },
      }),
    );
  }
  return lines.join('\n');
}

/**
 * A webhook receiver (Shoplens's webhook or Alertmanager's, both send
 * `alerts[]` with `status` and `labels`) that notes when the first firing
 * alert named `alertname` arrived for each value of `label` (performance.now()).
 */
export class Receiver {
  readonly firing = new Map<string, number>();
  readonly waiters = new Map<string, () => void>();
  readonly #alertname: string;
  readonly #label: string;
  #server: Server | undefined;
  port = 0;

  constructor(alertname: string, label: string) {
    this.#alertname = alertname;
    this.#label = label;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = performance.now();
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        let body: { alerts?: { status?: string; labels?: Record<string, string> }[] } | undefined;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
        } catch {
          return;
        }
        for (const alert of body?.alerts ?? []) {
          const gateway = alert.labels?.[this.#label];
          if (alert.status !== 'firing' || alert.labels?.['alertname'] !== this.#alertname) continue;
          if (!gateway || this.firing.has(gateway)) continue;
          this.firing.set(gateway, at);
          this.waiters.get(gateway)?.();
        }
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  /** Resolves with the arrival time of the gateway's firing notification. */
  firingOf(gateway: string, timeoutMs: number): Promise<number> {
    const seen = this.firing.get(gateway);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no notification for ${gateway} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.set(gateway, () => {
        clearTimeout(timer);
        resolve(this.firing.get(gateway) as number);
      });
    });
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export async function runAlertLatency(
  options: AlertLatencyOptions,
  log: (line: string) => void,
): Promise<AlertLatencyResult> {
  const dir = mkdtempSync(join(tmpdir(), 'shoplens-bench-alerts-'));
  const receiver = new Receiver('BenchGatewayFailures', 'transaction.gateway');
  await receiver.start();
  writeFileSync(join(dir, 'bench.yaml'), RULE);
  // Not *.yaml: the rules directory is this one, and every YAML file there is read as rules.
  const configFile = join(dir, 'shoplens-config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      alerts: {
        // The prebuilt pack stays on: its rules are checked (and those reading api_request evaluated) for
        // every background batch, as in a real shop.
        rulesDir: dir,
        receivers: { hook: { type: 'webhook', url: `http://127.0.0.1:${receiver.port}/hook` } },
        // The route's default group_wait (1 s), as Alertmanager's default (30 s) is part of the Prometheus figure.
        routes: [{ receivers: ['hook'], group_by: ['alertname', 'transaction.gateway'] }],
      },
    }),
  );
  const server = await startServerProcess({}, options.compiled, ['--config', configFile]);
  let stopBackground = false;
  let backgroundEvents = 0;
  let background: Promise<void> = Promise.resolve();
  try {
    const key = await server.createKey('ingest');
    const ingest = (body: string) =>
      fetch(`${server.url}/api/v1/events`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${key}` },
      });
    const counter = async (name: string) => (await server.metrics()).get(name) ?? 0;
    // The first tick evaluates the never-evaluated rule; from then on its `every` is 10 minutes away.
    const deadline = Date.now() + 30_000;
    while ((await counter('shoplens_alert_evaluations_total{trigger="schedule"}')) < 1) {
      if (Date.now() > deadline) throw new Error('the rule was never evaluated');
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = await server.metrics();
    const loadAtStart = loadavg()[0] ?? 0;
    if (options.backgroundPerSec > 0) {
      const perBatch = Math.max(1, Math.round(options.backgroundPerSec / 5));
      background = (async () => {
        while (!stopBackground) {
          const at = new Date().toISOString();
          const body = Array.from({ length: perBatch }, (_, i) =>
            JSON.stringify({
              '@timestamp': at,
              service: { name: 'cart-service' },
              event: { type: 'api_request', outcome: i % 20 === 0 ? 'failure' : 'success', duration: 35 },
              http: { request: { method: 'GET' }, response: { status_code: i % 20 === 0 ? 503 : 200 } },
            }),
          ).join('\n');
          if ((await ingest(body)).ok) backgroundEvents += perBatch;
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
    }
    const fromSend: number[] = [];
    const fromAck: number[] = [];
    for (let i = 0; i < options.crossings; i++) {
      const gateway = `gw-${String(i).padStart(3, '0')}`;
      const sent = performance.now();
      const res = await ingest(payments(gateway, 6, 1));
      const acked = performance.now();
      if (!res.ok) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
      const notified = await receiver.firingOf(gateway, 120_000);
      fromSend.push((notified - sent) / 1000);
      fromAck.push((notified - acked) / 1000);
      log(`alerts: crossing ${i + 1}/${options.crossings}: ${((notified - acked) / 1000).toFixed(2)} s after the ack`);
      // Resolve it (successes outweigh the failures), then pause 0.5–2 s: the next crossing lands at another phase.
      const resolved = await ingest(payments(gateway, 0, 10));
      if (!resolved.ok) throw new Error(`ingest answered ${resolved.status}`);
      await new Promise((r) => setTimeout(r, 500 + Math.random() * 1500));
    }
    stopBackground = true;
    await background;
    const after = await server.metrics();
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    return {
      fromSend,
      fromAck,
      evaluations: {
        batch: delta('shoplens_alert_evaluations_total{trigger="batch"}'),
        schedule: delta('shoplens_alert_evaluations_total{trigger="schedule"}'),
      },
      checksWithoutRules: delta('shoplens_alert_batch_checks_total{outcome="none"}'),
      backgroundEvents,
      meanVisibleSeconds:
        delta('shoplens_ingest_visibility_seconds_sum') /
        Math.max(1, delta('shoplens_ingest_visibility_seconds_count')),
      loadAverage: [loadAtStart, loadavg()[0] ?? 0],
    };
  } finally {
    stopBackground = true;
    await background.catch(() => undefined);
    await server.stop();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The table rows: p50/p95 from the ack and from the send, beside the Prometheus + Alertmanager reference. */
export function alertLatencyRows(r: AlertLatencyResult): Row[] {
  const n = r.fromAck.length;
  const p95Ack = percentile(r.fromAck, 95);
  const p95Send = percentile(r.fromSend, 95);
  return [
    [
      `alerts: crossing → notification p50, from the ack (${n} crossings)`,
      fmt(percentile(r.fromAck, 50), 2),
      's',
      '',
      '',
    ],
    [
      `alerts: crossing → notification p95, from the ack`,
      fmt(p95Ack, 2),
      's',
      `≤ ${ALERT_LATENCY_P95_TARGET_S}`,
      p95Ack <= ALERT_LATENCY_P95_TARGET_S ? 'yes' : 'NO',
    ],
    [`alerts: crossing → notification p50, from the send`, fmt(percentile(r.fromSend, 50), 2), 's', '', ''],
    [
      `alerts: crossing → notification p95, from the send`,
      fmt(p95Send, 2),
      's',
      `≤ ${ALERT_LATENCY_P95_TARGET_S}`,
      p95Send <= ALERT_LATENCY_P95_TARGET_S ? 'yes' : 'NO',
    ],
    [
      'alerts: Prometheus + Alertmanager defaults (reference)',
      fmt(PROMETHEUS_DEFAULT_REFERENCE_S),
      's',
      'scrape + 1m eval + 30s group_wait',
      '',
    ],
    ['alerts: of which ack → visible (server, mean over all appends)', fmt(r.meanVisibleSeconds, 2), 's', '', ''],
    [
      'alerts: machine load average (1 min) at start / end',
      `${r.loadAverage[0].toFixed(1)} / ${r.loadAverage[1].toFixed(1)}`,
      '',
      '',
      '',
    ],
    [
      `alerts: evaluations batch / schedule during the run`,
      `${fmt(r.evaluations.batch)} / ${fmt(r.evaluations.schedule)}`,
      '',
      '',
      '',
    ],
  ];
}
