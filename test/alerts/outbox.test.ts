/**
 * Delivery guarantees and silences, with a real webhook receiver on
 * loopback and an injected clock: a receiver that is down gets every
 * notification once, in order, when it is back; failures show in /metrics
 * and the notifications API; a silence mutes a matching alert.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AlertEngine } from '../../src/alerts/alert-engine.ts';
import { alertsConfigSchema } from '../../src/alerts/alerts-config.ts';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { freePort, HttpRecorder } from './peers.ts';

const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;
const RULES = `rules:
  - name: ServiceErrors
    query: 'event.type:api_request | stats countif(http.response.status_code:>=500) as errors, count() as total by service.name'
    window: 5m
    every: 10s
    condition: errors >= 3
    severity: P2
    group_by: [service.name]
`;

function requests(atMs: number, service: string, errors: number): string {
  return Array.from({ length: errors + 2 }, (_, i) =>
    JSON.stringify({
      '@timestamp': new Date(atMs + i * 1000).toISOString(),
      service: { name: service },
      event: { type: 'api_request' },
      http: { response: { status_code: i < errors ? 503 : 200 } },
    }),
  ).join('\n');
}

describe('outbox and silences', () => {
  let server: TestServer;
  let rulesDir: string;
  let port: number;
  let clock = T0;
  let engine: AlertEngine;
  const webhook = new HttpRecorder();

  before(async () => {
    rulesDir = mkdtempSync(join(tmpdir(), 'shoplens-test-rules-'));
    writeFileSync(join(rulesDir, 'errors.yaml'), RULES);
    server = await startTestServer({ alerts: { enabled: false } });
    port = await freePort();
    engine = new AlertEngine({
      store: server.server.context.store,
      now: () => clock,
      config: alertsConfigSchema.parse({
        rulesDir,
        pack: false,
        receivers: { hook: { type: 'webhook', url: `http://127.0.0.1:${port}/hook` } },
        routes: [
          { receivers: ['hook'], group_by: ['alertname', 'service.name'], group_wait: '0s', group_interval: '10s' },
        ],
        outbox: { backoffBase: '5s', backoffMax: '40s' },
      }),
      observer: {
        onDelivery: (o) =>
          server.server.context.metrics.alertNotifications.inc({
            receiver_type: o.type,
            outcome: o.ok ? 'delivered' : 'failed',
          }),
      },
    });
  });
  after(async () => {
    await server?.close();
    await webhook.stop();
    rmSync(rulesDir, { recursive: true, force: true });
  });

  it('keeps a notification while the receiver is down, retries with backoff, delivers it once when it is back', async () => {
    await post(`${server.url}/api/v1/events?refresh=wait_for`, requests(T0 - 60_000, 'cart-service', 5));
    await engine.tick(); // fires; the receiver is not listening
    let answer = (await (await fetch(`${server.url}/api/v1/alerts/notifications`)).json()) as any;
    assert.equal(answer.pending.length, 1);
    assert.equal(answer.pending[0].attempts, 1);
    assert.match(answer.pending[0].lastError, /ECONNREFUSED/);

    // Down for "minutes": attempts back off (5 s, 10 s, 20 s, 40 s, 40 s ...).
    for (let i = 0; i < 12; i++) {
      clock += 10_000;
      await engine.tick();
    }
    answer = (await (await fetch(`${server.url}/api/v1/alerts/notifications`)).json()) as any;
    assert.equal(answer.pending.length, 1);
    assert.ok(
      answer.pending[0].attempts >= 4 && answer.pending[0].attempts <= 6,
      `${answer.pending[0].attempts} attempts`,
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /shoplens_alert_notifications_total\{receiver_type="webhook",outcome="failed"\} [4-6]/);

    await webhook.start(port);
    clock += 45_000;
    await engine.tick();
    clock += 45_000;
    await engine.tick();
    assert.equal(webhook.on('/hook').length, 1);
    assert.equal(webhook.on('/hook')[0]!.json.alerts[0].labels['service.name'], 'cart-service');
    answer = (await (await fetch(`${server.url}/api/v1/alerts/notifications`)).json()) as any;
    assert.equal(answer.pending.length, 0);
    assert.equal(answer.recent[0].status, 'delivered');
  });

  it('a silence mutes matching alerts only', async () => {
    const res = await post(
      `${server.url}/api/v1/alerts/silences`,
      JSON.stringify({
        matchers: [{ name: 'service.name', value: 'search-service' }],
        startsAt: new Date(clock - 60_000).toISOString(),
        endsAt: new Date(clock + 3_600_000).toISOString(),
        comment: 'reindexing tonight',
      }),
      { 'content-type': 'application/json' },
    );
    assert.equal(res.status, 201, JSON.stringify(res.json));
    await post(`${server.url}/api/v1/events?refresh=wait_for`, requests(clock - 60_000, 'search-service', 4));
    await post(`${server.url}/api/v1/events?refresh=wait_for`, requests(clock - 60_000, 'user-service', 4));
    clock += 10_000;
    await engine.tick();
    const services = webhook.received.slice(1).map((r) => r.json.alerts[0].labels['service.name']);
    assert.deepEqual(services, ['user-service']);
  });

  it('rejects a silence without a comment or with a bad regular expression, naming the problem', async () => {
    const bad = await post(
      `${server.url}/api/v1/alerts/silences`,
      JSON.stringify({ matchers: [{ name: 'a', value: '(', op: '=~' }], endsAt: 'now+1h', comment: 'x' }),
      { 'content-type': 'application/json' },
    );
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /matcher a=~"\(":/);
    const noComment = await post(
      `${server.url}/api/v1/alerts/silences`,
      JSON.stringify({ matchers: [{ name: 'a', value: 'b' }], endsAt: 'now+1h' }),
      { 'content-type': 'application/json' },
    );
    assert.equal(noComment.status, 400);
    assert.match(noComment.json.error.message, /"comment"/);
  });
});
