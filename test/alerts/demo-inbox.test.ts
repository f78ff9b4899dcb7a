/**
 * `shoplens demo` catches the first incident a newcomer injects in its own
 * UI: with a config file that routes alerts elsewhere (and names no in-app
 * receiver), the demo still routes every alert to the in-app inbox, and a
 * fraud burst started through the API lands there and in the live counts,
 * with the server's own engine on the real clock.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withInAppRoute, alertsConfigSchema } from '../../src/alerts/alerts-config.ts';
import { runDemo, type DemoOptions } from '../../src/cli/demo.ts';
import { post, testDataDir } from '../helpers/server.ts';

describe('the demo routes alerts to the in-app inbox', () => {
  let dataDir: string;
  let previousLevel: string | undefined;
  before(() => {
    dataDir = testDataDir();
    previousLevel = process.env['SHOPLENS_LOG_LEVEL'];
    process.env['SHOPLENS_LOG_LEVEL'] = 'warn';
  });
  after(() => {
    if (previousLevel === undefined) delete process.env['SHOPLENS_LOG_LEVEL'];
    else process.env['SHOPLENS_LOG_LEVEL'] = previousLevel;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('adds the inbox route to routes that lack one, and leaves routes that have one', () => {
    const elsewhere = alertsConfigSchema.parse({
      receivers: { ops: { type: 'webhook', url: 'http://127.0.0.1:1/hook' } },
      routes: [{ match: { severity: 'critical' }, receivers: ['ops'] }],
    });
    const routed = withInAppRoute(elsewhere);
    assert.deepEqual(
      routed.routes.map((r) => [r.match, r.receivers, r.continue]),
      [
        [{}, ['inapp'], true],
        [{ severity: 'critical' }, ['ops'], false],
      ],
    );
    assert.equal(routed.receivers['inapp']?.type, 'inapp');
    const defaults = alertsConfigSchema.parse({});
    assert.equal(withInAppRoute(defaults), defaults);
  });

  it('catches an injected fraud burst in the inbox and the live counts', async () => {
    const configFile = join(dataDir, 'shoplens.yaml');
    writeFileSync(
      configFile,
      'alerts:\n  routes:\n    - match: { severity: critical }\n      receivers: [pagerduty]\n',
    );
    const options: DemoOptions = {
      history: 0,
      speed: 60,
      seed: 7,
      scale: 1,
      port: 0,
      dataDir,
      auth: 'none',
      config: configFile,
    };
    const controller = new AbortController();
    const lines: string[] = [];
    let failure: unknown;
    const run = runDemo(options, controller.signal, (line) => lines.push(line)).catch((err: unknown) => {
      failure = err;
    });
    try {
      let url: string | undefined;
      const started = Date.now();
      while (!url || !lines.some((l) => l.startsWith('Live traffic'))) {
        if (failure !== undefined) throw failure;
        assert.ok(Date.now() - started < 60_000, `the demo did not start: ${lines.join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        url = lines.map((l) => /→ (http:\/\/127\.0\.0\.1:\d+) /.exec(l)?.[1]).find((u) => u !== undefined);
      }
      assert.ok(
        lines.some((l) => l === `Alerts: shown on every page (badge, banner, toast), inbox: ${url}/alerts`),
        lines.join('\n'),
      );
      const receivers = (await (await fetch(`${url}/api/v1/alerts/receivers`)).json()) as {
        routes: { receivers: string[] }[];
      };
      assert.deepEqual(receivers.routes[0]?.receivers, ['inapp']);

      const incident = await post(`${url}/api/v1/demo/incidents`, JSON.stringify({ name: 'fraud-burst' }), {
        'content-type': 'application/json',
      });
      assert.equal(incident.status, 201, JSON.stringify(incident.json));

      // The engine evaluates HighRiskTransactions every 30 s: poll the inbox until it has the alert.
      let fraud: { status: string; priority: string; alerts: { summary: string }[] } | undefined;
      const deadline = Date.now() + 120_000;
      while (!fraud && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const inbox = (await (await fetch(`${url}/api/v1/alerts/inbox`)).json()) as {
          items: {
            status: string;
            priority: string;
            title: string;
            alerts: { alertname: string; summary: string }[];
          }[];
        };
        fraud = inbox.items.find((i) => i.alerts.some((a) => a.alertname === 'HighRiskTransactions'));
      }
      assert.ok(fraud, 'no HighRiskTransactions notification in the inbox within 2 minutes');
      assert.equal(fraud.status, 'firing');
      assert.equal(fraud.priority, 'P1');
      assert.match(fraud.alerts[0]?.summary ?? '', /^\d+ high-risk transactions in the last 5 minutes$/);
      const live = (await (await fetch(`${url}/api/v1/alerts/live`)).json()) as {
        firing: { bySeverity: Record<string, number> };
        alerts: { rule: string; dashboard: string | null }[];
      };
      assert.ok((live.firing.bySeverity['high'] ?? 0) >= 1, JSON.stringify(live.firing));
      assert.deepEqual(
        live.alerts.filter((a) => a.rule === 'HighRiskTransactions').map((a) => a.dashboard),
        ['payments'],
      );
    } finally {
      controller.abort();
      await run;
    }
  });
});
