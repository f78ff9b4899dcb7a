/**
 * Alerts seen where people look, in a real browser (Debian's Chromium): a
 * pack rule fires on stored events (the server's own engine, driven one
 * pass at a time), and without a reload the top bar's badge counts it, the
 * dashboard its rule belongs to shows a banner, a toast pops up once, the
 * Alerts page and its inbox update, and the inbox acknowledges. The same at
 * 390 px wide. `SHOPLENS_TEST_SHOTS=<dir>` saves screenshots there.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { ensureUiBuilt, hasChromium, launchChromium } from '../helpers/browser.ts';

const BROWSER = hasChromium('the live alerts test');
const SHOTS = process.env['SHOPLENS_TEST_SHOTS'];

function riskyPayments(n: number): string {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      '@timestamp': new Date(now - 30_000 - i * 1000).toISOString(),
      // Approved, so that only the fraud rule (P1) fires: failed stripe payments would also raise the
      // pack's P0 payment-success rule, which holds no `for:` since it is evaluated on each batch.
      event: { type: 'payment_transaction', outcome: 'success' },
      transaction: { amount: 250, gateway: 'stripe' },
      payment: { risk_score: 95 },
      security: { ip_address: '185.220.101.34' },
    }),
  ).join('\n');
}

/** Waits for the page's next answer of the live endpoint (the UI has then drawn what it says). */
async function nextLivePoll(page: Page): Promise<void> {
  await page.waitForResponse((r) => r.url().includes('/api/v1/alerts/live'), { timeout: 20_000 });
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => resolve(null)))');
}

/** Marks the document: a reload would lose the mark. */
const markDocument = (page: Page) => page.evaluate('window.__mark = 42');
const documentMark = (page: Page) => page.evaluate('window.__mark');

describe('live alerts in Chromium: badge, banner, toast, inbox', { skip: !BROWSER }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let phone: Page;

  const shot = async (p: Page, name: string) => {
    if (!SHOTS) return;
    mkdirSync(SHOTS, { recursive: true });
    await p.screenshot({ path: join(SHOTS, `${name}.png`) });
  };

  before(async () => {
    ensureUiBuilt();
    server = await startTestServer({ alerts: { enabled: false } });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows no badge, banner or toast while nothing fires', async () => {
    await page.goto(`${server.url}/dashboards/payments`);
    await page.getByRole('heading', { name: 'Payment monitoring' }).waitFor();
    await nextLivePoll(page);
    assert.equal(await page.locator('[data-testid=alert-badge]').count(), 0);
    assert.equal(await page.locator('[data-testid=dashboard-alert-banner]').count(), 0);
    assert.equal(await page.locator('[data-testid=alert-toast]').count(), 0);
    await phone.goto(`${server.url}/dashboards/payments`);
    await phone.getByRole('heading', { name: 'Payment monitoring' }).waitFor();
    await markDocument(page);
    await markDocument(phone);
  });

  it('a firing P1 appears as badge, dashboard banner and toast, without a reload', async () => {
    const res = await post(`${server.url}/api/v1/events?refresh=wait_for`, riskyPayments(7));
    assert.equal(res.status, 200);
    await server.server.alerts.tick(); // the pack, once, on the server's own engine

    const badge = page.locator('[data-testid=alert-badge]');
    await badge.waitFor({ timeout: 20_000 });
    assert.equal(await badge.innerText(), '1');
    assert.equal(await badge.getAttribute('aria-label'), '1 alert firing');
    const banner = page.locator('[data-testid=dashboard-alert-banner]');
    await banner.waitFor();
    const bannerText = await banner.innerText();
    assert.match(bannerText, /1 alert firing on this dashboard/);
    assert.match(bannerText, /P1\s+HighRiskTransactions\s+7 high-risk transactions in the last 5 minutes/);
    const toast = page.locator('[data-testid=alert-toast]');
    await toast.waitFor();
    assert.match(await toast.innerText(), /P1 high\s+HighRiskTransactions[\s×]+7 high-risk transactions/);
    assert.equal(await documentMark(page), 42, 'the page was not reloaded');
    await shot(page, 'desktop-dashboard-badge-banner-toast');

    // At 390 px: the same three, each inside the screen.
    for (const id of ['alert-badge', 'dashboard-alert-banner', 'alert-toast']) {
      const el = phone.locator(`[data-testid=${id}]`);
      await el.waitFor({ timeout: 20_000 });
      const box = await el.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${id} at 390 px: ${JSON.stringify(box)}`);
    }
    assert.equal(await documentMark(phone), 42);
    await shot(phone, 'phone-dashboard-badge-banner-toast');
  });

  it('a dismissed toast stays dismissed, also after a reload', async () => {
    await page.locator('[data-testid=alert-toast]').getByRole('button', { name: 'Dismiss' }).click();
    assert.equal(await page.locator('[data-testid=alert-toast]').count(), 0);
    await page.reload();
    await page.locator('[data-testid=alert-badge]').waitFor({ timeout: 20_000 });
    await nextLivePoll(page);
    assert.equal(await page.locator('[data-testid=alert-toast]').count(), 0, 'the toast came back');
    assert.equal(await page.locator('[data-testid=dashboard-alert-banner]').count(), 1);
  });

  it('shows the banner only on the dashboard the rule belongs to', async () => {
    await page.goto(`${server.url}/dashboards/checkout`);
    await page.getByRole('heading', { name: 'Checkout health' }).waitFor();
    await page.locator('[data-testid=alert-badge]').waitFor({ timeout: 20_000 });
    await nextLivePoll(page);
    assert.equal(await page.locator('[data-testid=dashboard-alert-banner]').count(), 0);
  });

  it('the Alerts page and its inbox update live; the inbox acknowledges', async () => {
    await page.locator('.topbar nav a', { hasText: 'Alerts' }).click();
    await page.waitForURL(/\/alerts$/);
    const inbox = page.locator('[data-testid=alert-inbox]');
    await inbox.locator('[data-testid=inbox-item]', { hasText: 'HighRiskTransactions' }).waitFor({ timeout: 20_000 });
    assert.match(await inbox.locator('[data-testid=inbox-unread]').innerText(), /\(1 unread\)/);
    await markDocument(page);

    // A P0 rule of the checkout dashboard fires while the page is open.
    const rule = await fetch(`${server.url}/api/v1/alerts/rules/CheckoutDown`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          'event.type:api_request AND http.route:"/api/checkout" | stats countif(http.response.status_code:>=500) as errors',
        condition: 'errors >= 3',
        severity: 'P0',
        dashboard: '/dashboards/checkout',
        annotations: { summary: '{{ value.errors }} checkouts failed with 5xx' },
      }),
    });
    assert.equal(rule.status, 200, await rule.text());
    const failures = Array.from({ length: 4 }, (_, i) =>
      JSON.stringify({
        '@timestamp': new Date(Date.now() - 20_000 - i * 1000).toISOString(),
        event: { type: 'api_request' },
        http: { route: '/api/checkout', response: { status_code: 503 } },
        service: { name: 'order-service' },
      }),
    ).join('\n');
    assert.equal((await post(`${server.url}/api/v1/events?refresh=wait_for`, failures)).status, 200);
    await server.server.alerts.tick();

    const row = page.locator('[data-testid=alerts-table] tbody tr', { hasText: 'CheckoutDown' });
    await row.waitFor({ timeout: 20_000 });
    assert.match(await row.innerText(), /P0 critical/);
    await page.waitForFunction("document.querySelector('[data-testid=alert-badge]')?.textContent === '2'", undefined, {
      timeout: 20_000,
    });
    const toast = page.locator('[data-testid=alert-toast]', { hasText: 'CheckoutDown' });
    await toast.waitFor();
    assert.match(await toast.innerText(), /P0 critical\s+CheckoutDown[\s×]+4 checkouts failed with 5xx/);
    await inbox.locator('[data-testid=inbox-item]', { hasText: 'CheckoutDown' }).waitFor({ timeout: 20_000 });
    assert.match(await inbox.locator('[data-testid=inbox-unread]').innerText(), /\(2 unread\)/);
    // Newest first.
    assert.match(await inbox.locator('[data-testid=inbox-item]').first().innerText(), /CheckoutDown/);
    assert.equal(await documentMark(page), 42, 'the page was not reloaded');
    await shot(page, 'desktop-alerts-inbox-toast');

    // A phone that has seen neither alert: one toast on its screen, the newest, and the other counted.
    const fresh = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      await fresh.goto(`${server.url}/dashboards`);
      await fresh.locator('[data-testid=alert-toast]').first().waitFor({ timeout: 20_000 });
      await fresh.getByRole('button', { name: /1 more firing/ }).waitFor();
      assert.equal(await fresh.locator('[data-testid=alert-toast]').count(), 1, 'one toast at a time on a phone');
      assert.match(await fresh.locator('[data-testid=alert-toast]').innerText(), /CheckoutDown/);
    } finally {
      await fresh.close();
    }

    // At 390 px, an unread item's Acknowledge button is on the screen.
    await phone.goto(`${server.url}/alerts`);
    const unread = phone.locator('[data-testid=inbox-item]', { hasText: 'CheckoutDown' });
    await unread.waitFor({ timeout: 20_000 });
    await unread.scrollIntoViewIfNeeded();
    const button = await unread.getByRole('button', { name: 'Acknowledge' }).boundingBox();
    assert.ok(button && button.x >= 0 && button.x + button.width <= 390, JSON.stringify(button));
    await shot(phone, 'phone-alerts-inbox-unread');

    const fraud = inbox.locator('[data-testid=inbox-item]', { hasText: 'HighRiskTransactions' });
    await fraud.getByRole('button', { name: 'Acknowledge' }).click();
    await fraud.getByText(/acknowledged/).waitFor();
    assert.match(await inbox.locator('[data-testid=inbox-unread]').innerText(), /\(1 unread\)/);
    await inbox.getByRole('button', { name: 'Acknowledge all' }).click();
    await page.waitForFunction(
      "document.querySelector('[data-testid=inbox-unread]')?.textContent === '(0 unread)'",
      undefined,
      { timeout: 20_000 },
    );
    const stored = (await (await fetch(`${server.url}/api/v1/alerts/inbox`)).json()) as {
      unread: number;
      items: { acknowledgedAt?: string; alerts: { alertname: string }[] }[];
    };
    assert.equal(stored.unread, 0);
    assert.deepEqual(
      stored.items.map((i) => [i.alerts[0]?.alertname, typeof i.acknowledgedAt]),
      [
        ['CheckoutDown', 'string'],
        ['HighRiskTransactions', 'string'],
      ],
    );
  });

  it('the inbox works at 390 px', async () => {
    await phone.goto(`${server.url}/alerts`);
    const item = phone.locator('[data-testid=inbox-item]').first();
    await item.waitFor({ timeout: 20_000 });
    const box = await item.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, JSON.stringify(box));
    await phone.locator('[data-testid=alert-inbox]').scrollIntoViewIfNeeded();
    await shot(phone, 'phone-alerts-inbox');
    await phone.evaluate('window.scrollTo(0, 0)');
    await shot(phone, 'phone-alerts-top');
  });
});
