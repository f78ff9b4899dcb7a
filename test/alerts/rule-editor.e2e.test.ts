/**
 * Editing a rule on the Alerts page in a real browser (Debian's Chromium):
 * open an API rule in the editor, preview it over the last 24 h against
 * ingested error bursts, save a bad edit (the field is named and marked),
 * save a good one; a pack rule opens as a read-only copy. Screenshots at
 * 1280 and 390 px go to /tmp/shots-alert-msg/ for a person to look at.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureUiBuilt, hasChromium, launchChromium } from '../helpers/browser.ts';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';

const BROWSER = hasChromium('the rule editor test');
const SHOTS = '/tmp/shots-alert-msg';
const MIN = 60_000;
/** Two separate bursts of 100 errors in 10 minutes each: every 5-minute window inside one holds about 50. */
const BURSTS_AGO = [9 * 60 * MIN, 2 * 60 * MIN];

function events(nowMs: number): string {
  const lines: string[] = [];
  for (const ago of BURSTS_AGO)
    for (let i = 0; i < 100; i++)
      lines.push(
        JSON.stringify({
          '@timestamp': new Date(nowMs - ago + i * 6000).toISOString(),
          event: { type: 'api_request' },
          service: { name: 'checkout' },
          http: { response: { status_code: 503 }, route: '/api/checkout' },
        }),
      );
  return lines.join('\n');
}

describe('rule editor in Chromium', { skip: !BROWSER }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;

  before(async () => {
    ensureUiBuilt();
    server = await startTestServer({ alerts: { enabled: false } });
    assert.equal((await post(`${server.url}/api/v1/events?refresh=wait_for`, events(Date.now()))).status, 200);
    const rule = {
      query:
        'event.type:api_request | stats countif(http.response.status_code:>=500) as errors, count() as requests by service.name',
      condition: 'errors >= 1000',
      window: '5m',
      severity: 'P2',
      group_by: ['service.name'],
    };
    const put = await fetch(`${server.url}/api/v1/alerts/rules/CheckoutErrors`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rule),
    });
    assert.equal(put.status, 200);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('opens an API rule in the editor and previews when it would have fired', async () => {
    await page.goto(`${server.url}/alerts`);
    const row = page.locator('[data-testid=rules-table] tbody tr', { hasText: 'CheckoutErrors' });
    await row.getByRole('button', { name: 'Edit' }).click();
    const editor = page.locator('[data-testid=rule-editor]');
    await editor.getByRole('heading', { name: 'Edit rule CheckoutErrors' }).waitFor();
    assert.equal(await editor.getByLabel('Rule name').inputValue(), 'CheckoutErrors');
    assert.equal(await editor.getByLabel('Rule name').getAttribute('readonly'), '');
    assert.equal(await editor.getByLabel('Rule window').inputValue(), '5m');

    await editor.getByRole('button', { name: 'Preview last 24 h' }).click();
    const summary = editor.locator('[data-testid=preview-summary]');
    await summary.waitFor();
    assert.match(
      await summary.innerText(),
      /^Would not have fired in the last 24 h\. 288 evaluations, one every 5 min\./,
    );

    await editor.getByLabel('Rule condition').fill('errors >= 10');
    await editor.getByRole('button', { name: 'Preview last 24 h' }).click();
    await page.waitForFunction(
      "document.querySelector('[data-testid=preview-summary]')?.textContent?.startsWith('Would have fired')",
    );
    assert.match(
      await summary.innerText(),
      new RegExp(`^Would have fired ${BURSTS_AGO.length} times in the last 24 h\\.`),
    );
    const episodes = editor.locator('[data-testid=preview-episodes] li');
    assert.equal(await episodes.count(), BURSTS_AGO.length);
    const first = await episodes.first().innerText();
    assert.match(first, /Service checkout/);
    assert.match(first, /resolved .*, after \d+ min/);
    assert.match(first, /Errors: \d+ · Requests: \d+/);
    const timeline = editor.locator('[data-testid=preview-timeline]');
    assert.match(
      (await timeline.getAttribute('aria-label')) ?? '',
      /^Timeline of 288 evaluations, [1-9]\d* of them firing$/,
    );

    await editor.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/editor-1280.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await editor.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/editor-390.png`, fullPage: true });
    await editor.screenshot({ path: `${SHOTS}/editor-390-only.png` });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('names and marks the field of a bad edit, then saves a good one', async () => {
    const editor = page.locator('[data-testid=rule-editor]');
    await editor.getByLabel('Rule window').fill('five minutes');
    await editor.getByRole('button', { name: 'Save changes' }).click();
    await editor.getByRole('alert').filter({ hasText: '"window"' }).waitFor();
    assert.equal(await editor.getByLabel('Rule window').getAttribute('aria-invalid'), 'true');
    await editor.getByLabel('Rule window').fill('5m');
    await editor.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'New rule' }).waitFor();
    const row = page.locator('[data-testid=rules-table] tbody tr', { hasText: 'CheckoutErrors' });
    await page.waitForFunction(
      "[...document.querySelectorAll('[data-testid=rules-table] tbody tr')].some((tr) => tr.textContent.includes('CheckoutErrors') && tr.textContent.includes('errors >= 10'))",
    );
    assert.match(await row.innerText(), /errors >= 10/);
    const stored = (await (await fetch(`${server.url}/api/v1/alerts/rules/CheckoutErrors`)).json()) as {
      spec: { condition: string; window: number; group_by: string[] };
    };
    assert.equal(stored.spec.condition, 'errors >= 10');
    assert.equal(stored.spec.window, 5 * MIN);
    assert.deepEqual(stored.spec.group_by, ['service.name']);
  });

  it('opens a pack rule as a copy, saying the original is read-only', async () => {
    const row = page.locator('[data-testid=rules-table] tbody tr', { hasText: 'HighRiskTransactions' });
    await row.getByRole('button', { name: 'Copy to edit' }).click();
    const editor = page.locator('[data-testid=rule-editor]');
    await editor.getByRole('heading', { name: 'Copy of HighRiskTransactions' }).waitFor();
    assert.match(
      await editor.locator('[data-testid=copy-note]').innerText(),
      /comes from the rule pack and is read-only/,
    );
    assert.equal(await editor.getByLabel('Rule condition').inputValue(), 'high_risk >= 5');
    assert.match(await editor.getByLabel('Other settings').inputValue(), /"email_subject"/);
    await page.screenshot({ path: `${SHOTS}/copy-1280.png`, fullPage: false });
  });
});
