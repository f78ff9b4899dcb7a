/**
 * How alert values read to people: kinds inferred from the rule's query,
 * human names, the currency, and durations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Alert, Notification } from '../../src/alerts/alert-model.ts';
import { alertFields, labelTitle } from '../../src/alerts/message-format.ts';
import { emailMessage } from '../../src/alerts/notifiers/email.ts';
import { slackPayload } from '../../src/alerts/notifiers/slack.ts';
import { compileRule } from '../../src/alerts/rule.ts';
import { formatElapsed, renderTemplate } from '../../src/alerts/templates.ts';

function rule(query: string, annotations: Record<string, string> = {}, groupBy: string[] = []) {
  return compileRule(
    { name: 'R', query, condition: 'true', severity: 'P2', annotations, group_by: groupBy },
    { kind: 'api' },
  );
}

function shown(r: ReturnType<typeof rule>, values: Record<string, unknown>, labels: Record<string, string> = {}) {
  return alertFields(r, labels, labels, values).map((f) => `${f.title}: ${f.value}`);
}

describe('alert fields', () => {
  it('reads counts, ratios of counts, amounts and latencies from the query', () => {
    const r = rule(
      'event.type:api_request | stats count() as total, countif(http.response.status_code:>=500) as errors, sum(transaction.amount) as revenue, p95(event.duration) as p95_ms by service.name | eval error_rate = errors / total',
      {},
      ['service.name'],
    );
    assert.deepEqual(
      shown(
        r,
        { total: 1234, errors: 62, revenue: 98765.4, p95_ms: 3250, error_rate: 62 / 1234 },
        { 'service.name': 'api' },
      ),
      ['Service: api', 'Total: 1,234', 'Errors: 62', 'Revenue: $98,765.40', 'P95: 3.3 s', 'Error rate: 5 %'],
    );
  });

  it('counts what a second stats sums from per-session indicators, and their ratio is a percentage', () => {
    const r = rule(
      'event.type:(add_to_cart or order_completed) | stats countif(event.type:add_to_cart) as adds, countif(event.type:order_completed) as orders by user.session_id | eval abandoned_session = if(orders = 0, 1, 0) | stats count() as carts, sum(abandoned_session) as abandoned | eval abandonment = abandoned / carts',
    );
    assert.deepEqual(shown(r, { carts: 40, abandoned: 33, abandonment: 33 / 40 }), [
      'Carts: 40',
      'Abandoned: 33',
      'Abandonment: 82.5 %',
    ]);
  });

  it('takes the currency from the filter, the group label or the annotation', () => {
    const pinned = rule('transaction.currency:EUR | stats sum(transaction.amount) as total_amount');
    assert.deepEqual(shown(pinned, { total_amount: 2042.1 }), ['Total amount: €2,042.10']);
    const grouped = rule('* | stats sum(transaction.amount) as total_amount by transaction.currency', {}, [
      'transaction.currency',
    ]);
    assert.deepEqual(shown(grouped, { total_amount: 1500 }, { 'transaction.currency': 'JPY' }), [
      'Currency: JPY',
      'Total amount: ¥1,500',
    ]);
    const stated = rule('* | stats sum(transaction.amount) as total_amount', { currency: 'GBP' });
    assert.deepEqual(shown(stated, { total_amount: 10 }), ['Total amount: £10.00']);
  });

  it('follows the annotations: names, formats and which fields', () => {
    const r = rule('* | stats count() as high_risk, avg(payment.risk_score) as score, dc(security.ip_address) as ips', {
      'name.high_risk': 'Risk transactions',
      'format.score': 'number',
      fields: 'high_risk, score',
    });
    assert.deepEqual(shown(r, { high_risk: 7, score: 91.456, ips: 3 }), ['Risk transactions: 7', 'Score: 91.46']);
  });

  it('shows baselines like their value, changes signed in percent, spikes in sigma', () => {
    const r = rule('* | stats count() as orders');
    assert.deepEqual(shown(r, { orders: 80, orders_baseline: 100, orders_change: -0.2, orders_sigma: 4.26 }), [
      'Orders: 80',
      'Orders baseline: 100',
      'Orders change: -20 %',
      'Orders spike: 4.3σ',
    ]);
  });

  it('names labels from the field catalog, aliases included', () => {
    assert.equal(labelTitle('payment.gateway'), 'Gateway');
    assert.equal(labelTitle('customer.segment'), 'Customer segment');
    assert.equal(labelTitle('http.request.method'), 'Method');
  });
});

describe('templates by kind', () => {
  it('formats a value without a format as its kind says', () => {
    const kinds = new Map([['total_amount', 'money' as const]]);
    const text = renderTemplate('{{ value.total_amount }} / {{ value.total_amount | currency }}', {
      rule: 'R',
      severity: 'high',
      labels: {},
      values: { total_amount: 2042.1 },
      kindOf: (n) => kinds.get(n) ?? 'number',
      currency: 'EUR',
    });
    assert.equal(text, '€2,042.10 / €2,042.10');
  });

  it('says durations as people do', () => {
    assert.equal(formatElapsed(42_000), '42 s');
    assert.equal(formatElapsed(12 * 60_000 + 59_000), '12 min');
    assert.equal(formatElapsed(65 * 60_000), '1 h 5 min');
    assert.equal(formatElapsed(51 * 3_600_000), '2 d 3 h');
  });
});

describe('notifier payloads', () => {
  const alert = (severity: string, extra: Partial<Alert> = {}): Alert => ({
    fingerprint: `fp-${severity}`,
    status: 'firing',
    labels: { alertname: 'R', severity, priority: 'P?' },
    annotations: { summary: 'Checkout <b>slow</b> & "odd"' },
    values: { p95_ms: 3250 },
    startsAt: '2026-12-01T10:00:00.000Z',
    link: 'http://shop.test/explore?q=a&b',
    ...extra,
  });
  const notification = (alerts: Alert[], status: 'firing' | 'resolved' = 'firing'): Notification => ({
    id: 'n1',
    tenant: 'default',
    receiver: 'r',
    groupKey: 'g',
    groupLabels: {},
    status,
    alerts,
    createdAt: '2026-12-01T10:20:00.000Z',
  });

  it('colours Slack attachments by severity: danger for P0/P1, warning for P2, blue for P3, good once resolved', () => {
    const colours = ['critical', 'high', 'warning', 'info'].map(
      (s) => (slackPayload(notification([alert(s)])).attachments as { color: string }[])[0]!.color,
    );
    assert.deepEqual(colours, ['danger', 'danger', 'warning', '#439fe0']);
    const resolved = alert('critical', { status: 'resolved', endsAt: '2026-12-01T11:05:30.000Z' });
    const payload = slackPayload(notification([resolved], 'resolved'));
    assert.equal((payload.attachments as { color: string }[])[0]!.color, 'good');
    assert.equal(payload.text, '✅ [RESOLVED] P? R: resolved after 1 h 5 min');
  });

  it('escapes the HTML e-mail, and shows an alert queued before fields existed by its value names in words', () => {
    const mail = emailMessage(notification([alert('high')]));
    assert.match(mail.html, /Checkout &lt;b&gt;slow&lt;\/b&gt; &amp; &quot;odd&quot;/);
    assert.match(mail.html, /href="http:\/\/shop\.test\/explore\?q=a&amp;b"/);
    assert.ok(!mail.html.includes('<b>slow'));
    assert.match(mail.text, /^ {2}P95 ms: 3,250$/m);
  });
});
