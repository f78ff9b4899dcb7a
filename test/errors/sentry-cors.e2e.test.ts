/**
 * CORS on the Sentry ingest routes, with real peers: a page served from
 * another origin (its own port) in Debian's Chromium loads @sentry/browser
 * (bundled by Vite as a shop's build would), is configured with a DSN that the key API made, and reports an
 * exception to a real Shoplens server; the group is read back. The preflight
 * a page's own `X-Sentry-Auth` request needs is answered without a key, as
 * Sentry's Relay answers it (relay-server/src/middlewares/cors.rs); refusals
 * carry CORS too, so the SDK reads them; the rest of the API stays
 * same-origin.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createEnvelope, serializeEnvelope } from '@sentry/core';
import type { Browser, Page } from 'playwright-core';
import { build, type Rolldown } from 'vite';
import { hasChromium, launchChromium } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const BROWSER = hasChromium('the Sentry CORS browser tests');
const ENTRY = new URL('./sentry-browser-entry.ts', import.meta.url).pathname;

/** @sentry/browser as one script that defines window.Sentry. */
async function sentryBundle(): Promise<string> {
  const out = await build({
    configFile: false,
    logLevel: 'silent',
    publicDir: false,
    build: {
      write: false,
      minify: true,
      lib: { entry: ENTRY, formats: ['iife'], name: 'Sentry', fileName: () => 'sentry.js' },
    },
  });
  const first = (Array.isArray(out) ? out[0] : out) as Rolldown.RolldownOutput;
  const chunk = first.output[0];
  assert.ok(chunk.type === 'chunk' && chunk.code.includes('captureException'));
  return chunk.code;
}

const PROJECT = '7';

/** A minimal envelope with one error event, framed by @sentry/core. */
function eventEnvelope(eventId: string, message: string): string {
  const event = {
    event_id: eventId,
    timestamp: Date.now() / 1000,
    platform: 'javascript',
    level: 'error',
    exception: { values: [{ type: 'CorsProbeError', value: message }] },
    tags: { service: 'storefront' },
  };
  const envelope = createEnvelope({ event_id: eventId, sent_at: new Date().toISOString() }, [
    [{ type: 'event' }, event],
  ] as never);
  const serialized = serializeEnvelope(envelope);
  return typeof serialized === 'string' ? serialized : Buffer.from(serialized).toString('utf8');
}

describe('CORS on the Sentry ingest routes', { skip: !BROWSER }, () => {
  let srv: TestServer;
  let origin: Server;
  let originUrl = '';
  let browser: Browser;
  let page: Page;
  let adminKey = '';
  let ingestKey = '';
  let dsn = '';
  const consoleErrors: string[] = [];

  const groups = async (): Promise<any[]> => {
    const r = await fetch(`${srv.url}/api/v1/errors?status=all&limit=50`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    assert.equal(r.status, 200);
    return ((await r.json()) as { groups: any[] }).groups;
  };

  before(async () => {
    srv = await startTestServer({ auth: 'keys' });
    adminKey = (await srv.server.context.keys.create({ tenant: 'shop', role: 'admin', createdBy: 'test' })).key;
    const created = await fetch(`${srv.url}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'ingest', project: PROJECT, name: 'storefront (browser SDK)' }),
    });
    assert.equal(created.status, 201);
    ({ key: ingestKey, dsn } = (await created.json()) as { key: string; dsn: string });

    // The shop's page, on another origin than Shoplens (another port).
    const bundle = await sentryBundle();
    origin = createServer((req, res) => {
      if (req.url === '/sentry.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
        return;
      }
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(
          '<!doctype html><html><head><title>Shop</title><script src="/sentry.js"></script></head><body>Shop</body></html>',
        );
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const address = origin.address();
    assert.ok(address && typeof address === 'object');
    originUrl = `http://127.0.0.1:${address.port}`;
    assert.notEqual(new URL(originUrl).origin, new URL(srv.url).origin);

    browser = await launchChromium();
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(originUrl);
    await page.waitForFunction('typeof window.Sentry?.init === "function"');
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => origin?.close(resolve));
    await srv?.close();
  });

  it('answers the preflight of both routes without a key, with what Relay allows', async () => {
    for (const path of [`/api/${PROJECT}/envelope/`, `/api/${PROJECT}/store/`, `/api/${PROJECT}/envelope`]) {
      const r = await fetch(`${srv.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: originUrl,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-sentry-auth, content-type',
        },
      });
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('access-control-allow-origin'), '*', path);
      assert.equal(r.headers.get('access-control-allow-methods'), 'POST', path);
      const allowed = (r.headers.get('access-control-allow-headers') ?? '').split(/,\s*/);
      for (const h of ['x-sentry-auth', 'content-type', 'content-encoding', 'authorization'])
        assert.ok(allowed.includes(h), `${path} allows ${h}: ${allowed.join(', ')}`);
      assert.equal(r.headers.get('access-control-max-age'), '3600', path);
      assert.equal(await r.text(), '', path);
    }
  });

  it('puts CORS on refusals too, and not on the rest of the API', async () => {
    const refused = await fetch(`${srv.url}/api/${PROJECT}/envelope/?sentry_key=slk_nope_nope`, {
      method: 'POST',
      headers: { origin: originUrl },
      body: eventEnvelope('b'.repeat(32), 'refused'),
    });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('access-control-allow-origin'), '*');
    assert.match(refused.headers.get('access-control-expose-headers') ?? '', /x-sentry-rate-limits/);
    assert.match(refused.headers.get('access-control-expose-headers') ?? '', /retry-after/);

    const api = await fetch(`${srv.url}/api/v1/errors`, {
      headers: { origin: originUrl, authorization: `Bearer ${adminKey}` },
    });
    assert.equal(api.status, 200);
    assert.equal(api.headers.get('access-control-allow-origin'), null);
    const apiPreflight = await fetch(`${srv.url}/api/v1/events`, {
      method: 'OPTIONS',
      headers: { origin: originUrl, 'access-control-request-method': 'POST' },
    });
    assert.equal(apiPreflight.headers.get('access-control-allow-origin'), null);
  });

  it('stores what @sentry/browser sends from a page on another origin', async () => {
    const envelopeAnswers: number[] = [];
    page.on('response', (r) => {
      if (r.url().includes(`/api/${PROJECT}/envelope/`)) envelopeAnswers.push(r.status());
    });
    // A string, not a function: tsx's helpers (__name) do not exist in the page.
    const flushed = await page.evaluate(`(async () => {
      const Sentry = window.Sentry;
      Sentry.init({ dsn: ${JSON.stringify(dsn)}, release: 'storefront@3.2.1', environment: 'production' });
      Sentry.setUser({ id: 'U-9' });
      Sentry.setTag('service', 'storefront');
      function renderCheckoutButton() {
        throw new TypeError('Cannot read properties of undefined (reading "price")');
      }
      try {
        renderCheckoutButton();
      } catch (err) {
        Sentry.captureException(err);
      }
      return Sentry.flush(5000);
    })()`);
    assert.equal(flushed, true);
    let found: any;
    for (let i = 0; i < 50 && !found; i++) {
      found = (await groups()).find((g) => g.type === 'TypeError');
      if (!found) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(found, `no TypeError group; envelope answers ${envelopeAnswers.join(', ')}`);
    assert.equal(found.message, 'Cannot read properties of undefined (reading "price")');
    assert.deepEqual(found.services, ['storefront']);
    assert.equal(found.users, 1);
    assert.ok(envelopeAnswers.length > 0 && envelopeAnswers.every((s) => s === 200), envelopeAnswers.join(', '));
    assert.deepEqual(
      consoleErrors.filter((e) => /CORS|Access-Control/i.test(e)),
      [],
    );
  });

  it("passes a page's preflighted request with X-Sentry-Auth and reads the answer, a refusal included", async () => {
    const body = eventEnvelope('c'.repeat(32), 'sent with X-Sentry-Auth from a page');
    const answers = (await page.evaluate(`(async () => {
      const send = async (sentryKey) => {
        const r = await fetch(${JSON.stringify(`${srv.url}/api/${PROJECT}/envelope/`)}, {
          method: 'POST',
          headers: {
            'X-Sentry-Auth': 'Sentry sentry_version=7, sentry_key=' + sentryKey + ', sentry_client=shop/1.0',
            'Content-Type': 'application/x-sentry-envelope',
          },
          body: ${JSON.stringify(body)},
        });
        return { status: r.status, json: await r.json() };
      };
      return { ok: await send(${JSON.stringify(ingestKey)}), refused: await send('slk_nope_nope') };
    })()`)) as { ok: { status: number; json: any }; refused: { status: number; json: any } };
    assert.equal(answers.ok.status, 200, JSON.stringify(answers.ok.json));
    assert.equal(answers.ok.json.id, 'c'.repeat(32));
    assert.equal(answers.refused.status, 401);
    assert.ok(answers.refused.json.error, JSON.stringify(answers.refused.json));
    let found: any;
    for (let i = 0; i < 50 && !found; i++) {
      found = (await groups()).find((g) => g.type === 'CorsProbeError');
      if (!found) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(found, 'the preflighted event is stored');
  });
});
