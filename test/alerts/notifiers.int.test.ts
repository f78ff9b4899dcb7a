/**
 * Alert notifications end to end against real peers on loopback: a rule
 * fires on stored events, and Slack, PagerDuty and webhook receivers (HTTP
 * recorders), a real SMTP server (aiosmtpd) and a real Prometheus
 * Alertmanager get the trigger and then the resolve. The clock is injected,
 * so "five minutes later" takes no time.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AlertEngine } from '../../src/alerts/alert-engine.ts';
import { alertsConfigSchema } from '../../src/alerts/alerts-config.ts';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { AlertmanagerPeer, HttpRecorder, requirePeers, SmtpSink } from './peers.ts';

const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;
const RULES = `rules:
  - name: StripeDown
    query: 'event.type:payment_transaction | stats countif(event.outcome:success) as ok, count() as total, sum(transaction.amount) as amount by transaction.gateway | eval success_rate = ok / total'
    window: 5m
    every: 10s
    condition: total >= 5 and success_rate < 0.95
    severity: P0
    group_by: [transaction.gateway]
    labels: { team: payments }
    annotations:
      summary: 'Payment success on {{ labels.gateway }} is {{ value.success_rate | percent }}; {{ value.amount | currency }} at stake'
      email_subject: 'PAYMENTS DOWN on {{ labels.gateway }}'
`;

function payments(atMs: number, gateway: string, ok: number, failed: number): string {
  const lines: string[] = [];
  for (let i = 0; i < ok + failed; i++) {
    lines.push(
      JSON.stringify({
        '@timestamp': new Date(atMs + i * 1000).toISOString(),
        event: { type: 'payment_transaction', outcome: i < ok ? 'success' : 'failure' },
        transaction: { gateway, amount: 100, currency: 'USD' },
      }),
    );
  }
  return lines.join('\n');
}

const PEERS = requirePeers('the alert notifier tests', ['smtp', 'alertmanager']);

describe('alert notifications reach real receivers', { skip: !PEERS }, () => {
  let server: TestServer;
  const http = new HttpRecorder();
  const smtp = new SmtpSink();
  const alertmanager = new AlertmanagerPeer();
  let rulesDir: string;
  let clock = T0;
  let engine: AlertEngine;
  const secret = 'hmac-test-secret';

  const makeEngine = () =>
    new AlertEngine({
      store: server.server.context.store,
      now: () => clock,
      config: alertsConfigSchema.parse({
        rulesDir,
        pack: false,
        receivers: {
          pagerduty: { type: 'pagerduty', routing_key: 'R0UTINGKEY', url: http.url('/pagerduty') },
          'slack-incidents': { type: 'slack', url: http.url('/slack'), channel: '#incidents' },
          sms: { type: 'webhook', url: http.url('/sms'), secret },
          email: {
            type: 'email',
            host: '127.0.0.1',
            port: smtp.port,
            from: 'alerts@shop.test',
            to: ['oncall@shop.test'],
          },
          am: { type: 'alertmanager', url: alertmanager.url },
        },
        routes: [
          {
            match: { severity: 'critical' },
            receivers: ['pagerduty', 'slack-incidents', 'sms', 'email', 'am'],
            group_by: ['alertname', 'transaction.gateway'],
            group_wait: '0s',
            group_interval: '30s',
          },
        ],
      }),
    });

  before(async () => {
    rulesDir = mkdtempSync(join(tmpdir(), 'shoplens-test-rules-'));
    writeFileSync(join(rulesDir, 'payments.yaml'), RULES);
    server = await startTestServer({ alerts: { enabled: false } });
    await Promise.all([http.start(), smtp.start(), alertmanager.start()]);
    engine = makeEngine();
  });

  after(async () => {
    await server?.close();
    await Promise.all([http.stop(), smtp.stop(), alertmanager.stop()]);
    rmSync(rulesDir, { recursive: true, force: true });
  });

  it('fires once per receiver with the values, the labels and a link back', async () => {
    const res = await post(`${server.url}/api/v1/events?refresh=wait_for`, payments(T0 - 120_000, 'stripe', 4, 6));
    assert.equal(res.status, 200);
    await post(`${server.url}/api/v1/events?refresh=wait_for`, payments(T0 - 120_000, 'paypal', 10, 0));
    await engine.tick();

    const [slack] = http.on('/slack');
    assert.equal(http.on('/slack').length, 1);
    assert.equal(slack!.json.channel, '#incidents');
    assert.match(slack!.json.text, /FIRING:1\] StripeDown \(critical\)/);
    const attachment = slack!.json.attachments[0];
    assert.equal(attachment.color, '#d00000');
    assert.equal(attachment.text, 'Payment success on stripe is 40 %; $1,000.00 at stake');
    assert.deepEqual(
      attachment.fields.map((f: { title: string; value: string }) => `${f.title}=${f.value}`),
      ['ok=4', 'total=10', 'amount=1,000', 'success_rate=0.4'],
    );
    assert.match(attachment.title_link, /\/explore\?q=transaction.gateway/);

    const [pd] = http.on('/pagerduty');
    assert.equal(pd!.json.event_action, 'trigger');
    assert.equal(pd!.json.routing_key, 'R0UTINGKEY');
    assert.equal(pd!.json.payload.severity, 'critical');
    assert.match(pd!.json.dedup_key, /^shoplens-default-/);

    const [sms] = http.on('/sms');
    const expected = `sha256=${createHmac('sha256', secret).update(sms!.raw).digest('hex')}`;
    assert.equal(sms!.headers['x-shoplens-signature'], expected);
    assert.equal(sms!.json.status, 'firing');
    assert.equal(sms!.json.alerts[0].labels['transaction.gateway'], 'stripe');
    assert.equal(sms!.json.alerts[0].labels.team, 'payments');

    assert.equal(smtp.messages.length, 1);
    const mail = smtp.messages[0]!;
    assert.deepEqual(mail.to, ['oncall@shop.test']);
    assert.match(mail.data, /^Subject: PAYMENTS DOWN on stripe$/m);
    assert.match(mail.data, /Payment success on stripe is 40 %/);

    const inAm = await alertmanager.alerts();
    assert.equal(inAm.length, 1);
    assert.equal(inAm[0].labels.alertname, 'StripeDown');
    assert.equal(inAm[0].labels.transaction_gateway, 'stripe');
    assert.equal(inAm[0].status.state, 'active');
  });

  it('does not notify again while the alert keeps firing, nor after a restart', async () => {
    clock += 10_000;
    await engine.tick();
    engine = makeEngine(); // a new process on the same store
    clock += 10_000;
    await engine.tick();
    assert.equal(http.on('/slack').length, 1);
    assert.equal(http.on('/pagerduty').length, 1);
    assert.equal(smtp.messages.length, 1);
  });

  it('resolves: PagerDuty resolve with the same dedup_key, Alertmanager alert ended, a resolved mail', async () => {
    clock += 6 * 60_000; // the failures leave the 5-minute window
    await engine.tick();
    const pd = http.on('/pagerduty');
    assert.equal(pd.length, 2);
    assert.equal(pd[1]!.json.event_action, 'resolve');
    assert.equal(pd[1]!.json.dedup_key, pd[0]!.json.dedup_key);
    assert.match(http.on('/slack')[1]!.json.text, /RESOLVED/);
    assert.equal(http.on('/sms')[1]!.json.status, 'resolved');
    assert.equal(smtp.messages.length, 2);
    assert.match(smtp.messages[1]!.data, /^Subject: \[RESOLVED\]/m);
    const inAm = await alertmanager.alerts();
    assert.ok(
      inAm.every((a) => Date.parse(a.endsAt) <= clock + 1000),
      JSON.stringify(inAm.map((a) => a.endsAt)),
    );

    const history = (await (await fetch(`${server.url}/api/v1/alerts/rules/StripeDown/history`)).json()) as {
      history: { to: string; groupLabels: Record<string, string> }[];
    };
    assert.deepEqual(history.history.map((h) => h.to).sort(), ['firing', 'pending', 'resolved'].sort());
  });
});
