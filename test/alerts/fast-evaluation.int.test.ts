/**
 * Evaluation on ingest, end to end: a real server (its own engine, started,
 * real clock), a real webhook receiver on loopback, and a rule whose `every`
 * is 10 minutes, so that only the batch trigger can explain a notification
 * within the test. A batch crossing the threshold is notified without any
 * clock being advanced; a batch of another event type evaluates nothing; a
 * flood of batches yields a bounded number of evaluations; a `for:` still
 * holds, and the alert fires when it has elapsed, not at the next `every`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { HttpRecorder } from './peers.ts';

const RULES = `rules:
  - name: GatewayFailures
    query: 'event.type:payment_transaction | stats countif(event.outcome:failure) as failures, count() as total by transaction.gateway'
    window: 10m
    every: 10m
    condition: failures >= 5
    for: 0s
    severity: P0
    group_by: [transaction.gateway]
  - name: RefundBurst
    query: 'event.type:refund_issued | stats count() as refunds'
    window: 10m
    every: 10m
    condition: refunds >= 3
    for: 2s
    severity: P1
`;

function payments(gateway: string, failures: number, successes = 0): string {
  const at = new Date().toISOString();
  return Array.from({ length: failures + successes }, (_, i) =>
    JSON.stringify({
      '@timestamp': at,
      event: { type: 'payment_transaction', outcome: i < failures ? 'failure' : 'success' },
      transaction: { gateway, amount: 10 },
    }),
  ).join('\n');
}

/** Polls `check` until it answers a value (a condition, not a time, is asserted; the limit only ends a hung test). */
async function until<T>(what: string, check: () => Promise<T | undefined>, limitMs = 60_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('evaluation on ingest (batch-triggered)', () => {
  let server: TestServer;
  let rulesDir: string;
  const webhook = new HttpRecorder();

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const escaped = name.replace(/[{}"]/g, (c) => `\\${c}`);
    return Number(new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  }
  const scheduled = () => metric('shoplens_alert_evaluations_total{trigger="schedule"}');
  const triggered = () => metric('shoplens_alert_evaluations_total{trigger="batch"}');
  const checksNone = () => metric('shoplens_alert_batch_checks_total{outcome="none"}');
  const notified = (gateway: string) =>
    webhook
      .on('/hook')
      .filter((r) =>
        r.json?.alerts?.some((a: any) => a.status === 'firing' && a.labels['transaction.gateway'] === gateway),
      );

  before(async () => {
    await webhook.start();
    rulesDir = mkdtempSync(join(tmpdir(), 'shoplens-test-rules-'));
    writeFileSync(join(rulesDir, 'gateways.yaml'), RULES);
    server = await startTestServer({
      alerts: {
        rulesDir,
        pack: false,
        receivers: { hook: { type: 'webhook', url: webhook.url('/hook') } },
        routes: [{ receivers: ['hook'], group_by: ['alertname', 'transaction.gateway'], group_wait: '0s' }],
      },
    });
    // The first tick evaluates the never-evaluated rule; after it, its next `every` is 10 minutes away.
    await until('the first scheduled evaluation', async () => ((await scheduled()) >= 1 ? true : undefined));
  });
  after(async () => {
    await server?.close();
    await webhook.stop();
    rmSync(rulesDir, { recursive: true, force: true });
  });

  it('a batch of another event type is checked and evaluates no rule', async () => {
    const none = await checksNone();
    const before = await triggered();
    const requests = Array.from({ length: 20 }, () =>
      JSON.stringify({ event: { type: 'api_request', outcome: 'failure' }, service: { name: 'cart' } }),
    ).join('\n');
    assert.equal((await post(`${server.url}/api/v1/events?refresh=wait_for`, requests)).status, 200);
    await until('the check of the api_request batch', async () => ((await checksNone()) > none ? true : undefined));
    assert.equal(await triggered(), before, 'no rule was evaluated for rows no rule reads');
    assert.equal(webhook.on('/hook').length, 0);
  });

  it("a batch crossing the threshold is notified without waiting for the rule's every", async () => {
    const scheduledBefore = await scheduled();
    // Four failures: evaluated (the rule reads payments), not firing.
    const quiet = await triggered();
    assert.equal((await post(`${server.url}/api/v1/events?refresh=wait_for`, payments('stripe', 4, 3))).status, 200);
    await until('the evaluation of the quiet batch', async () => ((await triggered()) > quiet ? true : undefined));
    assert.equal(notified('stripe').length, 0);
    // The fifth failure crosses it: no `?refresh` (as a shop sends), nothing advanced, nobody ticks the engine.
    assert.equal((await post(`${server.url}/api/v1/events`, payments('stripe', 1))).status, 200);
    const [hook] = await until('the webhook notification', async () => {
      const got = notified('stripe');
      return got.length > 0 ? got : undefined;
    });
    const alert = hook!.json.alerts.find((a: any) => a.labels['transaction.gateway'] === 'stripe');
    assert.equal(alert.labels.alertname, 'GatewayFailures');
    assert.equal(alert.values.failures, 5);
    assert.equal(alert.values.total, 8);
    assert.equal(await scheduled(), scheduledBefore, 'no scheduled evaluation ran: the batch trigger did it');
  });

  it('a flood of batches yields a bounded number of evaluations (at most one per rule per second)', async () => {
    const before = await triggered();
    const started = Date.now();
    const batches = 40;
    // Each request its own segment (`refresh=true` seals it): 40 visible batches in quick succession.
    for (let i = 0; i < batches - 1; i++) {
      assert.equal((await post(`${server.url}/api/v1/events?refresh=true`, payments('adyen', 0, 1))).status, 200);
    }
    // The last one crosses the threshold: its notification means every batch before it was seen.
    assert.equal((await post(`${server.url}/api/v1/events?refresh=true`, payments('adyen', 5))).status, 200);
    await until('the notification of the flood', async () => (notified('adyen').length > 0 ? true : undefined));
    const elapsedSeconds = (Date.now() - started) / 1000;
    const evaluations = (await triggered()) - before;
    assert.ok(evaluations >= 1);
    assert.ok(evaluations < batches / 2, `${evaluations} evaluations for ${batches} batches`);
    // One spacing (1 s) between triggered evaluations of the rule, plus the first one.
    assert.ok(
      evaluations <= Math.floor(elapsedSeconds) + 1,
      `${evaluations} evaluations in ${elapsedSeconds.toFixed(1)} s`,
    );
    assert.equal(notified('adyen').length, 1);
  });
  it('a batch starts a pending alert; it fires once its for: has elapsed, without a scheduled evaluation', async () => {
    const scheduledBefore = await scheduled();
    const refunds = Array.from({ length: 3 }, () => JSON.stringify({ event: { type: 'refund_issued' } })).join('\n');
    assert.equal((await post(`${server.url}/api/v1/events`, refunds)).status, 200);
    await until('the refund notification', async () =>
      webhook.on('/hook').some((r) => r.json?.alerts?.some((a: any) => a.labels.alertname === 'RefundBurst'))
        ? true
        : undefined,
    );
    const { history } = (await (await fetch(`${server.url}/api/v1/alerts/rules/RefundBurst/history`)).json()) as {
      history: { from: string; to: string; atMs: number }[];
    };
    const pending = history.find((t) => t.to === 'pending');
    const firing = history.find((t) => t.to === 'firing');
    assert.ok(pending && firing, JSON.stringify(history));
    assert.ok(firing.atMs - pending.atMs >= 2000, `pending at ${pending.atMs}, firing at ${firing.atMs}`);
    assert.equal(await scheduled(), scheduledBefore, 'the for: was waited out by the trigger, not the schedule');
  });
});
