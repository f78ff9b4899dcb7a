/**
 * The trace pages in a real browser (Debian's Chromium through
 * playwright-core) over a real server: a checkout trace across four
 * services (one span failing with an exception) and a short catalog trace,
 * sent as OTLP/HTTP JSON to /v1/traces (bodies built per the OTLP JSON
 * mapping); two log records of the checkout trace sent to /v1/logs and a
 * business event with its trace id sent as NDJSON. The search page finds
 * the checkout trace by service + status, by attribute and by minimum
 * duration, with the root operation, services, span count, duration and
 * error mark of what was sent; the trace page draws one waterfall row per
 * span (names, services, durations, depth, critical path as computed here),
 * a span's details show its attributes, resource and exception stack trace,
 * and its events link to Explore; an Explore row opens the trace again.
 * Both pages fit 1280 px and a 390 px phone. Screenshots go to
 * /tmp/shoplens-shots/traces-*.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureUiBuilt, hasChromium, launchChromium } from '../helpers/browser.ts';
import { post, startTestServer, testDataDir, type TestServer } from '../helpers/server.ts';

const BROWSER = hasChromium('the trace pages browser tests');
const SHOTS = '/tmp/shoplens-shots';
const PAGE_OVERFLOW = 'document.documentElement.scrollWidth - window.innerWidth';

const T0 = Date.now() - 5 * 60_000;
const CHECKOUT = '5b8efff798038103d269b633813fc60c';
const CATALOG = '0af7651916cd43dd8448eb211c80319c';
/** A trace id only an NDJSON event carries (no spans), 30 hours ago: beyond the trace page's default day. */
const ORPHAN = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const ORPHAN_AT = new Date(Date.now() - 30 * 3_600_000).toISOString();
const STACK = [
  'GatewayDeclined: card declined by gateway (code 51)',
  '    at PaymentClient.charge (/app/src/payment/client.ts:88:11)',
  '    at async OrderService.pay (/app/src/order/service.ts:140:5)',
].join('\n');

interface SentSpan {
  id: string;
  parent: string;
  service: string;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  error?: boolean;
  attributes?: Record<string, string | number>;
  exception?: { type: string; message: string; stacktrace: string };
}

/** The checkout trace; offsets in ms from T0. */
const CHECKOUT_SPANS: SentSpan[] = [
  {
    id: 'a000000000000001',
    parent: '',
    service: 'gateway',
    name: 'POST /api/checkout',
    kind: 2,
    startMs: 0,
    endMs: 420,
    attributes: { 'http.route': '/api/checkout', 'http.request.method': 'POST', 'http.response.status_code': 502 },
  },
  {
    id: 'a000000000000002',
    parent: 'a000000000000001',
    service: 'auth-service',
    name: 'auth.verify',
    kind: 2,
    startMs: 10,
    endMs: 40,
  },
  {
    id: 'a000000000000003',
    parent: 'a000000000000001',
    service: 'order-service',
    name: 'order.create',
    kind: 2,
    startMs: 50,
    endMs: 400,
    attributes: { 'order.id': 'ORD-4242' },
  },
  {
    id: 'a000000000000004',
    parent: 'a000000000000003',
    service: 'order-service',
    name: 'INSERT orders',
    kind: 3,
    startMs: 60,
    endMs: 90,
    attributes: { 'db.system': 'postgresql' },
  },
  {
    id: 'a000000000000005',
    parent: 'a000000000000003',
    service: 'payment-service',
    name: 'payment.charge',
    kind: 3,
    startMs: 100,
    endMs: 390,
    error: true,
    attributes: { 'transaction.gateway': 'stripe', 'order.id': 'ORD-4242' },
    exception: { type: 'GatewayDeclined', message: 'card declined by gateway (code 51)', stacktrace: STACK },
  },
];
const CATALOG_SPANS: SentSpan[] = [
  {
    id: 'b000000000000001',
    parent: '',
    service: 'catalog-service',
    name: 'GET /api/products',
    kind: 2,
    startMs: 1000,
    endMs: 1030,
  },
];

const nanos = (ms: number) => (BigInt(T0 + ms) * 1_000_000n).toString();
const str = (key: string, v: string | number) => ({
  key,
  value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v },
});

/** An ExportTraceServiceRequest in the OTLP JSON encoding: one resource per service. */
function tracesBody(traceId: string, spans: SentSpan[]): string {
  const services = [...new Set(spans.map((s) => s.service))];
  return JSON.stringify({
    resourceSpans: services.map((service) => ({
      resource: { attributes: [str('service.name', service), str('deployment.environment', 'production')] },
      scopeSpans: [
        {
          scope: { name: 'shop-tracer', version: '1.0.0' },
          spans: spans
            .filter((s) => s.service === service)
            .map((s) => ({
              traceId,
              spanId: s.id,
              ...(s.parent ? { parentSpanId: s.parent } : {}),
              name: s.name,
              kind: s.kind,
              startTimeUnixNano: nanos(s.startMs),
              endTimeUnixNano: nanos(s.endMs),
              attributes: Object.entries(s.attributes ?? {}).map(([k, v]) => str(k, v)),
              status: s.error ? { code: 2, message: 'charge failed' } : { code: 0 },
              events: s.exception
                ? [
                    {
                      timeUnixNano: nanos(s.endMs - 5),
                      name: 'exception',
                      attributes: [
                        str('exception.type', s.exception.type),
                        str('exception.message', s.exception.message),
                        str('exception.stacktrace', s.exception.stacktrace),
                      ],
                    },
                  ]
                : [],
            })),
        },
      ],
    })),
  });
}

const LOGS = [
  {
    span: 'a000000000000003',
    service: 'order-service',
    at: 55,
    level: 'INFO',
    severity: 9,
    body: 'creating order ORD-4242',
  },
  {
    span: 'a000000000000005',
    service: 'payment-service',
    at: 385,
    level: 'ERROR',
    severity: 17,
    body: 'charge declined',
  },
];

function logsBody(): string {
  return JSON.stringify({
    resourceLogs: LOGS.map((l) => ({
      resource: { attributes: [str('service.name', l.service)] },
      scopeLogs: [
        {
          scope: { name: 'shop-logger' },
          logRecords: [
            {
              timeUnixNano: nanos(l.at),
              severityNumber: l.severity,
              severityText: l.level,
              body: { stringValue: l.body },
              traceId: CHECKOUT,
              spanId: l.span,
            },
          ],
        },
      ],
    })),
  });
}

async function shoot(page: Page, name: string): Promise<number> {
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(SHOTS, `traces-${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(SHOTS, `traces-${name}-390.png`), fullPage: true });
  const overflow = Number(await page.evaluate(PAGE_OVERFLOW));
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.waitForTimeout(100);
  return overflow;
}

async function traceIdsListed(page: Page): Promise<string[]> {
  await page.waitForSelector('[data-testid=trace-row], [data-testid=traces-empty]');
  return page.$$eval('[data-testid=trace-row]', (trs) => trs.map((tr) => tr.getAttribute('data-trace-id') ?? ''));
}

describe('Trace pages in Chromium', { skip: !BROWSER }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    ensureUiBuilt();
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer({}, testDataDir());
    const json = { 'content-type': 'application/json' };
    for (const [id, spans] of [
      [CHECKOUT, CHECKOUT_SPANS],
      [CATALOG, CATALOG_SPANS],
    ] as const) {
      const r = await post(`${server.url}/v1/traces`, tracesBody(id, spans), json);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.partialSuccess, undefined, JSON.stringify(r.json));
    }
    const logs = await post(`${server.url}/v1/logs`, logsBody(), json);
    assert.equal(logs.status, 200, JSON.stringify(logs.json));
    const event = {
      '@timestamp': new Date(T0 + 395).toISOString(),
      event: { type: 'checkout_failed' },
      service: { name: 'order-service' },
      order: { id: 'ORD-4242' },
      message: 'checkout failed: payment declined',
      trace_id: CHECKOUT,
    };
    const orphan = {
      '@timestamp': ORPHAN_AT,
      event: { type: 'refund_issued' },
      message: 'refund for ORD-77',
      trace_id: ORPHAN,
    };
    const nd = await post(
      `${server.url}/api/v1/events?refresh=wait_for`,
      [event, orphan].map((e) => JSON.stringify(e)).join('\n'),
    );
    assert.equal(nd.status, 200, JSON.stringify(nd.json));
    // Spans and log events are visible within the refresh interval.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await fetch(`${server.url}/api/v1/traces/${CHECKOUT}`);
      const body = r.status === 200 ? ((await r.json()) as { spanCount: number; events: unknown[] }) : undefined;
      if ((body && body.spanCount === CHECKOUT_SPANS.length && body.events.length === 3) || Date.now() > deadline) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('searches traces from the nav: service + status, attribute, minimum duration', async () => {
    await page.goto(`${server.url}/dashboards`);
    await page.locator('.topbar nav a', { hasText: 'Traces' }).click();
    await page.waitForSelector('[data-testid=trace-row]');
    assert.equal(new URL(page.url()).pathname, '/traces');
    assert.deepEqual((await traceIdsListed(page)).sort(), [CHECKOUT, CATALOG].sort(), 'both traces in the last hour');

    await page.fill('[data-testid=filter-service]', 'payment-service');
    await page.selectOption('[data-testid=filter-status]', 'error');
    await page.click('[data-testid=trace-search]');
    await page.waitForFunction("location.search.includes('status=error')");
    await page.waitForFunction('document.querySelectorAll("[data-testid=trace-row]").length === 1');
    assert.deepEqual(await traceIdsListed(page), [CHECKOUT]);

    const row = page.locator(`[data-testid=trace-row][data-trace-id="${CHECKOUT}"]`);
    assert.equal(await row.locator('[data-testid=trace-link] strong').textContent(), 'POST /api/checkout');
    const services = (await row.locator('[data-testid=trace-services] .service-chip').allTextContents()).sort();
    assert.deepEqual(services, [...new Set(CHECKOUT_SPANS.map((s) => s.service))].sort());
    assert.equal(await row.locator('[data-testid=trace-span-count]').textContent(), String(CHECKOUT_SPANS.length));
    assert.equal(await row.locator('[data-testid=trace-duration]').textContent(), '420 ms');
    assert.equal(await row.locator('[data-testid=trace-error-mark]').textContent(), '1 error');

    // No catalog span failed: the same status filter with the catalog service finds nothing.
    await page.fill('[data-testid=filter-service]', 'catalog-service');
    await page.click('[data-testid=trace-search]');
    await page.waitForSelector('[data-testid=traces-empty]');

    await page.goto(`${server.url}/traces`);
    await page.fill('[data-testid=filter-attribute]', 'order.id:ORD-4242');
    await page.click('[data-testid=trace-search]');
    await page.waitForFunction("location.search.includes('attribute=')");
    await page.waitForFunction('document.querySelectorAll("[data-testid=trace-row]").length === 1');
    assert.deepEqual(await traceIdsListed(page), [CHECKOUT]);

    await page.goto(`${server.url}/traces?minDuration=100ms`);
    await page.waitForFunction('document.querySelectorAll("[data-testid=trace-row]").length === 1');
    assert.deepEqual(await traceIdsListed(page), [CHECKOUT], 'the 30 ms catalog trace is shorter than 100 ms');
    assert.equal(await page.inputValue('[data-testid=filter-minDuration]'), '100ms');

    await page.goto(`${server.url}/traces`);
    await page.waitForSelector('[data-testid=trace-row]');
    const overflow = await shoot(page, 'search');
    assert.ok(overflow <= 0, `the search page is ${overflow} px wider than a 390 px phone`);
  });

  it('opens the trace: one waterfall row per span with its service, duration, depth and the critical path', async () => {
    await page.locator(`[data-testid=trace-row][data-trace-id="${CHECKOUT}"] [data-testid=trace-link]`).click();
    await page.waitForSelector('[data-testid=waterfall]');
    assert.equal(new URL(page.url()).pathname, `/traces/${CHECKOUT}`);
    assert.match((await page.locator('[data-testid=trace-title]').textContent()) ?? '', /^POST \/api\/checkout/);
    assert.equal(await page.locator('[data-testid=trace-duration]').textContent(), '420 ms');
    assert.equal(await page.locator('[data-testid=trace-error-count]').textContent(), '1 error');
    assert.deepEqual(
      (await page.locator('[data-testid=legend-service]').allTextContents()).sort(),
      [...new Set(CHECKOUT_SPANS.map((s) => s.service))].sort(),
    );

    const rows = await page.$$eval('[data-testid=span-row]', (els) =>
      els.map((el) => ({
        id: el.getAttribute('data-span-id'),
        name: el.querySelector('[data-testid=span-name]')?.textContent?.replace(/^! /, '') ?? '',
        service: el.querySelector('[data-testid=span-service]')?.textContent ?? '',
        duration: el.querySelector('[data-testid=span-duration]')?.textContent ?? '',
        depth: Number(el.getAttribute('data-depth')),
        critical: el.getAttribute('data-critical') === 'true',
        error: el.classList.contains('wf-error'),
        bar: (() => {
          const bar = el.querySelector('.wf-bar')!;
          const track = el.querySelector('.wf-track')!;
          const b = bar.getBoundingClientRect();
          const t = track.getBoundingClientRect();
          return { left: (b.left - t.left) / t.width, width: b.width / t.width };
        })(),
      })),
    );
    // Depth-first, children by start time, as sent.
    const depthOf = (s: SentSpan): number => {
      const parent = CHECKOUT_SPANS.find((p) => p.id === s.parent);
      return parent ? depthOf(parent) + 1 : 0;
    };
    const order = ['a000000000000001', 'a000000000000002', 'a000000000000003', 'a000000000000004', 'a000000000000005'];
    assert.deepEqual(
      rows.map((r) => r.id),
      order,
    );
    // The critical path: at each span the child that ends last (order.create ends at 400, payment.charge at 390).
    const critical = new Set(['a000000000000001', 'a000000000000003', 'a000000000000005']);
    for (const r of rows) {
      const sent = CHECKOUT_SPANS.find((s) => s.id === r.id)!;
      assert.equal(r.name, sent.name);
      assert.equal(r.service, sent.service);
      assert.equal(r.duration, `${sent.endMs - sent.startMs} ms`, sent.name);
      assert.equal(r.depth, depthOf(sent), sent.name);
      assert.equal(r.error, sent.error === true, sent.name);
      assert.equal(r.critical, critical.has(sent.id), `${sent.name} on the critical path`);
      // Bars sit on the shared time axis: start and length as fractions of the 420 ms trace.
      assert.ok(Math.abs(r.bar.left - sent.startMs / 420) < 0.01, `${sent.name} starts at ${r.bar.left}`);
      assert.ok(Math.abs(r.bar.width - (sent.endMs - sent.startMs) / 420) < 0.01, `${sent.name} width ${r.bar.width}`);
    }
  });

  it('shows a span: attributes, resource and its exception stack trace', async () => {
    await page.locator('[data-testid=span-row][data-span-id=a000000000000005]').click();
    await page.waitForSelector('[data-testid=span-detail]');
    assert.equal(new URL(page.url()).searchParams.get('span'), 'a000000000000005');
    const detail = page.locator('[data-testid=span-detail]');
    assert.equal(await detail.locator('[data-testid=span-detail-duration]').textContent(), '290 ms');
    assert.equal(await detail.locator('[data-testid=span-detail-status]').textContent(), 'error: charge failed');
    const attrs = await detail
      .locator('[data-testid=span-attributes] tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [tr.querySelector('th')?.textContent, tr.querySelector('td')?.textContent]),
      );
    assert.deepEqual(Object.fromEntries(attrs), { 'order.id': 'ORD-4242', 'transaction.gateway': 'stripe' });
    const resource = await detail
      .locator('[data-testid=span-resource] tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [tr.querySelector('th')?.textContent, tr.querySelector('td')?.textContent]),
      );
    assert.equal(Object.fromEntries(resource)['service.name'], 'payment-service');
    const exception = detail.locator('[data-testid=span-exception]');
    assert.match((await exception.textContent()) ?? '', /^GatewayDeclined: card declined by gateway \(code 51\)/);
    // The stack trace keeps its lines and indentation.
    assert.equal(await exception.locator('pre').textContent(), STACK);
    assert.equal(
      await exception.locator('pre').evaluate((el) => (globalThis as any).getComputedStyle(el).whiteSpace),
      'pre',
    );

    // The trace's events: both log records and the NDJSON business event, oldest first.
    const events = await page.locator('[data-testid=trace-event] td.trace-event-message').allTextContents();
    assert.deepEqual(events, ['creating order ORD-4242', 'charge declined', 'checkout failed: payment declined']);
    // An event written inside a span selects that span.
    await page.locator('[data-testid=trace-event]', { hasText: 'creating order' }).click();
    await page.waitForSelector('[data-testid=span-detail][data-span-id=a000000000000003]');
    await page.locator('[data-testid=span-row][data-span-id=a000000000000005]').click();
    await page.waitForSelector('[data-testid=span-detail][data-span-id=a000000000000005]');

    const overflow = await shoot(page, 'trace');
    assert.ok(overflow <= 0, `the trace page is ${overflow} px wider than a 390 px phone`);
  });

  it("follows the Explore link to the trace's events, and an Explore row back to the trace", async () => {
    await page.click('[data-testid=trace-explore]');
    await page.waitForSelector('[data-testid=result-table]');
    const url = new URL(page.url());
    assert.equal(url.pathname, '/explore');
    assert.match(url.searchParams.get('q') ?? '', new RegExp(`trace_id:"${CHECKOUT}"`));
    assert.match((await page.locator('[data-testid=result-summary]').textContent()) ?? '', /^3 rows/);

    await page.locator('[data-testid=result-table] tbody tr.expandable').first().click();
    await page.locator('[data-testid=trace-id-link]').first().click();
    await page.waitForSelector('[data-testid=waterfall]');
    assert.equal(new URL(page.url()).pathname, `/traces/${CHECKOUT}`);
    assert.equal(await page.locator('[data-testid=span-row]').count(), CHECKOUT_SPANS.length);
  });

  it('opens a trace without spans from Explore: its events, found around the time of the row', async () => {
    const q = `trace_id:"${ORPHAN}"`;
    await page.goto(`${server.url}/explore?${new URLSearchParams({ q, from: 'now-2d', to: 'now' }).toString()}`);
    await page.waitForSelector('[data-testid=result-table]');
    await page.locator('[data-testid=result-table] tbody tr.expandable').first().click();
    await page.locator('[data-testid=trace-id-link]').first().click();
    await page.waitForSelector('[data-testid=trace-no-spans]');
    const url = new URL(page.url());
    assert.equal(url.pathname, `/traces/${ORPHAN}`);
    assert.equal(Date.parse(url.searchParams.get('at') ?? ''), Date.parse(ORPHAN_AT));
    await page.waitForSelector('[data-testid=trace-event]');
    assert.deepEqual(await page.locator('[data-testid=trace-event] td.trace-event-message').allTextContents(), [
      'refund for ORD-77',
    ]);
  });

  it('says so when a trace id has no spans and no events', async () => {
    await page.goto(`${server.url}/traces/${'f'.repeat(32)}`);
    await page.waitForSelector('[data-testid=trace-no-spans]');
    assert.equal(await page.locator('[data-testid=trace-event]').count(), 0);
    assert.deepEqual(pageErrors, []);
  });
});
