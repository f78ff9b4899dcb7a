/**
 * The web UI on a server that requires API keys (Chromium through
 * playwright-core): it asks for a key, keeps asking while the key is wrong,
 * and shows the dashboards once a read key is given.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { UI_DIR } from '../../src/api/routes/ui.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const CHROMIUM = '/usr/bin/chromium';

if (!existsSync(CHROMIUM)) {
  console.error(
    `\n!!! SKIPPING the browser auth test: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does).\n`,
  );
}

describe('web UI with API keys', { skip: !existsSync(CHROMIUM) }, () => {
  let server: TestServer;
  let browser: Browser;
  let readKey = '';

  before(async () => {
    if (!existsSync(join(UI_DIR, 'index.html'))) {
      const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
      assert.equal(build.status, 0, 'npm run build:web failed');
    }
    server = await startTestServer({ auth: 'keys' });
    readKey = (await server.server.context.keys.create({ tenant: 'default', role: 'read', createdBy: 'test' })).key;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
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

    await page.getByLabel('API key', { exact: true }).fill('slk_wrongwrong_' + 'x'.repeat(32));
    await page.getByRole('button', { name: 'Save and retry' }).click();
    await prompt.waitFor();

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
