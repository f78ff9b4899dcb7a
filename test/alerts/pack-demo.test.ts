/**
 * The prebuilt rule pack against the demo shop: each injectable incident
 * fires the rule meant to catch it, with the right labels, while it runs;
 * clean traffic fires nothing. Every scenario is its own tenant in one real
 * store (24 h of thin history at 10 % of traffic, then 2 h at full density with a 30-minute
 * incident); the evaluator runs the whole pack on an injected clock every
 * 2 minutes, with `for` and `keep_firing_for` as in production.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlertEngine } from '../../src/alerts/alert-engine.ts';
import { KIND } from '../../src/alerts/alert-model.ts';
import { alertsConfigSchema } from '../../src/alerts/alerts-config.ts';
import type { Transition } from '../../src/alerts/state-machine.ts';
import type { IncidentName } from '../../src/demo/incidents.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { HOUR_MS, loadScenario, MINUTE_MS, type Scenario } from './demo-scenario.ts';

/** A fixed Wednesday afternoon, so every run sees the same simulated traffic. */
const END = Date.UTC(2025, 9, 15, 15);
const STEP_MS = 2 * MINUTE_MS;

/** What each incident must fire: rule and labels (the rules of rules/ecommerce.yaml). */
const EXPECTED: Record<IncidentName, { rule: string; labels: Record<string, string> }[]> = {
  'payment-gateway-outage': [{ rule: 'PaymentSuccessRateCritical', labels: { 'transaction.gateway': 'stripe' } }],
  'checkout-latency': [{ rule: 'CheckoutLatencyP95', labels: { 'http.route': '/api/checkout' } }],
  'fraud-burst': [{ rule: 'HighRiskTransactions', labels: {} }],
  'error-spike': [{ rule: 'ErrorRateCritical', labels: { 'service.name': 'catalog-service' } }],
  'checkout-failure-promo': [
    { rule: 'CheckoutErrorRate', labels: {} },
    { rule: 'CheckoutSuccessRate', labels: {} },
  ],
  'stock-out': [{ rule: 'BestsellerLowStock', labels: { 'product.id': 'PHONE001' } }],
  'conversion-drop': [{ rule: 'ConversionDrop', labels: {} }],
};

async function runPack(server: TestServer, tenant: string, fromMs: number, toMs: number): Promise<Transition[]> {
  let clock = fromMs;
  const engine = new AlertEngine({
    store: server.server.context.store,
    now: () => clock,
    config: alertsConfigSchema.parse({ tenants: [tenant], rulesDir: '/nonexistent', pack: true }),
  });
  for (; clock <= toMs; clock += STEP_MS) await engine.tickTenant(tenant);
  const docs = await server.server.context.store.documents.list<Transition>(tenant, KIND.history, { limit: 10_000 });
  return docs.map((d) => d.body);
}

function firings(transitions: readonly Transition[]): string[] {
  return transitions
    .filter((t) => t.to === 'firing')
    .map((t) => `${t.rule} ${JSON.stringify(t.groupLabels)} at ${Math.round((t.atMs - END) / MINUTE_MS)} min`);
}

describe('the e-commerce rule pack on the demo shop', () => {
  let server: TestServer;
  const scenarios = new Map<string, Scenario>();

  before(async () => {
    server = await startTestServer({ alerts: { enabled: false } });
  });
  after(async () => server?.close());

  it('clean traffic fires none of the pack over 2 hours', async () => {
    await loadScenario(server, { endMs: END, tenant: 'clean', fullHours: 2 });
    const transitions = await runPack(server, 'clean', END - 2 * HOUR_MS + 5 * MINUTE_MS, END);
    assert.deepEqual(firings(transitions), []);
  });

  for (const [incident, expected] of Object.entries(EXPECTED) as [IncidentName, (typeof EXPECTED)[IncidentName]][]) {
    it(`${incident} fires ${expected.map((e) => e.rule).join(' and ')} with the right labels`, async () => {
      const scenario = await loadScenario(server, {
        endMs: END,
        tenant: incident,
        incident,
        fullHours: 2,
        incidentMinutes: 30,
      });
      scenarios.set(incident, scenario);
      const { fromMs, toMs } = scenario.incident!;
      const transitions = await runPack(server, incident, fromMs - 5 * MINUTE_MS, toMs + 20 * MINUTE_MS);
      const fired = transitions.filter((t) => t.to === 'firing');
      for (const { rule, labels } of expected) {
        const hit = fired.find((t) => t.rule === rule && JSON.stringify(t.groupLabels) === JSON.stringify(labels));
        assert.ok(hit, `${rule} ${JSON.stringify(labels)} did not fire; fired: ${firings(transitions).join('; ')}`);
        assert.ok(hit.atMs >= fromMs && hit.atMs <= toMs, `${rule} fired at ${(hit.atMs - fromMs) / MINUTE_MS} min`);
      }
      // Nothing fires before the incident starts.
      assert.deepEqual(firings(fired.filter((t) => t.atMs < fromMs)), []);
    });
  }
});
