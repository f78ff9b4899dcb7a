/**
 * The Alerts page in a real browser (Debian's Chromium): a firing alert with
 * its link, the rules with their last values, a rule's history timeline,
 * and a silence created from the form.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { ensureUiBuilt, hasChromium, launchChromium } from '../helpers/browser.ts';

const BROWSER = hasChromium('the Alerts page test');

describe('Alerts page in Chromium', { skip: !BROWSER }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;

  before(async () => {
    ensureUiBuilt();
    server = await startTestServer({ alerts: { enabled: false } });
    const now = Date.now();
    const risky = Array.from({ length: 7 }, (_, i) =>
      JSON.stringify({
        '@timestamp': new Date(now - 30_000 - i * 1000).toISOString(),
        event: { type: 'payment_transaction', outcome: 'failure' },
        transaction: { amount: 250, gateway: 'stripe' },
        payment: { risk_score: 95 },
        security: { ip_address: '185.220.101.34' },
      }),
    );
    assert.equal((await post(`${server.url}/api/v1/events?refresh=wait_for`, risky.join('\n'))).status, 200);
    await server.server.alerts.tick(); // the pack, once, on the server's own engine
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the firing alert with its summary and a link to its dashboard with the time window', async () => {
    await page.goto(`${server.url}/alerts`);
    const row = page.locator('[data-testid=alerts-table] tbody tr', { hasText: 'HighRiskTransactions' });
    await row.waitFor({ timeout: 15_000 });
    const text = await row.innerText();
    assert.match(text, /firing/);
    assert.match(text, /P1 high/);
    assert.match(text, /7 high-risk transactions in the last 5 minutes/);
    const href = await row.locator('a').getAttribute('href');
    assert.match(href ?? '', /\/dashboards\/payments\?from=.*&to=now/);
  });

  it('lists the rules with their last values, and a rule expands to its history', async () => {
    const rows = page.locator('[data-testid=rules-table] tbody tr');
    assert.ok((await rows.count()) >= 19);
    const rule = rows.filter({ hasText: 'HighRiskTransactions' });
    assert.match(await rule.innerText(), /high_risk=7/);
    await rule.click();
    const history = page.locator('[data-testid=history-HighRiskTransactions]');
    await history.waitFor();
    assert.match(await history.innerText(), /inactive → pending/);
    assert.match(await history.innerText(), /pending → firing/);
  });

  it('creates a silence from the form, and the alert shows as silenced', async () => {
    await page.getByLabel('Value').fill('HighRiskTransactions');
    await page.getByLabel('Comment').fill('pen test tonight');
    await page.getByRole('button', { name: 'Silence' }).click();
    await page.getByText('alertname=HighRiskTransactions — pen test tonight').waitFor();
    const row = page.locator('[data-testid=alerts-table] tbody tr', { hasText: 'HighRiskTransactions' });
    await page.waitForFunction("document.body.innerText.includes('(silenced)')");
    assert.match(await row.innerText(), /silenced/);
  });

  it('creates a rule from the form; a bad condition shows the error', async () => {
    await page.getByLabel('Rule name').fill('NoOrders');
    await page.getByLabel('Rule query').fill('event.type:order_completed | stats count() as orders');
    await page.getByLabel('Rule condition').fill('orders <');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('alert').filter({ hasText: '"condition"' }).waitFor();
    await page.getByLabel('Rule condition').fill('orders < 1');
    await page.getByRole('button', { name: 'Save rule' }).click();
    const row = page.locator('[data-testid=rules-table] tbody tr', { hasText: 'NoOrders' });
    await row.waitFor();
    assert.match(await row.innerText(), /\(api\)/);
  });
});
