/**
 * The Admin page in Chromium (playwright-core) on a server with API keys: an
 * admin creates a read key (its text is shown once and never listed), revokes
 * it, runs retention, exports a customer's events as a file and erases them
 * after confirming; a read key sees a 403 message instead of the forms.
 * Screenshots at 1280 px and 390 px go to /tmp/shoplens-shots/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { ensureUiBuilt, hasChromium, launchChromium } from '../helpers/browser.ts';

const BROWSER = hasChromium('the Admin page browser test');
const SHOTS = '/tmp/shoplens-shots';

async function call(server: TestServer, key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('Admin page', { skip: !BROWSER }, () => {
  let server: TestServer;
  let browser: Browser;
  let adminKey = '';
  let readKey = '';
  const pageErrors: string[] = [];

  /** A browser context whose page already holds `key` in localStorage. */
  async function pageWithKey(key: string, width = 1280): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true });
    await context.addInitScript(`localStorage.setItem('shoplens.apiKey', ${JSON.stringify(key)})`);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    return { context, page };
  }

  before(async () => {
    ensureUiBuilt();
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer({ auth: 'keys' });
    const keys = server.server.context.keys;
    adminKey = (await keys.create({ tenant: 'default', role: 'admin', createdBy: 'test' })).key;
    readKey = (await keys.create({ tenant: 'default', role: 'read', createdBy: 'test' })).key;
    const now = Date.now();
    const events = [
      { message: 'login ok', event: { type: 'login' } },
      { message: 'added to cart', event: { type: 'add_to_cart' } },
      { message: 'order placed', event: { type: 'order_completed' }, transaction: { amount: 42.5 } },
    ].map((e, i) => ({
      ...e,
      '@timestamp': new Date(now - (i + 1) * 60_000).toISOString(),
      customer: { id: 'cust_42' },
    }));
    const other = { '@timestamp': new Date(now).toISOString(), message: 'someone else', customer: { id: 'cust_7' } };
    const ingested = await call(server, adminKey, 'POST', '/api/v1/events?refresh=wait_for', [...events, other]);
    assert.equal(ingested.status, 200, JSON.stringify(ingested.json));
    assert.equal(ingested.json['accepted'], 4);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('creates and revokes a key, runs retention, exports and erases a customer', async () => {
    const { context, page } = await pageWithKey(adminKey);
    await page.goto(`${server.url}/admin`);
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    assert.equal(await page.locator('.topbar nav a.active').textContent(), 'Admin');

    // Create a read key: its text is shown once, in a copyable box.
    await page.getByLabel('Key name').fill('grafana reader');
    await page.getByLabel('Key role').selectOption('read');
    await page.getByRole('button', { name: 'Create key' }).click();
    const box = page.getByTestId('new-key');
    await box.waitFor();
    assert.match((await box.textContent()) ?? '', /Copy it now, it will not be shown again/);
    const keyText = await page.getByTestId('new-key-text').inputValue();
    assert.match(keyText, /^slk_[A-Za-z0-9]{10}_[A-Za-z0-9_-]{32}$/);
    const secret = keyText.split('_').slice(2).join('_');
    const row = page.locator('[data-testid=keys-table] tbody tr', { hasText: 'grafana reader' });
    await row.waitFor();
    assert.equal(await row.getByTestId('key-status').textContent(), 'active');
    assert.match((await row.textContent()) ?? '', /read/);
    await page.screenshot({ path: join(SHOTS, 'admin-1280.png'), fullPage: true });
    await page.getByRole('button', { name: 'Done' }).click();
    await box.waitFor({ state: 'detached' });
    // The list never shows key text: not the secret, and not after a reload either.
    assert.ok(!(await page.content()).includes(secret), 'the key secret is still on the page');
    await page.reload();
    await row.waitFor();
    assert.ok(!(await page.content()).includes(secret), 'the key secret came back after a reload');
    assert.equal(await page.getByTestId('new-key').count(), 0);

    // Revoke it, after a confirmation; the server refuses it from then on.
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Yes, revoke' }).waitFor();
    assert.match((await row.getByTestId('key-status').textContent()) ?? '', /^active$/, 'one click does not revoke');
    // Checked at the server too: the status on screen could lag behind a revoke already sent.
    assert.equal((await call(server, keyText, 'POST', '/api/v1/query', { query: '*' })).status, 200);
    await row.getByRole('button', { name: 'Yes, revoke' }).click();
    await page.waitForFunction(
      `[...document.querySelectorAll('[data-testid=keys-table] tbody tr')].some(
        (r) => r.textContent.includes('grafana reader') && r.textContent.includes('revoked'))`,
      null,
      { timeout: 5000 },
    );
    assert.equal((await call(server, keyText, 'POST', '/api/v1/query', { query: '*' })).status, 401);

    // Retention: the report of the run appears.
    const lastRun = page.getByTestId('retention-last-run');
    assert.match((await lastRun.textContent()) ?? '', /Not run yet/);
    await page.getByRole('button', { name: 'Run retention now' }).click();
    await page.waitForFunction(
      `document.querySelector('[data-testid=retention-last-run]')?.textContent?.startsWith('Last run')`,
    );
    assert.match((await lastRun.textContent()) ?? '', /0 expired events deleted/);
    const retentionRows = await page.$$eval('[data-testid=retention-table] tbody tr', (rows) =>
      rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)),
    );
    const app = retentionRows.find((r) => r[0] === 'app');
    assert.deepEqual([app?.[1], app?.[3]], ['30d', '0']);
    assert.notEqual(app?.[2], '—', 'the cutoff of the run is shown');

    // Export cust_42: a JSON file downloads with their 3 events.
    await page.getByLabel('Customer id').fill('cust_42');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export JSON' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'shoplens-customer-cust_42.json');
    const exported = JSON.parse(readFileSync((await download.path()) ?? '', 'utf8')) as {
      count: number;
      customerIds: string[];
      events: { message: string }[];
    };
    assert.equal(exported.count, 3);
    assert.deepEqual(exported.customerIds, ['cust_42']);
    assert.deepEqual(exported.events.map((e) => e.message).sort(), ['added to cart', 'login ok', 'order placed']);
    assert.match((await page.getByTestId('export-result').textContent()) ?? '', /Exported 3 events of cust_42/);

    // Erase cust_42: nothing happens until the id is typed again.
    await page.getByRole('button', { name: 'Erase…' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Confirm erasure' });
    const eraseButton = confirm.getByRole('button', { name: 'Erase permanently' });
    assert.equal(await eraseButton.isDisabled(), true);
    await confirm.getByLabel('Type to confirm').fill('cust_4');
    assert.equal(await eraseButton.isDisabled(), true);
    await confirm.getByLabel('Type to confirm').fill('cust_42');
    await page.screenshot({ path: join(SHOTS, 'admin-gdpr-1280.png'), fullPage: true });
    await eraseButton.click();
    await page.getByTestId('erasure-result').waitFor();
    assert.equal(await page.getByTestId('erased-count').textContent(), '3');
    const left = await call(server, adminKey, 'POST', '/api/v1/query', {
      query: 'customer.id:cust_42 | stats count() as n',
      from: 'now-1h',
    });
    assert.deepEqual(left.json['rows'], [[0]]);
    const others = await call(server, adminKey, 'POST', '/api/v1/query', {
      query: 'customer.id:cust_7 | stats count() as n',
      from: 'now-1h',
    });
    assert.deepEqual(others.json['rows'], [[1]], 'another customer is untouched');

    // The audit trail link opens Explore with the audit query over 7 days, and it lists what was done here
    // (audit entries are stored like any event: visible within a second; the refresh makes sure).
    await call(server, adminKey, 'POST', '/_refresh');
    await page.getByRole('link', { name: /View the audit trail/ }).click();
    await page.waitForURL(/\/explore\?/);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('q'), 'data_class:audit | fields @timestamp, user.id, event.action, message');
    assert.equal(url.searchParams.get('from'), 'now-7d');
    await page.waitForSelector('[data-testid=result-table] tbody tr');
    const audit = (await page.locator('[data-testid=result-table]').textContent()) ?? '';
    for (const action of ['key.create', 'key.revoke', 'retention.run', 'privacy.export', 'privacy.erasure']) {
      assert.ok(audit.includes(action), `the audit trail lacks ${action}`);
    }
    await context.close();
  });

  it('shows a read key the 403 message instead of the forms', async () => {
    const { context, page } = await pageWithKey(readKey, 390);
    await page.goto(`${server.url}/admin`);
    const forbidden = page.getByTestId('admin-forbidden');
    await forbidden.waitFor();
    const text = (await forbidden.textContent()) ?? '';
    assert.match(text, /needs an API key with the admin role/);
    assert.match(text, /role "read"/);
    assert.equal(await page.getByRole('button', { name: 'Create key' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Run retention now' }).count(), 0);
    assert.equal(await page.getByLabel('Customer id').count(), 0);
    await page.screenshot({ path: join(SHOTS, 'admin-403-390.png'), fullPage: true });
    await context.close();
  });

  it('fits a 390 px phone screen', async () => {
    const { context, page } = await pageWithKey(adminKey, 390);
    await page.goto(`${server.url}/admin`);
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'admin-390.png'), fullPage: true });
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
    await context.close();
    assert.deepEqual(pageErrors, []);
  });
});
