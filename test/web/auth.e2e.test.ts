/**
 * The web UI on a server that requires API keys (Chromium through
 * playwright-core): it asks for a key, keeps asking while the key is wrong,
 * and shows the dashboards once a read key is given.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { ensureUiBuilt, hasChromium, launchChromium } from '../helpers/browser.ts';

const BROWSER = hasChromium('the browser auth test');

describe('web UI with API keys', { skip: !BROWSER }, () => {
  let server: TestServer;
  let browser: Browser;
  let readKey = '';

  before(async () => {
    ensureUiBuilt();
    server = await startTestServer({ auth: 'keys' });
    readKey = (await server.server.context.keys.create({ tenant: 'default', role: 'read', createdBy: 'test' })).key;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('asks for a key, refuses a wrong one, and loads the dashboards with a read key', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/dashboards`);
    const prompt = page.getByRole('dialog', { name: 'Enter your API key' });
    await prompt.waitFor();
    assert.equal(await page.locator('.card').count(), 0, 'nothing is shown without a key');

    // The prompt is on screen already: wait for what a wrong key really causes, a request sent with
    // that key, refused with 401, and then a new, empty prompt.
    const wrongKey = 'slk_wrongwrong_' + 'x'.repeat(32);
    const withWrongKey = page.waitForResponse((r) => r.request().headers()['authorization'] === `Bearer ${wrongKey}`);
    await page.getByLabel('API key', { exact: true }).fill(wrongKey);
    await page.getByRole('button', { name: 'Save and retry' }).click();
    assert.equal((await withWrongKey).status(), 401, 'the wrong key was sent and refused');
    await prompt.waitFor();
    assert.equal(await page.getByLabel('API key', { exact: true }).inputValue(), '', 'asked again, from scratch');
    assert.equal(await page.locator('.card').count(), 0, 'nothing is shown with a wrong key');

    await page.getByLabel('API key', { exact: true }).fill(readKey);
    await page.getByRole('button', { name: 'Save and retry' }).click();
    await page.waitForSelector('.card');
    assert.ok((await page.locator('.card').count()) >= 7);
    assert.equal(await prompt.count(), 0);
    // The key stays in this browser only, for the next visit.
    assert.equal(await page.evaluate('localStorage.getItem("shoplens.apiKey")'), readKey);
    await page.close();
  });
});
