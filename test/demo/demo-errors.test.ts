/**
 * The demo's application errors as the Errors page sees them: the demo's
 * own history (the simulator with the demo run's options, deploys
 * included) backfilled through the real ingest pipeline into a real server,
 * then read with GET /api/v1/errors. The cart service's deploy brings a new
 * group (first seen at that deploy, in the new release only, none before
 * it); the inventory service's deploy fixes one (last seen before it, none
 * after); the payment gateway outage makes gateway errors whose failed
 * payments put money at risk. Expected values come from the deploy schedule
 * and from the events the simulator generated, read here apart from the
 * server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pipelineSink } from '../../src/cli/demo.ts';
import { backfill } from '../../src/demo/demo-runner.ts';
import { demoSimulatorOptions, type DemoShop } from '../../src/demo/demo-shop.ts';
import { IncidentSchedule } from '../../src/demo/incidents.ts';
import { demoDeploys, type Deploy } from '../../src/demo/releases.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const LIVE_START = Math.floor(Date.now() / MIN) * MIN;
const SHOP: DemoShop = {
  seed: 3,
  liveStartMs: LIVE_START,
  historyScale: 0.2,
  liveScale: 0.2,
  infraIntervalMs: 300_000,
};
const DEPLOYS = demoDeploys(LIVE_START);
const INTRODUCING = DEPLOYS.find((d) => (d.introduces ?? []).length > 0) as Deploy;
const FIXING = DEPLOYS.find((d) => (d.fixes ?? []).length > 0) as Deploy;
/** From 4 hours before the introducing deploy to 4 hours after the fixing one. */
const WINDOW = {
  fromMs: Math.min(INTRODUCING.atMs, FIXING.atMs) - 4 * HOUR,
  toMs: Math.max(INTRODUCING.atMs, FIXING.atMs) + 4 * HOUR,
};
/** Two hours from the first noon (UTC, busy hours) at least 3 hours into the window. */
const NOON = Math.ceil((WINDOW.fromMs + 3 * HOUR - 12 * HOUR) / (24 * HOUR)) * 24 * HOUR + 12 * HOUR;
const OUTAGE = { fromMs: NOON, toMs: NOON + 2 * HOUR };

interface ListedGroup {
  id: string;
  type: string;
  message: string;
  firstSeen: string;
  lastSeen: string;
  events: number;
  services: string[];
  revenueAtRisk: { total: number };
}

describe('demo error groups with releases', () => {
  let server: TestServer;
  let generated: { tsMs: number; body: Record<string, any> }[] = [];

  const list = async (range: { fromMs: number; toMs: number }): Promise<ListedGroup[]> => {
    const from = new Date(range.fromMs).toISOString();
    const to = new Date(range.toMs).toISOString();
    const res = await fetch(`${server.url}/api/v1/errors?from=${from}&to=${to}&status=all&limit=500&sort=events`);
    assert.equal(res.status, 200);
    return ((await res.json()) as { groups: ListedGroup[] }).groups;
  };
  /** The generated error events of a kind (by its innermost frame), oldest first. */
  const eventsOf = (frame: string) =>
    generated.filter((e) => String(e.body.exception?.stacktrace ?? '').includes(frame)).sort((a, b) => a.tsMs - b.tsMs);
  /** The listed group whose latest event is the latest generated one of that kind. */
  const groupOf = (groups: ListedGroup[], frame: string) => {
    const latest = eventsOf(frame).at(-1);
    assert.ok(latest, `some events of ${frame}`);
    return groups.find(
      (g) =>
        g.type === latest.body.exception.type &&
        g.message === latest.body.exception.message &&
        Date.parse(g.lastSeen) === latest.tsMs,
    );
  };

  before(async () => {
    server = await startTestServer();
    const incidents = new IncidentSchedule();
    incidents.add('payment-gateway-outage', OUTAGE.fromMs, OUTAGE.toMs);
    const simulator = new ShopSimulator(demoSimulatorOptions(SHOP, incidents.hook));
    generated = simulator.eventsBetween(WINDOW.fromMs, WINDOW.toMs) as typeof generated;
    const result = await backfill(simulator, pipelineSink(server.server.context.pipeline), WINDOW);
    assert.equal(result.rejected, 0, result.firstRejection);
  });
  after(async () => {
    await server.close();
  });

  it('has a realistic set of groups: a few dominant, a long tail, over several services', async () => {
    const groups = await list(WINDOW);
    assert.ok(groups.length >= 12, `${groups.length} groups`);
    const events = groups.map((g) => g.events).sort((a, b) => b - a);
    const total = events.reduce((s, n) => s + n, 0);
    assert.ok(
      events.slice(0, 3).reduce((s, n) => s + n, 0) > total * 0.4,
      `top 3 of ${groups.map((g) => `${g.type} ${g.services.join('+')} ${g.events}`).join(', ')}`,
    );
    assert.ok(events.filter((n) => n < total * 0.02).length >= 4, `a long tail in ${events.join(', ')}`);
    assert.ok(new Set(groups.flatMap((g) => g.services)).size >= 5);
  });

  it('shows the group the cart release introduced: first seen at its deploy, in the new release only', async () => {
    const frame = (INTRODUCING.introduces?.[0]?.frames[0] ?? '').split(' (')[0] as string;
    const sent = eventsOf(frame);
    assert.ok(sent.length >= 5, `${sent.length} events of the new error`);
    const group = groupOf(await list(WINDOW), frame);
    assert.ok(group, 'the new group is listed');
    const firstSeen = Date.parse(group.firstSeen);
    assert.equal(firstSeen, sent[0]?.tsMs, 'first seen is its first event');
    assert.ok(
      firstSeen >= INTRODUCING.atMs && firstSeen < INTRODUCING.atMs + 3 * HOUR,
      `first seen ${group.firstSeen} ≈ deploy ${new Date(INTRODUCING.atMs).toISOString()}`,
    );
    assert.equal(group.events, sent.length);
    const detail = (await (
      await fetch(
        `${server.url}/api/v1/errors/${group.id}?from=${new Date(WINDOW.fromMs).toISOString()}&to=${new Date(WINDOW.toMs).toISOString()}`,
      )
    ).json()) as { releases: { release: string; count: number }[] };
    assert.deepEqual(detail.releases, [{ release: INTRODUCING.version, count: sent.length }]);
    const before = await list({ fromMs: WINDOW.fromMs, toMs: INTRODUCING.atMs });
    assert.equal(
      before.find((g) => g.id === group.id),
      undefined,
      'no event of it before the deploy',
    );
  });

  it('shows the group the inventory release fixed: last seen at its deploy, none after', async () => {
    const frame = (FIXING.fixes?.[0]?.frames[0] ?? '').split(' (')[0] as string;
    const sent = eventsOf(frame);
    assert.ok(sent.length >= 5, `${sent.length} events of the fixed error`);
    const group = groupOf(await list(WINDOW), frame);
    assert.ok(group, 'the fixed group is listed');
    const lastSeen = Date.parse(group.lastSeen);
    assert.equal(lastSeen, sent[sent.length - 1]?.tsMs, 'last seen is its last event');
    assert.ok(
      lastSeen < FIXING.atMs && lastSeen > FIXING.atMs - 3 * HOUR,
      `last seen ${group.lastSeen} ≈ fix ${new Date(FIXING.atMs).toISOString()}`,
    );
    const afterFix = await list({ fromMs: FIXING.atMs, toMs: WINDOW.toMs });
    assert.equal(
      afterFix.find((g) => g.id === group.id),
      undefined,
      'no event of it after the fix',
    );
    const releases = new Set(sent.map((e) => e.body.service.version));
    assert.deepEqual([...releases], [FIXING.from], 'raised by the release before the fix');
  });

  it('lists the gateway outage as gateway errors whose failed payments carry their amounts', async () => {
    const groups = await list(OUTAGE);
    const gateway = groups.filter((g) => /Gateway/.test(g.type));
    assert.ok(gateway.length >= 1, groups.map((g) => g.type).join(', '));
    const top = gateway[0] as ListedGroup;
    const atRisk = gateway.reduce((sum, g) => sum + g.revenueAtRisk.total, 0);
    assert.ok(atRisk > 0, `the failed payments put money at risk: ${JSON.stringify(gateway)}`);
    const sent = generated.filter(
      (e) => e.tsMs >= OUTAGE.fromMs && e.tsMs < OUTAGE.toMs && e.body.exception?.type === top.type,
    );
    assert.ok(
      sent.length > 0 && sent.every((e) => typeof e.body.transaction?.amount === 'number'),
      'each carries the amount',
    );
    // The outage's own gateway errors outnumber those of the two hours before it (baseline).
    const baseline = generated.filter(
      (e) => e.tsMs >= OUTAGE.fromMs - 2 * HOUR && e.tsMs < OUTAGE.fromMs && e.body.exception?.type === top.type,
    );
    assert.ok(
      sent.length > 3 * Math.max(1, baseline.length),
      `${sent.length} in the outage vs ${baseline.length} a day before`,
    );
  });
});
