/**
 * Alert notifications end to end against real peers on loopback: a rule
 * fires on stored events, and Slack, PagerDuty and webhook receivers (HTTP
 * recorders), a real SMTP server (aiosmtpd) and a real Prometheus
 * Alertmanager get the trigger and then the resolve. The clock is injected,
 * so "five minutes later" takes no time.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AlertEngine } from '../../src/alerts/alert-engine.ts';
import { alertsConfigSchema } from '../../src/alerts/alerts-config.ts';
import { PACK_FILE, parseRuleFile } from '../../src/alerts/rule-files.ts';
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

/**
 * Seed 000's fraud case: seven payments scored >= 80 whose amounts add up to
 * $2,042.10 (in cents, so the test's own sum is exact), beside low-risk ones
 * the rule must not count.
 */
const RISKY_CENTS = [25_000, 31_245, 19_999, 41_020, 28_836, 33_110, 25_000];
function fraudPayments(atMs: number): string {
  const lines = RISKY_CENTS.map((cents, i) =>
    JSON.stringify({
      '@timestamp': new Date(atMs + i * 1000).toISOString(),
      event: { type: 'payment_transaction', outcome: 'success' },
      transaction: { id: `tx-risky-${i}`, gateway: 'adyen', amount: cents / 100, currency: 'USD' },
      payment: { risk_score: 80 + i },
      security: { ip_address: `203.0.113.${i % 3}` },
    }),
  );
  for (let i = 0; i < 5; i++)
    lines.push(
      JSON.stringify({
        '@timestamp': new Date(atMs + i * 1000).toISOString(),
        event: { type: 'payment_transaction', outcome: 'success' },
        transaction: { id: `tx-ok-${i}`, gateway: 'adyen', amount: 999.99, currency: 'USD' },
        payment: { risk_score: 20 },
      }),
    );
  return lines.join('\n');
}

/** The pack's fraud rule as shipped (rules/ecommerce.yaml), as JSON (a YAML file may be JSON). */
function packFraudRule(): string {
  const pack = parseRuleFile(readFileSync(PACK_FILE, 'utf8'), PACK_FILE, 'pack');
  const rule = pack.rules.find((r) => r.id === 'HighRiskTransactions');
  assert.ok(rule, 'the pack has HighRiskTransactions');
  return JSON.stringify({ rules: [rule.spec] });
}

function linesOf(text: string): string[] {
  return text.split(/\r?\n/);
}

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
          'slack-fraud': { type: 'slack', url: http.url('/slack-fraud'), channel: '#fraud-alerts' },
          'pd-fraud': { type: 'pagerduty', routing_key: 'FRAUDKEY', url: http.url('/pd-fraud') },
          'hook-fraud': { type: 'webhook', url: http.url('/hook-fraud') },
          'am-recorder': { type: 'alertmanager', url: http.url('/am') },
          'email-fraud': {
            type: 'email',
            host: '127.0.0.1',
            port: smtp.port,
            from: 'alerts@shop.test',
            to: ['fraud-team@shop.test'],
          },
        },
        routes: [
          {
            match: { severity: 'critical' },
            receivers: ['pagerduty', 'slack-incidents', 'sms', 'email', 'am'],
            group_by: ['alertname', 'transaction.gateway'],
            group_wait: '0s',
            group_interval: '30s',
          },
          {
            match: { severity: 'high' },
            receivers: ['slack-fraud', 'pd-fraud', 'hook-fraud', 'email-fraud', 'am', 'am-recorder'],
            group_by: ['alertname'],
            group_wait: '0s',
            group_interval: '30s',
          },
        ],
      }),
    });

  before(async () => {
    rulesDir = mkdtempSync(join(tmpdir(), 'shoplens-test-rules-'));
    writeFileSync(join(rulesDir, 'payments.yaml'), RULES);
    writeFileSync(join(rulesDir, 'fraud.yaml'), packFraudRule());
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
    const fraud = await post(`${server.url}/api/v1/events?refresh=wait_for`, fraudPayments(T0 - 60_000));
    assert.equal(fraud.status, 200);
    await engine.tick();

    const [slack] = http.on('/slack');
    assert.equal(http.on('/slack').length, 1);
    assert.equal(slack!.json.channel, '#incidents');
    assert.equal(slack!.json.text, '🚨 P0 StripeDown (stripe)');
    const attachment = slack!.json.attachments[0];
    assert.equal(attachment.color, 'danger');
    assert.equal(attachment.text, 'Payment success on stripe is 40 %; $1,000.00 at stake');
    // 4 of 10 succeeded: the ratio of two counts reads as a percentage, the sum of amounts as money.
    assert.deepEqual(
      attachment.fields.map((f: { title: string; value: string }) => `${f.title}: ${f.value}`),
      ['Gateway: stripe', 'Ok: 4', 'Total: 10', 'Amount: $1,000.00', 'Success rate: 40 %'],
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

    const mails = smtp.messages.filter((m) => m.to.includes('oncall@shop.test'));
    assert.equal(mails.length, 1);
    const mail = mails[0]!;
    assert.deepEqual(mail.to, ['oncall@shop.test']);
    assert.match(mail.data, /^Subject: PAYMENTS DOWN on stripe$/m);
    assert.match(mail.data, /Payment success on stripe is 40 %/);

    const inAm = await alertmanager.alerts();
    const stripeInAm = inAm.filter((a) => a.labels.alertname === 'StripeDown');
    assert.equal(stripeInAm.length, 1);
    assert.equal(stripeInAm[0].labels.transaction_gateway, 'stripe');
    assert.equal(stripeInAm[0].status.state, 'active');
    assert.equal(
      stripeInAm[0].annotations.description,
      'Gateway: stripe\nOk: 4\nTotal: 10\nAmount: $1,000.00\nSuccess rate: 40 %',
    );
  });

  it("renders seed 000's fraud alert: danger red, human field names, the amount in dollars", async () => {
    const totalCents = RISKY_CENTS.reduce((a, b) => a + b, 0);
    assert.equal(totalCents, 204_210); // the seed's $2,042.10
    const expectedTotal = `$${Math.floor(totalCents / 100).toLocaleString('en-US')}.${String(totalCents % 100).padStart(2, '0')}`;
    assert.equal(expectedTotal, '$2,042.10');

    const slack = http.on('/slack-fraud');
    assert.equal(slack.length, 1);
    assert.equal(slack[0]!.json.channel, '#fraud-alerts');
    assert.equal(slack[0]!.json.text, '🚨 P1 High-risk transaction pattern detected');
    const [attachment] = slack[0]!.json.attachments;
    assert.equal(attachment.color, 'danger');
    assert.equal(attachment.title, '🚨 High-risk transaction pattern detected');
    assert.equal(attachment.text, `${RISKY_CENTS.length} high-risk transactions in the last 5 minutes`);
    const fields = attachment.fields.map((f: { title: string; value: string }) => `${f.title}: ${f.value}`);
    assert.deepEqual(fields, [
      `Risk transactions: ${RISKY_CENTS.length}`,
      `Total amount: ${expectedTotal}`,
      'Distinct IP addresses: 3',
    ]);
    assert.ok(!slack[0]!.raw.includes('high_risk') && !slack[0]!.raw.includes('2042.1'), slack[0]!.raw);

    const mails = smtp.messages.filter((m) => m.to.includes('fraud-team@shop.test'));
    assert.equal(mails.length, 1);
    assert.equal(mails[0]!.subject, '🚨 HIGH RISK TRANSACTION ALERT');
    const body = `${RISKY_CENTS.length} high-risk transactions detected in last 5 minutes. Total amount: ${expectedTotal}`;
    const text = linesOf(mails[0]!.text);
    assert.ok(text.includes(`  ${body}`), mails[0]!.text);
    assert.ok(text.includes(`  Total amount: ${expectedTotal}`), mails[0]!.text);
    assert.match(mails[0]!.html, /<th[^>]*>Total amount<\/th><td>\$2,042\.10<\/td>/);

    const [pd] = http.on('/pd-fraud');
    assert.equal(pd!.json.payload.severity, 'error'); // P1 high → PagerDuty "error"
    assert.equal(
      pd!.json.payload.summary,
      `P1 High-risk transaction pattern detected: ${RISKY_CENTS.length} high-risk transactions in the last 5 minutes`,
    );
    assert.equal(pd!.json.payload.custom_details['Total amount'], expectedTotal);
    assert.equal(pd!.json.payload.custom_details['Risk transactions'], String(RISKY_CENTS.length));

    const [hook] = http.on('/hook-fraud');
    assert.deepEqual(
      hook!.json.alerts[0].fields.find((f: { name: string }) => f.name === 'total_amount'),
      { name: 'total_amount', title: 'Total amount', value: expectedTotal, kind: 'money' },
    );

    const inAm = (await alertmanager.alerts()).filter((a) => a.labels.alertname === 'HighRiskTransactions');
    assert.equal(inAm.length, 1);
    assert.equal(inAm[0].annotations.summary, `${RISKY_CENTS.length} high-risk transactions in the last 5 minutes`);
    assert.ok(linesOf(inAm[0].annotations.description).includes(`Total amount: ${expectedTotal}`));
    assert.equal(inAm[0].annotations['name.high_risk'], undefined);
  });

  it('does not notify again while the alert keeps firing, nor after a restart', async () => {
    clock += 10_000;
    await engine.tick();
    engine = makeEngine(); // a new process on the same store
    clock += 10_000;
    await engine.tick();
    assert.equal(http.on('/slack').length, 1);
    assert.equal(http.on('/pagerduty').length, 1);
    assert.equal(http.on('/slack-fraud').length, 1);
    assert.equal(smtp.messages.length, 2);
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
    const stripeMails = smtp.messages.filter((m) => m.to.includes('oncall@shop.test'));
    assert.equal(stripeMails.length, 2);
    assert.match(stripeMails[1]!.subject, /^\[RESOLVED\] P0 StripeDown \(stripe\): resolved after \d+ min$/);
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

  it('says in every channel how long the alert fired, from the recorded transitions', async () => {
    const { history } = (await (
      await fetch(`${server.url}/api/v1/alerts/rules/HighRiskTransactions/history`)
    ).json()) as {
      history: { to: string; atMs: number }[];
    };
    const fired = history.find((h) => h.to === 'firing')!;
    const resolved = history.find((h) => h.to === 'resolved')!;
    assert.ok(fired && resolved, JSON.stringify(history));
    const minutes = Math.floor((resolved.atMs - fired.atMs) / 60_000);
    assert.ok(minutes >= 5, `fired for ${minutes} min`);
    const after = `resolved after ${minutes} min`;

    const slack = http.on('/slack-fraud');
    assert.equal(slack.length, 2);
    assert.equal(slack[1]!.json.text, `✅ [RESOLVED] P1 High-risk transaction pattern detected: ${after}`);
    assert.equal(slack[1]!.json.attachments[0].color, 'good');
    assert.match(slack[1]!.json.attachments[0].text, new RegExp(`^R${after.slice(1)} \\(fired since`));

    const mails = smtp.messages.filter((m) => m.to.includes('fraud-team@shop.test'));
    assert.equal(mails.length, 2);
    assert.equal(mails[1]!.subject, `[RESOLVED] P1 High-risk transaction pattern detected: ${after}`);
    assert.ok(
      linesOf(mails[1]!.text).some((l) => l.startsWith(`RESOLVED (${after}): `)),
      mails[1]!.text,
    );

    const hook = http.on('/hook-fraud');
    assert.equal(hook[1]!.json.alerts[0].resolvedAfter, after);
    assert.equal(hook[1]!.json.alerts[0].firedForMs, resolved.atMs - fired.atMs);

    // Alertmanager drops an ended alert from its API at once, so the resolve is read from what it was sent.
    const toAm = http.on('/am/api/v2/alerts');
    assert.equal(toAm.length, 2);
    const description: string = toAm[1]!.json[0].annotations.description;
    assert.ok(linesOf(description).includes(`R${after.slice(1)}.`), description);
    assert.equal(toAm[1]!.json[0].endsAt, new Date(resolved.atMs).toISOString());
  });
});
