/**
 * The demo's local webhook and e-mail inboxes, end to end in a real browser
 * (Debian's Chromium): `shoplens demo` (in-process, the server's own engine
 * on the real clock, traffic at 60x) sends every alert to its local webhook
 * receiver and, by SMTP, to its local e-mail inbox; a fraud burst injected
 * through the API reaches both, and the Alerts page, left open, lists the
 * messages without a reload, at 1280 and 390 px. Without a demo the endpoint answers 404 and
 * the page shows no such section. `SHOPLENS_TEST_SHOTS=<dir>` saves
 * screenshots there.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { runDemo, type DemoOptions } from '../../src/cli/demo.ts';
import { ensureUiBuilt, hasChromium, launchChromium } from '../helpers/browser.ts';
import { post, startTestServer, testDataDir } from '../helpers/server.ts';

const BROWSER = hasChromium('the demo webhook inbox test');
const SHOTS = process.env['SHOPLENS_TEST_SHOTS'];

interface WebhookInbox {
  url: string;
  messages: {
    notificationId: string;
    body: { status: string; title: string; alerts: { labels: Record<string, string>; summary: string }[] };
  }[];
}

describe('the demo webhook and e-mail inboxes in Chromium', { skip: !BROWSER }, () => {
  let browser: Browser;
  let dataDir: string;
  let previousLevel: string | undefined;

  const shot = async (p: Page, name: string) => {
    if (!SHOTS) return;
    mkdirSync(SHOTS, { recursive: true });
    await p.screenshot({ path: join(SHOTS, `${name}.png`) });
  };

  before(async () => {
    ensureUiBuilt();
    browser = await launchChromium();
    dataDir = testDataDir();
    previousLevel = process.env['SHOPLENS_LOG_LEVEL'];
    process.env['SHOPLENS_LOG_LEVEL'] = 'warn';
  });
  after(async () => {
    await browser?.close();
    if (previousLevel === undefined) delete process.env['SHOPLENS_LOG_LEVEL'];
    else process.env['SHOPLENS_LOG_LEVEL'] = previousLevel;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is absent without a demo: 404 demo.not_running, no section on the Alerts page', async () => {
    const server = await startTestServer({ alerts: { enabled: false } });
    try {
      for (const inbox of ['webhook-inbox', 'email-inbox']) {
        const answer = await fetch(`${server.url}/api/v1/demo/${inbox}`);
        assert.equal(answer.status, 404);
        assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'demo.not_running');
      }
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${server.url}/alerts`);
      await page.getByTestId('alert-inbox').waitFor();
      await page.waitForLoadState('networkidle');
      assert.equal(await page.getByTestId('demo-webhook-inbox').count(), 0);
      assert.equal(await page.getByTestId('demo-email-inbox').count(), 0);
      await page.close();
    } finally {
      await server.close();
    }
  });

  it('shows the fraud burst the local webhook receiver and e-mail inbox got, without a reload, at 1280 and 390 px', async () => {
    const options: DemoOptions = {
      history: 0,
      speed: 60,
      seed: 7,
      scale: 1,
      port: 0,
      dataDir,
      auth: 'none',
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
      const before = (await (await fetch(`${url}/api/v1/demo/webhook-inbox`)).json()) as WebhookInbox;
      assert.match(before.url, /^http:\/\/127\.0\.0\.1:\d+\/hook$/);
      assert.ok(
        lines.some((l) => l.includes(before.url)),
        lines.join('\n'),
      );
      // The demo routes every alert to the in-app inbox first, then to its webhook receiver.
      const receivers = (await (await fetch(`${url}/api/v1/alerts/receivers`)).json()) as {
        routes: { receivers: string[] }[];
      };
      assert.deepEqual(
        receivers.routes.slice(0, 2).map((r) => r.receivers),
        [['inapp'], ['demo-webhook', 'demo-email']],
      );

      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${url}/alerts`);
      const section = page.getByTestId('demo-webhook-inbox');
      await section.getByText('No messages yet').waitFor();
      await page.evaluate('window.__mark = 42');

      const incident = await post(`${url}/api/v1/demo/incidents`, JSON.stringify({ name: 'fraud-burst' }), {
        'content-type': 'application/json',
      });
      assert.equal(incident.status, 201, JSON.stringify(incident.json));

      // The open page lists the message once the receiver has it (the engine runs the rule every 15 s).
      const message = section.getByTestId('webhook-message').filter({ hasText: 'high-risk transactions' });
      await message.first().waitFor({ timeout: 150_000 });
      assert.equal(await page.evaluate('window.__mark'), 42, 'the page was reloaded');
      const text = await message.first().innerText();
      assert.match(text, /firing/);
      assert.match(text, /\d+ high-risk transactions in the last 5 minutes/);

      // What the receiver got over HTTP: the webhook payload, with the notification's id header.
      const after = (await (await fetch(`${url}/api/v1/demo/webhook-inbox`)).json()) as WebhookInbox;
      const fraud = after.messages.find((m) =>
        m.body.alerts.some((a) => a.labels['alertname'] === 'HighRiskTransactions'),
      );
      assert.ok(fraud, JSON.stringify(after.messages.map((m) => m.body.title)));
      assert.equal(fraud.body.status, 'firing');
      assert.ok(fraud.notificationId.length > 0);
      assert.equal(fraud.body.alerts[0]?.labels['priority'], 'P1');
      // The JSON body as it arrived opens under the message.
      await message.first().getByText('JSON body').click();
      await message.first().locator('pre').getByText('"HighRiskTransactions"').first().waitFor();
      await section.scrollIntoViewIfNeeded();
      await shot(page, 'demo-webhook-inbox-1280');

      // The same alert as an e-mail, received over SMTP and decoded as a mail client shows it.
      const mailSection = page.getByTestId('demo-email-inbox');
      const mail = mailSection.getByTestId('email-message').filter({ hasText: 'HIGH RISK TRANSACTION ALERT' });
      await mail.first().waitFor({ timeout: 60_000 });
      assert.equal(await page.evaluate('window.__mark'), 42, 'the page was reloaded');
      assert.match(await mail.first().innerText(), /From alerts@shoplens\.localhost to oncall@shop\.localhost/);
      await mail.first().getByText('Message').click();
      assert.match(await mail.first().locator('pre').innerText(), /Total amount: \$[\d,]+\.\d\d/);
      const mails = (await (await fetch(`${url}/api/v1/demo/email-inbox`)).json()) as {
        url: string;
        messages: { subject: string; to: string[]; text: string; notificationId: string }[];
      };
      assert.match(mails.url, /^smtp:\/\/127\.0\.0\.1:\d+$/);
      const fraudMail = mails.messages.find((m) => m.subject.includes('HIGH RISK TRANSACTION ALERT'));
      assert.ok(fraudMail, JSON.stringify(mails.messages.map((m) => m.subject)));
      assert.deepEqual(fraudMail.to, ['oncall@shop.localhost']);
      assert.ok(fraudMail.notificationId.length > 0);
      await mailSection.scrollIntoViewIfNeeded();
      await shot(page, 'demo-email-inbox-1280');

      const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      await phone.goto(`${url}/alerts`);
      const onPhone = phone.getByTestId('demo-webhook-inbox').getByTestId('webhook-message');
      await onPhone.filter({ hasText: 'high-risk transactions' }).first().waitFor();
      // Nothing wider than the screen.
      const width = (await phone.evaluate('document.documentElement.scrollWidth')) as number;
      assert.ok(width <= 390, `the page is ${width} px wide at 390`);
      await phone.getByTestId('demo-webhook-inbox').scrollIntoViewIfNeeded();
      await shot(phone, 'demo-webhook-inbox-390');
      await phone.getByTestId('demo-email-inbox').getByTestId('email-message').first().waitFor();
      await phone.getByTestId('demo-email-inbox').scrollIntoViewIfNeeded();
      await shot(phone, 'demo-email-inbox-390');
      await page.close();
      await phone.close();
    } finally {
      controller.abort();
      await run;
    }
  });
});
