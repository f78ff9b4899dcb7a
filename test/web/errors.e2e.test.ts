/**
 * The Errors pages in a real browser (Debian's Chromium through
 * playwright-core) over a real server: a seeded shop's commerce events and
 * three kinds of error, sent as NDJSON. The list sorted by revenue at risk
 * shows each group's events, users and money at risk as the test computes
 * them from the events it sent (docs/errors.md "Revenue at risk"); a group's
 * page shows the stack trace with its in-app frames first and library frames
 * folded, the tags, and recent events whose links lead to Explore with the
 * group's events and to the trace; resolving moves the group out of the
 * unresolved list; both pages fit 1280 px and a 390 px phone.
 * Screenshots go to /tmp/shoplens-shots/errors-*.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { formatMoney } from '../../web/src/format.ts';
import { ensureUiBuilt, hasChromium, launchChromium } from '../helpers/browser.ts';
import { mulberry32 } from '../helpers/rng.ts';
import { post, startTestServer, testDataDir, type TestServer } from '../helpers/server.ts';

type Event = Record<string, any>;

const BROWSER = hasChromium('the Errors page browser tests');
const SHOTS = '/tmp/shoplens-shots';
const PAGE_OVERFLOW = 'document.documentElement.scrollWidth - window.innerWidth';

const NOW = Date.now();
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();

const frame = (fn: string, file: string, line: number, inApp: boolean) => ({
  function: fn,
  filename: file,
  lineno: line,
  in_app: inApp,
});
/** Outermost first, as Sentry and the NDJSON fields order them. */
const KINDS = {
  gatewayTimeout: {
    service: 'payment-service',
    type: 'GatewayTimeoutException',
    message: (s: number) => `Gateway stripe timed out after ${30_000 + s} ms`,
    frames: [
      frame('Layer.handle', '/app/node_modules/express/lib/router/layer.js', 95, false),
      frame('CheckoutController.submit', '/app/src/http/checkout-controller.ts', 27, true),
      frame('PaymentProcessor.charge', '/app/src/payment/payment-processor.ts', 88, true),
      frame('Stripe.request', '/app/node_modules/stripe/lib/StripeResource.js', 210, false),
      frame('ClientRequest.onTimeout', '/app/node_modules/stripe/lib/net/NodeHttpClient.js', 61, false),
    ],
  },
  stockConflict: {
    service: 'inventory-service',
    type: 'StockReservationConflict',
    message: (s: number) => `Reservation for SKU-${100 + (s % 7)} lost to a concurrent order`,
    frames: [
      frame('CartController.addItem', '/app/src/http/cart-controller.ts', 41, true),
      frame('InventoryService.reserve', '/app/src/inventory/inventory-service.ts', 130, true),
      frame('Pool.query', '/app/node_modules/pg-pool/index.js', 45, false),
    ],
  },
  declined: {
    service: 'order-service',
    type: 'PaymentDeclinedException',
    message: (s: number) => `Payment declined for order ORD-${1000 + s} (amount ${(s * 1.37).toFixed(2)})`,
    frames: [] as ReturnType<typeof frame>[],
  },
};
type KindName = keyof typeof KINDS;

/** A seeded shop: sessions that add to cart, check out, pay; some hit an error, some complete anyway. */
function shop(seed: number): { events: Event[]; errorsByKind: Record<KindName, Event[]> } {
  const random = mulberry32(seed);
  const events: Event[] = [];
  const errorsByKind: Record<KindName, Event[]> = { gatewayTimeout: [], stockConflict: [], declined: [] };
  for (let s = 0; s < 90; s++) {
    const session = `S-${s}`;
    const user = `U-${s % 55}`;
    const order = `ORD-${1000 + s}`;
    const trace = `${(s + 1).toString(16).padStart(32, 'a')}`;
    const cart = Math.round(random() * 40_000) / 100 + 5;
    const currency = s % 4 === 0 ? 'EUR' : 'USD';
    const t0 = 300 - s * 3;
    const base = { user: { id: user, session_id: session } };
    events.push({
      '@timestamp': at(t0),
      event: { type: 'add_to_cart' },
      ...base,
      cart: { value: cart },
      transaction: { currency },
    });
    const checksOut = random() < 0.75;
    if (checksOut) {
      events.push({
        '@timestamp': at(t0 - 1),
        event: { type: 'checkout_started' },
        ...base,
        order: { id: order },
        cart: { value: cart },
        transaction: { currency },
      });
    }
    const roll = random();
    const kind: KindName | undefined =
      roll < 0.3 ? 'gatewayTimeout' : roll < 0.42 ? 'stockConflict' : roll < 0.5 ? 'declined' : undefined;
    const total = Math.round(cart * 108) / 100;
    const paid = checksOut && random() < 0.85;
    if (paid) {
      events.push({
        '@timestamp': at(t0 - 2),
        event: { type: 'payment_transaction', outcome: kind ? 'failure' : 'success' },
        ...base,
        order: { id: order },
        transaction: { amount: total, currency, gateway: s % 2 === 0 ? 'stripe' : 'adyen' },
        trace_id: trace,
      });
    }
    if (kind) {
      const k = KINDS[kind];
      const error: Event = {
        '@timestamp': at(t0 - 2.5),
        service: { name: k.service, version: s % 3 === 0 ? '2.4.0' : '2.5.0' },
        deployment: { environment: s % 5 === 0 ? 'staging' : 'production' },
        event: { type: 'error' },
        log: { level: 'ERROR' },
        exception: { type: k.type, message: k.message(s), ...(k.frames.length > 0 ? { frames: k.frames } : {}) },
        user: { id: user, session_id: session },
        order: { id: order },
        trace_id: trace,
        labels: { browser: s % 2 === 0 ? 'Chrome' : 'Safari', region: s % 3 === 0 ? 'eu-west' : 'us-east' },
      };
      events.push(error);
      errorsByKind[kind].push(error);
    }
    if (paid && (!kind || random() < 0.25)) {
      events.push({
        '@timestamp': at(t0 - 3),
        event: { type: 'order_completed' },
        ...base,
        order: { id: order },
        transaction: { amount: total, currency },
      });
    }
  }
  return { events, errorsByKind };
}

const COMMERCE = new Set([
  'add_to_cart',
  'cart_viewed',
  'checkout_started',
  'checkout_step_completed',
  'shipping_info_entered',
  'payment_info_entered',
  'payment_transaction',
  'payment_failed',
  'payment_completed',
  'cart_abandoned',
  'order_completed',
]);

/**
 * docs/errors.md "Revenue at risk" over the events sent: the values of the linked attempts that
 * did not complete, per currency.
 */
function revenueAtRisk(events: Event[], errors: Event[]): Record<string, number> {
  const sessions = new Set(errors.map((e) => e.user?.session_id).filter(Boolean));
  const orders = new Set(errors.map((e) => e.order?.id).filter(Boolean));
  const traces = new Set(errors.map((e) => e.trace_id).filter(Boolean));
  const attempts = new Map<string, Event[]>();
  for (const e of events) {
    if (!COMMERCE.has(e.event?.type)) continue;
    const key = e.user?.session_id ?? e.order?.id ?? e.trace_id;
    attempts.set(key, [...(attempts.get(key) ?? []), e]);
  }
  const byCurrency: Record<string, number> = {};
  for (const list of attempts.values()) {
    const linked = list.some(
      (e) => sessions.has(e.user?.session_id) || orders.has(e.order?.id) || traces.has(e.trace_id),
    );
    const completed = list.some(
      (e) =>
        e.event.type === 'order_completed' ||
        e.event.type === 'payment_completed' ||
        (e.event.type === 'payment_transaction' && e.event.outcome === 'success'),
    );
    if (!linked || completed) continue;
    const values = list.map((e) => e.transaction?.amount ?? e.cart?.value).filter((v) => typeof v === 'number');
    const currency = list.find((e) => e.transaction?.currency)?.transaction.currency as string;
    if (values.length > 0) byCurrency[currency] = (byCurrency[currency] ?? 0) + Math.max(...values);
  }
  for (const c of Object.keys(byCurrency)) byCurrency[c] = Math.round(byCurrency[c]! * 100) / 100;
  return byCurrency;
}

/** The amounts as the page shows them, in any order of currencies. */
function moneyTexts(byCurrency: Record<string, number>): string[] {
  return Object.entries(byCurrency)
    .map(([currency, amount]) => formatMoney(amount, currency))
    .sort();
}

const total = (byCurrency: Record<string, number>) => Object.values(byCurrency).reduce((a, b) => a + b, 0);

async function shoot(page: Page, name: string): Promise<number> {
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(SHOTS, `errors-${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(SHOTS, `errors-${name}-390.png`), fullPage: true });
  await page.screenshot({ path: join(SHOTS, `errors-${name}-390-top.png`) });
  const overflow = Number(await page.evaluate(PAGE_OVERFLOW));
  await page.setViewportSize({ width: 1280, height: 900 });
  return overflow;
}

describe('Errors pages in Chromium', { skip: !BROWSER }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const data = shop(21);
  const kinds = Object.keys(KINDS) as KindName[];
  /** What the list must show per kind, computed here from the events sent. */
  const expected = Object.fromEntries(
    kinds.map((k) => {
      const errors = data.errorsByKind[k];
      return [
        k,
        {
          events: errors.length,
          users: new Set(errors.map((e) => e.user.id)).size,
          revenue: revenueAtRisk(data.events, errors),
        },
      ];
    }),
  ) as Record<KindName, { events: number; users: number; revenue: Record<string, number> }>;

  before(async () => {
    ensureUiBuilt();
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer({}, testDataDir());
    const r = await post(
      `${server.url}/api/v1/events?refresh=wait_for`,
      data.events.map((e) => JSON.stringify(e)).join('\n'),
    );
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.accepted, data.events.length, JSON.stringify(r.json.rejected));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('has the fixtures it needs: three kinds of error, each with money at risk', () => {
    for (const k of kinds) {
      assert.ok(expected[k].events >= 3, `${k}: ${expected[k].events} errors`);
      assert.ok(total(expected[k].revenue) > 0, `${k} puts money at risk`);
    }
    assert.ok(
      kinds.some((k) => Object.keys(expected[k].revenue).length === 2),
      'some group puts money at risk in two currencies',
    );
    const revenues = kinds.map((k) => total(expected[k].revenue));
    assert.equal(new Set(revenues).size, 3, 'the kinds have different amounts, so the order is meaningful');
  });

  it('lists the groups from the nav, sorted by revenue at risk with the figures of the events sent', async () => {
    await page.goto(`${server.url}/dashboards`);
    await page.locator('.topbar nav a', { hasText: 'Errors' }).click();
    await page.waitForSelector('[data-testid=error-row]');
    assert.equal(new URL(page.url()).pathname, '/errors');
    assert.equal(await page.locator('.topbar nav a.active').textContent(), 'Errors');

    await page.click('[data-testid=sort-revenue]');
    await page.waitForFunction("location.search.includes('sort=revenue')");
    await page.waitForSelector('[data-testid=sort-revenue].active');
    await page.waitForSelector('[data-testid=sparkline] canvas');
    const rows = await page.$$eval('[data-testid=error-row]', (trs) =>
      trs.map((tr) => ({
        title: tr.querySelector('[data-testid=error-link] strong')?.textContent ?? '',
        events: tr.querySelector('[data-testid=cell-events]')?.textContent ?? '',
        users: tr.querySelector('[data-testid=cell-users]')?.textContent ?? '',
        revenue: tr.querySelector('[data-testid=cell-revenue]')?.textContent ?? '',
        sparkline: tr.querySelector('[data-testid=sparkline] canvas') !== null,
        state: tr.querySelector('.status-badge')?.textContent ?? '',
      })),
    );
    // Sorting adds the currencies' amounts as numbers (docs/errors.md).
    const order = [...kinds].sort((a, b) => total(expected[b].revenue) - total(expected[a].revenue));
    assert.deepEqual(
      rows.map((r) => r.title),
      order.map((k) => KINDS[k].type),
    );
    for (const [i, k] of order.entries()) {
      const row = rows[i]!;
      assert.equal(row.events, String(expected[k].events), `${k} events`);
      assert.equal(row.users, String(expected[k].users), `${k} users`);
      assert.deepEqual(row.revenue.split(' + ').sort(), moneyTexts(expected[k].revenue), `${k} revenue at risk`);
      assert.ok(row.sparkline, `${k} draws a sparkline`);
      assert.equal(row.state, 'Unresolved');
    }
    const overflow = await shoot(page, 'list');
    assert.ok(overflow <= 0, `the list is ${overflow} px wider than a 390 px phone`);
  });

  it('filters the list by service, and the filter is in the URL', async () => {
    await page.goto(`${server.url}/errors?sort=events`);
    await page.waitForSelector('[data-testid=error-row]');
    await page.waitForSelector('[data-testid=filter-service] option[value=inventory-service]', { state: 'attached' });
    await page.selectOption('[data-testid=filter-service]', 'inventory-service');
    await page.waitForFunction("document.querySelectorAll('[data-testid=error-row]').length === 1");
    assert.match(page.url(), /service=inventory-service/);
    assert.equal(await page.locator('[data-testid=error-link] strong').textContent(), KINDS.stockConflict.type);
  });

  it('opens a group: stack trace with in-app frames first, tags, recent events, and a link to Explore', async () => {
    await page.goto(`${server.url}/errors?sort=revenue`);
    await page.locator('[data-testid=error-row]', { hasText: KINDS.gatewayTimeout.type }).locator('a').click();
    await page.waitForSelector('[data-testid=stack-trace]');
    assert.match(new URL(page.url()).pathname, /^\/errors\/[0-9a-f]+$/);
    assert.equal(
      await page.locator('[data-testid=group-events] .figure-value').textContent(),
      String(expected.gatewayTimeout.events),
    );
    const revenue = (await page.locator('[data-testid=group-revenue] .figure-value').textContent()) ?? '';
    assert.deepEqual(revenue.split(' + ').sort(), moneyTexts(expected.gatewayTimeout.revenue));
    await page.waitForSelector('[data-testid=trend-chart] canvas');

    // Innermost first: the in-app frames, then the library ones folded away.
    const inApp = await page.$$eval('[data-testid=in-app-frames] .frame-fn', (f) => f.map((x) => x.textContent));
    assert.deepEqual(inApp, ['PaymentProcessor.charge', 'CheckoutController.submit']);
    const library = page.locator('[data-testid=library-frames]');
    assert.equal(await library.getAttribute('open'), null, 'library frames start folded');
    assert.equal(await library.locator('summary').textContent(), '3 library frames');
    assert.equal(await library.locator('.frame').first().isVisible(), false);
    await library.locator('summary').click();
    const libFns = await library.locator('.frame-fn').allTextContents();
    assert.deepEqual(libFns, ['ClientRequest.onTimeout', 'Stripe.request', 'Layer.handle']);

    // Tags of the events sent.
    const errors = data.errorsByKind.gatewayTimeout;
    const chrome = errors.filter((e) => e.labels.browser === 'Chrome').length;
    const browserTag = page.locator('[data-testid=tags] .tag-breakdown', { hasText: 'browser' });
    const chromeText = await browserTag
      .locator('.tag-value', { hasText: 'Chrome' })
      .locator('.tag-count')
      .textContent();
    assert.equal(chromeText, `${Math.round((100 * chrome) / errors.length)}%`);

    // Recent events, latest first, each with a trace link.
    const latest = [...errors].sort((a, b) => Date.parse(b['@timestamp']) - Date.parse(a['@timestamp']))[0]!;
    const firstRow = page.locator('[data-testid=sample-row]').first();
    assert.equal(await firstRow.locator('td[data-label=User]').textContent(), latest.user.id);
    const traceLink = new URL((await firstRow.locator('[data-testid=sample-trace]').getAttribute('href'))!, server.url);
    assert.equal(traceLink.pathname, `/traces/${latest.trace_id}`);

    const overflow = await shoot(page, 'group');
    assert.ok(overflow <= 0, `the group page is ${overflow} px wider than a 390 px phone`);

    // All of the group's events in Explore.
    await page.click('[data-testid=group-explore]');
    await page.waitForSelector('[data-testid=result-table]');
    const url = new URL(page.url());
    assert.equal(url.pathname, '/explore');
    assert.match(url.searchParams.get('q') ?? '', /error\.fingerprint:"[0-9a-f]+"/);
    const summary = (await page.locator('[data-testid=result-summary]').textContent()) ?? '';
    assert.match(summary, new RegExp(`^${errors.length} rows`));
    const types = await page.$$eval('[data-testid=result-table] tbody tr', (trs) => trs.length);
    assert.equal(types, errors.length);
  });

  it('follows a trace link to the trace page (events only: no spans were sent) and on to Explore', async () => {
    await page.goBack();
    await page.waitForSelector('[data-testid=sample-row]');
    await page.locator('[data-testid=sample-row]').first().locator('[data-testid=sample-trace]').click();
    await page.waitForSelector('[data-testid=trace-no-spans]');
    const pageTraceId = new URL(page.url()).pathname.split('/')[2];
    const listed = await page.locator('[data-testid=trace-event]').count();
    assert.equal(listed, data.events.filter((e) => e.trace_id === pageTraceId).length);
    await page.click('[data-testid=trace-explore]');
    await page.waitForSelector('[data-testid=result-table]');
    const q = new URL(page.url()).searchParams.get('q') ?? '';
    const traceId = /trace_id:"([^"]+)"/.exec(q)?.[1];
    assert.ok(traceId, q);
    const inTrace = data.events.filter((e) => e.trace_id === traceId).length;
    assert.ok(inTrace >= 2, 'the trace holds the payment and the error');
    assert.match(
      (await page.locator('[data-testid=result-summary]').textContent()) ?? '',
      new RegExp(`^${inTrace} rows`),
    );
  });

  it('resolves a group from its page; the unresolved list no longer shows it, and reopening brings it back', async () => {
    await page.goto(`${server.url}/errors?sort=revenue`);
    await page.locator('[data-testid=error-row]', { hasText: KINDS.declined.type }).locator('a').click();
    await page.waitForSelector('[data-testid=action-resolve]');
    await page.click('[data-testid=action-resolve]');
    await page.waitForFunction("document.querySelector('[data-testid=group-status]')?.textContent === 'Resolved'");
    await page.waitForSelector('[data-testid=group-history]');
    assert.match((await page.locator('[data-testid=group-history]').textContent()) ?? '', /resolved/);

    await page.goto(`${server.url}/errors?sort=revenue`);
    await page.waitForSelector('[data-testid=error-row]');
    const titles = await page.locator('[data-testid=error-link] strong').allTextContents();
    assert.deepEqual(titles.sort(), [KINDS.gatewayTimeout.type, KINDS.stockConflict.type].sort());
    // The resolution counts in the mean time to resolution, overall and for its service.
    const mttr = (await page.locator('[data-testid=mttr]').textContent()) ?? '';
    assert.match(mttr, /over 1 resolution\b/);
    assert.match(mttr, /order-service \d+ (h|d)\b/);

    await page.selectOption('[data-testid=filter-status]', 'resolved');
    await page.waitForFunction("document.querySelectorAll('[data-testid=error-row]').length === 1");
    await page.locator('[data-testid=error-row] a').click();
    await page.click('[data-testid=action-reopen]');
    await page.waitForFunction("document.querySelector('[data-testid=group-status]')?.textContent === 'Unresolved'");
  });

  it('says so for a group that does not exist', async () => {
    await page.goto(`${server.url}/errors/0123456789abcdef`);
    const alert = page.locator('[role=alert]');
    await alert.waitFor();
    assert.equal(await alert.textContent(), 'No error group 0123456789abcdef.');
  });

  it('raised no error in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
