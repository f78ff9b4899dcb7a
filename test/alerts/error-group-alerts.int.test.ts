/**
 * Alert rules on error groups, end to end: a real server (its own engine,
 * started, real clock, evaluation on ingest), error events sent as NDJSON,
 * and a real webhook receiver on loopback. A new group fires once (more
 * events of it do not fire again); a group resolved through the API and seen
 * again fires as a regression; a burst above the rate fires and a trickle
 * sent before it does not; the message carries the group's title, count,
 * users, revenue at risk (as the errors API computes it) and the link to
 * `/errors/<id>` under the configured public URL. Invalid rules are refused
 * with the key named.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Notification } from '../../src/alerts/alert-model.ts';
import { alertmanagerAlerts } from '../../src/alerts/notifiers/alertmanager.ts';
import { emailMessage } from '../../src/alerts/notifiers/email.ts';
import { pagerDutyEvent } from '../../src/alerts/notifiers/pagerduty.ts';
import { slackPayload } from '../../src/alerts/notifiers/slack.ts';
import { compileRule, RuleError } from '../../src/alerts/rule.ts';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { HttpRecorder } from './peers.ts';

const PUBLIC_URL = 'https://shop.example/shoplens';

const RULES = `rules:
  - name: NewGroup
    error_group: new
    window: 10m
    every: 5s
    severity: P3
  - name: Regressed
    error_group: regression
    window: 10m
    every: 5s
    severity: P2
  - name: CartOnly
    error_group: new
    window: 10m
    every: 5s
    severity: P3
    filter: { service: cart-service }
  - name: Widespread
    error_group: new
    window: 10m
    every: 5s
    severity: P3
    filter: { min_users: 3 }
  - name: Burst
    error_group: rate
    rate: { per_minute: 5, min_count: 20 }
    window: 2m
    every: 5s
    severity: P2
`;

type Event = Record<string, any>;

function errorEvent(type: string, message: string, i: number, users = 3): Event {
  return {
    '@timestamp': new Date().toISOString(),
    service: { name: 'payment-service', version: '2.3.1' },
    deployment: { environment: 'production' },
    event: { type: 'error' },
    log: { level: 'ERROR' },
    exception: {
      type,
      message,
      frames: [{ function: `${type}.raise`, filename: `/app/src/${type.toLowerCase()}.ts`, lineno: 10, in_app: true }],
    },
    user: { id: `U-${type}-${i % users}`, session_id: `S-${type}-${i}` },
  };
}

/** Polls `check` until it answers a value (a condition is asserted; the limit only ends a hung test). */
async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  limitMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('alert rules on error groups', () => {
  let server: TestServer;
  let rulesDir: string;
  const webhook = new HttpRecorder();

  const send = async (events: Event[]) => {
    const r = await post(
      `${server.url}/api/v1/events?refresh=wait_for`,
      events.map((e) => JSON.stringify(e)).join('\n'),
    );
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.accepted, events.length, JSON.stringify(r.json));
  };
  const groupByType = async (type: string): Promise<any> => {
    const r = await fetch(`${server.url}/api/v1/errors?status=all&limit=100&from=now-1h`);
    const json: any = await r.json();
    return json.groups.find((g: any) => g.type === type);
  };
  /** Firing alerts of `rule` delivered to the webhook, for group `id`. */
  const firings = (rule: string, id: string): any[] =>
    webhook
      .on('/hook')
      .flatMap((r) => r.json?.alerts ?? [])
      .filter((a: any) => a.status === 'firing' && a.labels.alertname === rule && a.labels['error.fingerprint'] === id);
  const evaluations = async (): Promise<number> => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return [...text.matchAll(/^shoplens_alert_evaluations_total\{[^}]*\} (\S+)$/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
  };

  before(async () => {
    await webhook.start();
    rulesDir = mkdtempSync(join(tmpdir(), 'shoplens-test-rules-'));
    writeFileSync(join(rulesDir, 'errors.yaml'), RULES);
    server = await startTestServer({
      alerts: {
        rulesDir,
        pack: false,
        externalUrl: PUBLIC_URL,
        receivers: { hook: { type: 'webhook', url: webhook.url('/hook') } },
        routes: [{ receivers: ['hook'], group_by: ['alertname', 'error.fingerprint'], group_wait: '0s' }],
      },
    });
  });
  after(async () => {
    await server?.close();
    await webhook.stop();
    rmSync(rulesDir, { recursive: true, force: true });
  });

  it('a new group fires once, with its title, count, users, revenue at risk and a link to its page', async () => {
    // Two sessions reach checkout and fail with the error: their carts are at risk.
    const carts = [84.5, 40.25];
    const commerce = carts.map((value, i) => ({
      '@timestamp': new Date().toISOString(),
      event: { type: 'checkout_started' },
      user: { id: `U-CardVaultError-${i % 3}`, session_id: `S-CardVaultError-${i}` },
      cart: { value },
      transaction: { currency: 'USD' },
    }));
    await send(commerce);
    const errors = [0, 1, 2, 3].map((i) => errorEvent('CardVaultError', `vault unreachable for token tok_${i}9f`, i));
    await send(errors);
    const group = await until('the group in the errors API', () => groupByType('CardVaultError'));
    const [alert] = await until('the NewGroup notification', () => {
      const got = firings('NewGroup', group.id);
      return got.length > 0 ? got : undefined;
    });
    assert.equal(alert.labels.severity, 'info');
    assert.match(alert.title, /CardVaultError/);
    assert.match(alert.title, /vault unreachable/);
    assert.equal(alert.link, `${PUBLIC_URL}/errors/${encodeURIComponent(group.id)}`);
    const fields = Object.fromEntries(alert.fields.map((f: any) => [f.name, f.value]));
    assert.equal(alert.values.events, 4);
    assert.equal(fields.events, '4');
    assert.equal(alert.values.users, 3, 'U-…-0, U-…-1, U-…-2');
    // Revenue at risk as the errors API figures it, and as the carts the test sent add up.
    const fresh = await groupByType('CardVaultError');
    assert.ok(fresh.revenueAtRisk.total > 0, JSON.stringify(fresh.revenueAtRisk));
    assert.equal(alert.values.revenue_at_risk, fresh.revenueAtRisk.total);
    const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(
      fresh.revenueAtRisk.total,
    );
    assert.equal(fields.revenue_at_risk, money);
    assert.match(alert.summary, new RegExp(`4 events, 3 users, \\${money} at risk`));
    assert.match(alert.summary, /service payment-service, release 2\.3\.1/);

    // The same notification as Slack, e-mail, PagerDuty and Alertmanager would get it.
    const delivered = webhook
      .on('/hook')
      .find((r) => r.json.alerts.some((a: any) => a === alert || a.fingerprint === alert.fingerprint));
    const notification = {
      ...delivered!.json,
      tenant: 'default',
      createdAt: new Date().toISOString(),
      alerts: delivered!.json.alerts.map((a: any) => {
        const { title: _t, summary: _s, ...rest } = a;
        return rest;
      }),
    } as Notification;
    const link = `${PUBLIC_URL}/errors/${encodeURIComponent(group.id)}`;
    for (const [receiver, text] of [
      ['slack', JSON.stringify(slackPayload(notification))],
      ['email', JSON.stringify(emailMessage(notification))],
      ['pagerduty', JSON.stringify(pagerDutyEvent(notification, 'key'))],
      ['alertmanager', JSON.stringify(alertmanagerAlerts(notification))],
    ] as const) {
      assert.ok(text.includes('CardVaultError'), `${receiver}: the title`);
      assert.ok(text.includes(link), `${receiver}: the group's link`);
      assert.ok(text.includes(money), `${receiver}: the revenue at risk`);
    }

    // More events of the same group: evaluated again, not notified again.
    const seen = await evaluations();
    await send([4, 5, 6].map((i) => errorEvent('CardVaultError', `vault unreachable for token tok_${i}9f`, i)));
    await until('two more evaluations', async () => ((await evaluations()) >= seen + 6 ? true : undefined));
    assert.equal(firings('NewGroup', group.id).length, 1, 'one notification for the new group');
    assert.equal(firings('Widespread', group.id).length, 1, '3 users: at least min_users');
    assert.equal(firings('CartOnly', group.id).length, 0, 'payment-service is not the filtered service');
  });

  it('a resolved group seen again fires as a regression', async () => {
    const group = await until('the group', () => groupByType('CardVaultError'));
    assert.equal(firings('Regressed', group.id).length, 0, 'not a regression before it was resolved');
    const resolved = await post(
      `${server.url}/api/v1/errors/${encodeURIComponent(group.id)}/state`,
      JSON.stringify({ status: 'resolved' }),
      { 'content-type': 'application/json' },
    );
    assert.equal(resolved.status, 200, JSON.stringify(resolved.json));
    await new Promise((r) => setTimeout(r, 20));
    await send([errorEvent('CardVaultError', 'vault unreachable for token tok_779f', 7)]);
    const [alert] = await until('the Regressed notification', () => {
      const got = firings('Regressed', group.id);
      return got.length > 0 ? got : undefined;
    });
    assert.equal(alert.labels.severity, 'warning');
    assert.match(alert.title, /Regressed error: CardVaultError/);
    assert.equal(alert.link, `${PUBLIC_URL}/errors/${encodeURIComponent(group.id)}`);
    const after = await groupByType('CardVaultError');
    assert.equal(after.regressed, true);
    assert.equal(firings('NewGroup', group.id).length, 1, 'still not new again');
  });

  it('a burst above the rate fires; a trickle does not', async () => {
    await send([0, 1, 2, 3, 4].map((i) => errorEvent('StockSyncWarning', `sync lag ${i * 13} ms`, i, 2)));
    const trickle = await until('the trickle group', () => groupByType('StockSyncWarning'));
    await send(Array.from({ length: 30 }, (_, i) => errorEvent('InventoryLockTimeout', `lock ${i} timed out`, i)));
    const burst = await until('the burst group', () => groupByType('InventoryLockTimeout'));
    const [alert] = await until('the Burst notification', () => {
      const got = firings('Burst', burst.id);
      return got.length > 0 ? got : undefined;
    });
    assert.equal(alert.values.events, 30);
    assert.equal(alert.values.per_minute, 15, '30 events in the 2-minute window');
    assert.match(alert.title, /Error spike: InventoryLockTimeout/);
    // The evaluation that fired the burst read the trickle (sent before it) too.
    assert.equal(firings('Burst', trickle.id).length, 0, '5 events in 2 minutes: under the rate and the minimum count');
    await until('the NewGroup notification of the trickle', () =>
      firings('NewGroup', trickle.id).length === 1 ? true : undefined,
    );
    assert.equal(firings('Widespread', trickle.id).length, 0, '2 users: under min_users');
  });

  it('takes error group rules through the API: created, tested on the groups, refused with the key named', async () => {
    const put = (body: object) =>
      fetch(`${server.url}/api/v1/alerts/rules/ApiNewGroup`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const bad = await put({ error_group: 'rate', rate: { min_count: 3 }, severity: 'P2' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as any).error.message, /rate/);
    const ok = await put({ error_group: 'rate', rate: { per_minute: 1, min_count: 10 }, window: '2m', severity: 'P2' });
    assert.equal(ok.status, 200, await ok.clone().text());
    const tested = (await (
      await fetch(`${server.url}/api/v1/alerts/rules/ApiNewGroup/test`, { method: 'POST' })
    ).json()) as any;
    const burst = await groupByType('InventoryLockTimeout');
    const sample = tested.samples.find((x: any) => x.labels['error.fingerprint'] === burst.id);
    assert.ok(sample, JSON.stringify(tested));
    assert.equal(sample.values.events, 30);
    assert.equal(tested.firing, true);
  });

  it('refuses an error group rule that is not well formed, naming the key', () => {
    const refused = (input: unknown): RuleError => {
      try {
        compileRule(input, { kind: 'api' });
      } catch (err) {
        if (err instanceof RuleError) return err;
        throw err;
      }
      assert.fail('accepted');
    };
    assert.match(refused({ name: 'X', error_group: 'fresh', severity: 'P3' }).message, /new, regression or rate/);
    assert.deepEqual(refused({ name: 'X', error_group: 'rate', severity: 'P2' }).path, ['rate']);
    assert.deepEqual(refused({ name: 'X', error_group: 'rate', rate: { min_count: 5 }, severity: 'P2' }).path, [
      'rate',
    ]);
    assert.deepEqual(refused({ name: 'X', error_group: 'new', query: '* | stats count() as n', severity: 'P3' }).path, [
      'query',
    ]);
    assert.deepEqual(
      refused({ name: 'X', query: '* | stats count() as n', condition: 'n > 1', rate: { factor: 2 }, severity: 'P3' })
        .path,
      ['rate'],
    );
    assert.deepEqual(refused({ name: 'X', severity: 'P3' }).path, ['query']);
  });
});
