/**
 * The prebuilt dashboards and the rule pack agree on what they measure, over
 * one demo-shop day with a stripe outage (payment-gateway-outage):
 * - payments: technical failures (gateway errors, timeouts) are apart from
 *   declines (issuer, fraud, 3-D Secure), so the gateway panel ranks stripe
 *   worst, as the alert does;
 * - cart abandonment: the Journey panel and the CartAbandonment rules give
 *   one number.
 * Each figure is also counted here, independently, from the events sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expandPanel } from '../../web/src/dashboard-variables.ts';
import { prebuiltDashboards } from '../../src/analytics/prebuilt-dashboards.ts';
import { loadRuleDirectory } from '../../src/alerts/rule-files.ts';
import { readRule } from '../../src/alerts/rule-query.ts';
import { pipelineSink } from '../../src/cli/demo-sinks.ts';
import { backfill, type EventSink } from '../../src/demo/demo-runner.ts';
import { IncidentSchedule } from '../../src/demo/incidents.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import { query, startTestServer, type TestServer } from '../helpers/server.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** A fixed Wednesday afternoon: the same simulated traffic on every run. */
const END = Date.UTC(2025, 9, 15, 15);
const FULL_FROM = END - 2 * HOUR_MS;
const OUTAGE = { fromMs: FULL_FROM + HOUR_MS, toMs: FULL_FROM + HOUR_MS + 30 * MINUTE_MS };
/** The dashboards' default range: the last 24 hours. */
const RANGE = { from: new Date(END - 24 * HOUR_MS).toISOString(), to: new Date(END).toISOString() };

type Raw = Record<string, any>;

/** A prebuilt panel's query as the UI runs it by default (variables at their first option). */
function panelQuery(dashboardId: string, panelId: string): string {
  const dashboard = prebuiltDashboards().find((d) => d.id === dashboardId);
  const panel = dashboard?.panels.find((p) => p.id === panelId);
  assert.ok(dashboard && panel?.query, `${dashboardId}/${panelId} exists`);
  return expandPanel(panel, dashboard, {}).query!;
}

function packRule(name: string) {
  const rule = loadRuleDirectory('/nonexistent', true).rules.find((r) => r.id === name);
  assert.ok(rule, `${name} is in the pack`);
  return rule;
}

function within(event: Raw, fromMs: number, toMs: number): boolean {
  const t = Date.parse(event['@timestamp']);
  return t >= fromMs && t < toMs;
}

/** Per gateway: payments, technical failures (failed, not declined by the gateway) and declines. */
function paymentCounts(events: readonly Raw[], fromMs: number, toMs: number) {
  const by = new Map<string, { total: number; technical: number; declines: number; failures: number }>();
  for (const e of events) {
    if (e.event?.type !== 'payment_transaction' || !within(e, fromMs, toMs)) continue;
    const gateway: string = e.transaction.gateway;
    const c = by.get(gateway) ?? { total: 0, technical: 0, declines: 0, failures: 0 };
    c.total++;
    const declined = e.payment?.processor_response === 'declined';
    if (declined) c.declines++;
    if (e.event.outcome === 'failure') {
      c.failures++;
      if (!declined) c.technical++;
    }
    by.set(gateway, c);
  }
  return by;
}

/** Sessions with an add_to_cart in the range, and of those the ones without an order_completed in it. */
function abandonment(events: readonly Raw[], fromMs: number, toMs: number): { carts: number; abandoned: number } {
  const added = new Set<string>();
  const ordered = new Set<string>();
  for (const e of events) {
    const session = e.user?.session_id;
    if (typeof session !== 'string' || !within(e, fromMs, toMs)) continue;
    if (e.event?.type === 'add_to_cart') added.add(session);
    if (e.event?.type === 'order_completed') ordered.add(session);
  }
  const abandoned = [...added].filter((s) => !ordered.has(s)).length;
  return { carts: added.size, abandoned };
}

describe('dashboards and rules measure the same things', () => {
  let server: TestServer;
  const sent: Raw[] = [];

  before(async () => {
    server = await startTestServer({ alerts: { enabled: false } });
    const schedule = new IncidentSchedule();
    schedule.add('payment-gateway-outage', OUTAGE.fromMs, OUTAGE.toMs);
    // 22 h of history at 10 % of traffic, as `shoplens demo` backfills it, then 2 h at full density.
    const simulator = new ShopSimulator({
      seed: 42,
      trafficScale: (t) => (t < FULL_FROM ? 0.1 : 1),
      conditions: schedule.hook,
    });
    const inner = pipelineSink(server.server.context.pipeline);
    const capturing: EventSink = {
      send(events) {
        sent.push(...(events as Raw[]));
        return inner.send(events);
      },
      flush: () => inner.flush?.() ?? Promise.resolve(),
    };
    const summary = await backfill(simulator, capturing, { fromMs: END - 24 * HOUR_MS, toMs: END });
    assert.equal(summary.rejected, 0);
  });
  after(async () => server?.close());

  it('the gateway panel ranks stripe worst by technical failure rate, as counted from the events', async () => {
    const r = await query(server.url, panelQuery('payments', 'fail-gateway'), RANGE);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const names: string[] = r.json.columns.map((c: { name: string }) => c.name);
    assert.deepEqual(names, ['transaction.gateway', 'technicalFailureRate', 'declineRate']);
    const expected = paymentCounts(sent, Date.parse(RANGE.from), Date.parse(RANGE.to));
    // Highest rate first; equal rates by gateway name, as the panel sorts them.
    const ranked = [...expected].sort(
      (a, b) => b[1].technical / b[1].total - a[1].technical / a[1].total || a[0].localeCompare(b[0]),
    );
    assert.equal(ranked[0]?.[0], 'stripe', 'stripe has the most technical failures in the events sent');
    assert.deepEqual(
      r.json.rows.map((row: unknown[]) => row[0]),
      ranked.map(([gateway]) => gateway),
    );
    for (const [gateway, technicalFailureRate, declineRate] of r.json.rows) {
      const c = expected.get(gateway)!;
      assert.ok(Math.abs(technicalFailureRate - (c.technical * 100) / c.total) < 1e-9, `${gateway} technical`);
      assert.ok(Math.abs(declineRate - (c.declines * 100) / c.total) < 1e-9, `${gateway} declines`);
    }
    // Declines are not technical failures: a gateway with declines only shows a technical rate of 0.
    const declinesOnly = [...expected].filter(([, c]) => c.declines > 0 && c.technical === 0).map(([g]) => g);
    assert.ok(declinesOnly.length > 0, 'some gateway declined payments without any technical failure');
  });

  it('the payment success rule names stripe during the outage, with the same technical failures', async () => {
    const rule = packRule('PaymentSuccessRateCritical');
    let firstActive: Awaited<ReturnType<typeof readRule>> | undefined;
    for (let atMs = OUTAGE.fromMs + MINUTE_MS; atMs <= OUTAGE.toMs; atMs += MINUTE_MS) {
      const reading = await readRule(server.server.context.store, 'default', rule, atMs);
      const active = reading.samples.filter((s) => s.active).map((s) => s.labels['transaction.gateway']);
      assert.ok(
        active.every((g) => g === 'stripe'),
        `only stripe is named, at +${(atMs - OUTAGE.fromMs) / MINUTE_MS} min`,
      );
      if (active.length > 0 && !firstActive) firstActive = reading;
    }
    assert.ok(firstActive, 'the rule named stripe during the outage');
    const expected = paymentCounts(sent, firstActive.atMs - 5 * MINUTE_MS, firstActive.atMs);
    for (const sample of firstActive.samples) {
      const c = expected.get(sample.labels['transaction.gateway']!)!;
      assert.equal(sample.values['technical_failures'], c.technical);
      assert.equal(sample.values['declines'], c.declines);
      assert.equal(sample.values['total'], c.total);
    }
  });

  it('the Journey panel and the CartAbandonment rules compute one abandonment rate, as counted from the events', async () => {
    const dashboardQuery = panelQuery('journey', 'abandonment');
    // Over the dashboard's range...
    const day = await query(server.url, dashboardQuery, RANGE);
    assert.equal(day.status, 200, JSON.stringify(day.json));
    const dayCount = abandonment(sent, Date.parse(RANGE.from), Date.parse(RANGE.to));
    assert.ok(dayCount.carts > 100, `${dayCount.carts} sessions with a cart`);
    assert.ok(Math.abs(day.json.rows[0][0] - (dayCount.abandoned * 100) / dayCount.carts) < 1e-9);

    // ...and over the rules' 30-minute window, where the panel and both rules read the same number.
    const windowMs = 30 * MINUTE_MS;
    const window = { from: new Date(END - windowMs).toISOString(), to: new Date(END).toISOString() };
    const panel = await query(server.url, dashboardQuery, window);
    const count = abandonment(sent, END - windowMs, END);
    const expected = count.abandoned / count.carts;
    assert.ok(Math.abs(panel.json.rows[0][0] - expected * 100) < 1e-9, `panel ${panel.json.rows[0][0]} %`);
    for (const name of ['CartAbandonmentWarning', 'CartAbandonmentCritical']) {
      const reading = await readRule(server.server.context.store, 'default', packRule(name), END);
      const values = reading.samples[0]?.values;
      assert.equal(values?.['carts'], count.carts, name);
      assert.ok(Math.abs((values?.['abandonment'] as number) - expected) < 1e-9, `${name}: ${values?.['abandonment']}`);
    }
  });
});
