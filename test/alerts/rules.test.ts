/**
 * Rule model, templates, the state machine and spike statistics, plus the
 * rules API (create, validate, test, delete) on a real server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RuleError } from '../../src/alerts/rule.ts';
import { compileRule } from '../../src/alerts/rule.ts';
import { loadRuleDirectory, parseRuleFile } from '../../src/alerts/rule-files.ts';
import { readRule, robustSigma } from '../../src/alerts/rule-query.ts';
import { FLAP_HOLD_MS, step, type AlertInstance, type Transition } from '../../src/alerts/state-machine.ts';
import { renderTemplate } from '../../src/alerts/templates.ts';
import { pipelineSink } from '../../src/cli/demo-sinks.ts';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';

const S = 1000;

function run(
  actives: boolean[],
  timing: { forMs: number; keepFiringForMs: number },
  everyMs = 30 * S,
): { states: (string | undefined)[]; transitions: Transition[] } {
  let instance: AlertInstance | undefined;
  const transitions: Transition[] = [];
  const states: (string | undefined)[] = [];
  actives.forEach((active, i) => {
    instance = step(
      instance,
      { rule: 'R', groupLabels: { gateway: 'stripe' }, active, values: {} },
      i * everyMs,
      timing,
      transitions,
    );
    states.push(instance?.status);
  });
  return { states, transitions };
}

describe('state machine', () => {
  it('pending for `for`, then firing; resolved once the condition stops', () => {
    const { states } = run([true, true, true, false, false], { forMs: 60 * S, keepFiringForMs: 0 });
    assert.deepEqual(states, ['pending', 'pending', 'firing', 'resolved', 'resolved']);
  });

  it('a blip shorter than `for` never fires', () => {
    const { states, transitions } = run([true, false, true, false], { forMs: 60 * S, keepFiringForMs: 0 });
    assert.deepEqual(states, ['pending', undefined, 'pending', undefined]);
    assert.equal(transitions.filter((t) => t.to === 'firing').length, 0);
  });

  it('keep_firing_for holds a firing alert through short gaps', () => {
    const { states } = run([true, false, true, false, false, false], { forMs: 0, keepFiringForMs: 60 * S });
    assert.deepEqual(states, ['firing', 'firing', 'firing', 'firing', 'resolved', 'resolved']);
  });

  it('a flapping alert is held firing instead of firing again and again', () => {
    const pattern = Array.from({ length: 16 }, (_, i) => i % 2 === 0);
    const { transitions } = run([...pattern, ...Array(30).fill(false)], { forMs: 0, keepFiringForMs: 0 }, 60 * S);
    const fired = transitions.filter((t) => t.to === 'firing').length;
    assert.equal(fired, 4, 'fires 4 times, then is marked flapping and held');
    const lastResolve = transitions.filter((t) => t.to === 'resolved').at(-1)!;
    assert.ok(lastResolve.atMs >= 15 * 60 * S + FLAP_HOLD_MS - 60 * S, `resolved at ${lastResolve.atMs / 60_000} min`);
  });
});

describe('templates', () => {
  const ctx = {
    rule: 'HighRisk',
    severity: 'high',
    labels: { 'transaction.gateway': 'stripe' },
    values: { high_risk: 7, total_amount: 2345.5, success_rate: 0.9534 },
  };
  it('renders values, labels (by suffix), percent and currency', () => {
    assert.equal(
      renderTemplate(
        '{{ value }} on {{ labels.gateway }}: {{ value.total_amount | currency }}, {{value.success_rate|percent}}, {{ value.total_amount | currency:EUR }}',
        ctx,
      ),
      '7 on stripe: $2,345.50, 95.3 %, €2,345.50',
    );
  });
  it('shows ? for an unknown name', () => {
    assert.equal(renderTemplate('{{ value.nope }} {{ labels.nope }}', ctx), '? ?');
  });
  it('shows ? for names of built-ins, never what an object inherits', () => {
    assert.equal(renderTemplate('{{ value.constructor }} {{ value.toString }} {{ labels.constructor }}', ctx), '? ? ?');
  });
});

describe('rule validation', () => {
  it('names the key and what was expected', () => {
    const base = {
      name: 'R',
      query: 'event.type:x | stats count() as n by service.name',
      condition: 'n > 1',
      severity: 'P1',
    };
    const error = (spec: object) => {
      try {
        compileRule(spec, { kind: 'api' });
      } catch (err) {
        return `${(err as RuleError).path.join('.')}: ${(err as Error).message}`;
      }
      return 'no error';
    };
    assert.equal(error(base), 'no error');
    assert.match(error({ ...base, window: '5 minutes' }), /^window: expected a duration/);
    assert.match(error({ ...base, group_by: ['gateway'] }), /^group_by: "gateway" is not a "by" key/);
    assert.match(error({ ...base, query: 'event.type:x' }), /^query: the query needs a "\| stats/);
    assert.match(error({ ...base, condition: 'n >' }), /^condition: .*at character 4 of "n >"/);
    assert.match(error({ ...base, colour: 'red' }), /unknown key colour/);
    // Bounded: these were accepted and then failed every evaluation, or stalled it.
    assert.match(error({ ...base, window: 1e29 }), /^window: expected a duration from 0s to 400d/);
    assert.match(error({ ...base, window: '100000000d' }), /^window: expected a duration from 0s to 400d/);
    assert.match(error({ ...base, every: 1e29 }), /^every: expected a duration from 0s to 400d/);
    assert.match(error({ ...base, baseline: { window: -1 } }), /^baseline\.window: expected a duration/);
    assert.match(error({ ...base, annotations: { summary: 'x'.repeat(5000) } }), /^annotations\.summary: /);
    assert.equal(error({ ...base, window: '365d', annotations: { summary: 'x'.repeat(4096) } }), 'no error');
  });

  it('points at the line and column in a YAML file', () => {
    const text =
      'rules:\n  - name: A\n    query: "x | stats count() as n"\n    condition: n > 1\n    severity: P1\n    window: soon\n';
    const { rules, problems } = parseRuleFile(text, 'f.yaml');
    assert.equal(rules.length, 0);
    assert.deepEqual(
      problems.map((p) => `${p.line}:${p.column}`),
      ['6:13'],
    );
  });
});

describe('robust spike statistics', () => {
  it('ignores an outlier in the history and flags a real spike', () => {
    const history = [10, 12, 11, 9, 10, 11, 250, 10];
    assert.ok(Math.abs(robustSigma(11, history)!) < 1);
    assert.ok(robustSigma(40, history)! > 3);
  });

  it('gives a flat history of counts a Poisson spread, of other measures 1 % of the median', () => {
    assert.equal(robustSigma(10, [1, 1, 1, 1, 1, 1], { count: true }), 9);
    assert.equal(robustSigma(0, [0, 0, 0, 0, 0, 0], { count: true }), 0);
    assert.ok(Math.abs(robustSigma(0.06, [0.05, 0.05, 0.05, 0.05, 0.05, 0.05])! - 20) < 1e-9);
  });
});

describe('rules API', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ alerts: { enabled: false } });
  });
  after(async () => server?.close());

  const put = (name: string, body: object) =>
    fetch(`${server.url}/api/v1/alerts/rules/${name}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('lists the pack, creates, tests and deletes an API rule; bad rules get a 400 naming the key', async () => {
    const list = (await (await fetch(`${server.url}/api/v1/alerts/rules`)).json()) as any;
    assert.equal(list.rules.length, 23, '20 rules on queries and 3 on error groups');
    assert.ok(list.rules.some((r: any) => r.name === 'HighRiskTransactions' && r.source.kind === 'pack'));

    const bad = await put('Mine', { query: 'x | stats count() as n', condition: 'n >', severity: 'P2' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as any).error.message, /^"condition": /);

    const ok = await put('Mine', {
      query: 'event.type:order_completed | stats count() as orders',
      condition: 'orders < 1',
      severity: 'P3',
    });
    assert.equal(ok.status, 200);
    const tested = await post(`${server.url}/api/v1/alerts/rules/Mine/test`, '{}', {
      'content-type': 'application/json',
    });
    assert.equal(tested.status, 200);
    assert.equal(tested.json.firing, true);
    assert.deepEqual(tested.json.samples[0].values, { orders: 0 });

    const readOnly = await fetch(`${server.url}/api/v1/alerts/rules/HighRiskTransactions`, { method: 'DELETE' });
    assert.equal(readOnly.status, 409);
    assert.equal((await fetch(`${server.url}/api/v1/alerts/rules/Mine`, { method: 'DELETE' })).status, 204);
    assert.equal((await fetch(`${server.url}/api/v1/alerts/rules/Mine`)).status, 404);
  });

  it('ErrorSpike against a steady error a window says 9 sigma, not 900', async () => {
    // 1 error in each 5-minute window of the trailing hour, then 10 in the current window.
    const nowMs = Date.UTC(2025, 0, 8, 12, 0);
    const lines: string[] = [];
    const error = (tsMs: number) =>
      JSON.stringify({
        '@timestamp': new Date(tsMs).toISOString(),
        event: { type: 'error' },
        service: { name: 'spiky-service' },
      });
    // 20 requests a window throughout: the errors' share of them rises from 5 % to 50 % as well.
    const request = (tsMs: number) =>
      JSON.stringify({
        '@timestamp': new Date(tsMs).toISOString(),
        event: { type: 'api_request' },
        service: { name: 'spiky-service' },
      });
    for (let w = 0; w <= 12; w++)
      for (let i = 0; i < 20; i++) lines.push(request(nowMs - 5 * 60_000 - w * 5 * 60_000 + 2000 + i * 1000));
    for (let w = 1; w <= 12; w++) lines.push(error(nowMs - 5 * 60_000 - w * 5 * 60_000 + 1000));
    for (let i = 0; i < 10; i++) lines.push(error(nowMs - 4 * 60_000 + i * 1000));
    const ingested = await post(`${server.url}/api/v1/events?refresh=wait_for`, lines.join('\n'));
    assert.equal(ingested.status, 200, JSON.stringify(ingested.json));
    const rule = loadRuleDirectory('/nonexistent', true).rules.find((r) => r.id === 'ErrorSpike')!;
    const reading = await readRule(server.server.context.store, 'default', rule, nowMs);
    const sample = reading.samples.find((s) => s.labels['service.name'] === 'spiky-service');
    assert.ok(sample, JSON.stringify(reading.samples));
    assert.equal(sample.values['errors'], 10);
    // Median 1, MAD 0: the spread of a count is at least Poisson's √1 = 1, so z = (10 − 1) / 1.
    assert.equal(sample.values['errors_sigma'], 9);
    assert.equal(sample.values['error_share'], 0.5);
    assert.equal(sample.active, true);
    const summary = renderTemplate(rule.spec.annotations['summary']!, {
      rule: rule.id,
      severity: rule.severity,
      labels: sample.labels,
      values: sample.values,
    });
    assert.equal(summary, 'spiky-service: 10 errors in 5 minutes, 9 sigma above the last hour');
  });

  it('ErrorSpike stays quiet when traffic doubles and errors with it (a flash sale), not when errors alone rise', async () => {
    const nowMs = Date.UTC(2025, 0, 8, 18, 0);
    const at = (service: string, type: string, tsMs: number) =>
      JSON.stringify({ '@timestamp': new Date(tsMs).toISOString(), event: { type }, service: { name: service } });
    const lines: string[] = [];
    /** `requests` requests and `errors` errors spread over the 5 minutes ending at `endMs`. */
    const windowOf = (service: string, endMs: number, requests: number, errors: number) => {
      for (let i = 0; i < requests; i++) lines.push(at(service, 'api_request', endMs - 299_000 + i * 1000));
      for (let i = 0; i < errors; i++) lines.push(at(service, 'error', endMs - 298_500 + i * 1000));
    };
    for (let w = 1; w <= 12; w++) {
      windowOf('sale-service', nowMs - w * 5 * 60_000, 100, 5);
      windowOf('broken-service', nowMs - w * 5 * 60_000, 100, 5);
    }
    windowOf('sale-service', nowMs, 240, 12); // 2.4 times the traffic, the same 5 % of errors
    windowOf('broken-service', nowMs, 100, 12); // the same traffic, 12 % errors
    const ingested = await post(`${server.url}/api/v1/events?refresh=wait_for`, lines.join('\n'));
    assert.equal(ingested.status, 200, JSON.stringify(ingested.json));
    const rule = loadRuleDirectory('/nonexistent', true).rules.find((r) => r.id === 'ErrorSpike')!;
    const reading = await readRule(server.server.context.store, 'default', rule, nowMs);
    const of = (name: string) => reading.samples.find((x) => x.labels['service.name'] === name)!;
    // Both have 12 errors against a median of 5: (12 - 5) / √5 = 3.13 sigma.
    assert.ok(Math.abs((of('sale-service').values['errors_sigma'] as number) - 7 / Math.sqrt(5)) < 1e-9);
    assert.equal(of('sale-service').active, false, JSON.stringify(of('sale-service').values));
    assert.equal(of('broken-service').active, true, JSON.stringify(of('broken-service').values));
  });

  it('ErrorRateCritical stays quiet on 2 errors of 39 requests and fires on 6 of 39', async () => {
    const nowMs = Date.UTC(2025, 0, 9, 12, 0);
    const request = (service: string, i: number, status: number) =>
      JSON.stringify({
        '@timestamp': new Date(nowMs - 100_000 + i * 1000).toISOString(),
        event: { type: 'api_request' },
        service: { name: service },
        http: { response: { status_code: status } },
      });
    const lines: string[] = [];
    for (let i = 0; i < 39; i++) lines.push(request('two-of-39', i, i < 2 ? 503 : 200));
    for (let i = 0; i < 39; i++) lines.push(request('six-of-39', i, i < 6 ? 503 : 200));
    const ingested = await post(`${server.url}/api/v1/events?refresh=wait_for`, lines.join('\n'));
    assert.equal(ingested.status, 200, JSON.stringify(ingested.json));
    const rule = loadRuleDirectory('/nonexistent', true).rules.find((r) => r.id === 'ErrorRateCritical')!;
    const reading = await readRule(server.server.context.store, 'default', rule, nowMs);
    const of = (name: string) => reading.samples.find((x) => x.labels['service.name'] === name);
    assert.equal(of('two-of-39')?.values['errors'], 2);
    assert.equal(of('two-of-39')?.active, false, '2 of 39 (5.1 %) is below the 5-error minimum');
    assert.equal(of('six-of-39')?.values['errors'], 6);
    assert.equal(of('six-of-39')?.active, true);
  });

  it('DataAbsent fires for a steady source that stops, never for a one-off one', async () => {
    const nowMs = Date.UTC(2025, 0, 10, 12, 0);
    const at = (service: string, tsMs: number) =>
      JSON.stringify({
        '@timestamp': new Date(tsMs).toISOString(),
        event: { type: 'log' },
        service: { name: service },
      });
    const lines: string[] = [];
    // steady-service: one event a minute from an hour ago until 15 minutes ago, then nothing.
    for (let m = 60; m >= 15; m--) lines.push(at('steady-service', nowMs - m * 60_000 + 5_000));
    // one-off: a single document 30 minutes ago; still-sending: steady and still sending.
    lines.push(at('one-off', nowMs - 30 * 60_000));
    for (let m = 60; m >= 1; m--) lines.push(at('still-sending', nowMs - m * 60_000 + 5_000));
    const ingested = await post(`${server.url}/api/v1/events?refresh=wait_for`, lines.join('\n'));
    assert.equal(ingested.status, 200, JSON.stringify(ingested.json));
    const rule = loadRuleDirectory('/nonexistent', true).rules.find((r) => r.id === 'DataAbsent')!;
    const reading = await readRule(server.server.context.store, 'default', rule, nowMs);
    const firing = reading.samples
      .filter((x) => x.active)
      .map((x) => x.labels['service.name'])
      .sort();
    assert.deepEqual(firing, ['steady-service']);
    // The same source with the pack's old rule (no slices) would have counted the one-off as silent too.
    const plain = compileRule(
      {
        name: 'DataAbsentPlain',
        query: rule.spec.query,
        window: '10m',
        condition: 'absent',
        severity: 'P1',
        group_by: ['service.name'],
        absent: { lookback: '1h' },
      },
      { kind: 'api' },
    );
    const old = await readRule(server.server.context.store, 'default', plain, nowMs);
    assert.ok(old.samples.some((x) => x.active && x.labels['service.name'] === 'one-off'));
  });

  it("DataAbsent never calls Shoplens's own audit trail a silent source", async () => {
    const nowMs = Date.UTC(2025, 0, 11, 12, 0);
    const { pipeline, store } = server.server.context;
    // An admin's session: an audit entry a minute (queries, rule edits), written as AuditTrail writes
    // them, from an hour ago until 15 minutes ago, then nothing (the admin closed the browser).
    const records = [];
    for (let m = 60; m >= 15; m--) {
      const normalized = pipeline.normalize(
        {
          '@timestamp': new Date(nowMs - m * 60_000).toISOString(),
          data_class: 'audit',
          'service.name': 'shoplens',
          'event.category': 'audit',
          'event.type': 'audit',
          'event.action': 'query.run',
          'event.outcome': 'success',
          'event.provider': 'shoplens',
          message: 'query run',
          'user.id': 'admin',
        },
        { tenant: 'audit-tenant', receivedAtMs: nowMs },
      );
      assert.ok(normalized.ok);
      records.push(normalized.record);
    }
    await pipeline.commit('audit', records, []);
    await pipeline.refresh();
    const rule = loadRuleDirectory('/nonexistent', true).rules.find((r) => r.id === 'DataAbsent')!;
    const reading = await readRule(store, 'audit-tenant', rule, nowMs);
    assert.deepEqual(
      reading.samples.filter((x) => x.active).map((x) => x.labels['service.name']),
      [],
    );
    // The entries are there and steady: a rule that asks for the audit class sees them go silent.
    const onAudit = compileRule(
      {
        name: 'AuditAbsent',
        query: 'data_class:audit | stats count() as events by service.name',
        window: '10m',
        condition: 'absent',
        severity: 'P1',
        group_by: ['service.name'],
        absent: { lookback: '1h', slices: 6, min_slices: 5 },
      },
      { kind: 'api' },
    );
    const audit = await readRule(store, 'audit-tenant', onAudit, nowMs);
    assert.deepEqual(
      audit.samples.filter((x) => x.active).map((x) => x.labels['service.name']),
      ['shoplens'],
    );
  });

  it('ErrorSpike on the seasonal residual: the daily 09:00 jump is no spike, a jump on top of it is', async () => {
    // Errors per 5 minutes: 2 before 09:00, 12 after (the newsletter's traffic), the same on the Mondays
    // one and two weeks before; now is Monday 09:10 of the third week.
    const nowMs = Date.UTC(2025, 1, 17, 9, 10);
    const WEEK = 7 * 86_400_000;
    const lines: string[] = [];
    const add = (service: string, fromMs: number, extraNow = 0) => {
      for (let t = fromMs - 60 * 60_000; t < fromMs + 10 * 60_000; t += 5 * 60_000) {
        const n = (t >= fromMs - 10 * 60_000 ? 12 : 2) + (t === fromMs - 5 * 60_000 ? extraNow : 0);
        for (let i = 0; i < n; i++)
          lines.push(
            JSON.stringify({
              '@timestamp': new Date(t + 1_000 + i * 10_000).toISOString(),
              event: { type: 'error' },
              service: { name: service },
            }),
          );
      }
    };
    for (const back of [0, WEEK, 2 * WEEK]) {
      add('usual', nowMs - back);
      add('spiking', nowMs - back, back === 0 ? 20 : 0);
    }
    const ingested = await post(`${server.url}/api/v1/events?refresh=wait_for`, lines.join('\n'));
    assert.equal(ingested.status, 200, JSON.stringify(ingested.json));
    const spec = {
      query: 'event.type:error | stats count() as errors by service.name',
      window: '5m',
      condition: 'errors >= 10 and errors_sigma > 3',
      severity: 'P1' as const,
      group_by: ['service.name'],
    };
    const plain = compileRule({ ...spec, name: 'PlainSpike', spike: { over: '1h', min_samples: 6 } }, { kind: 'api' });
    const seasonal = compileRule(
      {
        ...spec,
        name: 'SeasonalSpike',
        spike: { over: '1h', min_samples: 6, season: '7d', periods: 4, min_periods: 2 },
      },
      { kind: 'api' },
    );
    const store = server.server.context.store;
    const firing = async (rule: typeof plain) =>
      (await readRule(store, 'default', rule, nowMs)).samples
        .filter((x) => x.active)
        .map((x) => x.labels['service.name'])
        .sort();
    // The trailing hour alone: the usual jump reads as a spike.
    assert.deepEqual(await firing(plain), ['spiking', 'usual']);
    assert.deepEqual(await firing(seasonal), ['spiking']);
    const reading = await readRule(store, 'default', seasonal, nowMs);
    const usual = reading.samples.find((x) => x.labels['service.name'] === 'usual')!;
    assert.equal(usual.values['spike_basis'], 'season');
    assert.equal(usual.values['errors_expected'], 12);
  });

  it('evaluates a baseline rule over a shop with no traffic yet: not firing, no error', async () => {
    // ConversionDrop's ratio is null over zero visits; its _change must exist (as null), not fail the rule.
    const tested = await post(`${server.url}/api/v1/alerts/rules/ConversionDrop/test`, '{}', {
      'content-type': 'application/json',
    });
    assert.equal(tested.status, 200, JSON.stringify(tested.json));
    assert.equal(tested.json.firing, false);
    assert.equal(tested.json.samples[0].values.conversion_change, null);
  });

  describe('seasonal baselines', () => {
    // Conversion (carts per visit) per 10 minutes, in a tenant of its own: what each test writes at which hour.
    const rule = compileRule(
      {
        name: 'SeasonalConversion',
        query:
          'event.type:(visit or cart) | stats countif(event.type:cart) as carts, countif(event.type:visit) as visits by shop | eval conversion = carts / visits',
        window: '10m',
        condition: 'visits >= 10 and conversion_change < -0.2',
        severity: 'P2',
        group_by: ['shop'],
        baseline: { season: '7d', periods: 4, min_periods: 2, days: 7 },
      },
      { kind: 'api' },
    );
    const nowMs = Date.UTC(2025, 1, 12, 3, 10); // a Wednesday, 03:10: night time
    /** 20 visits and `carts` carts in the 10 minutes before `endMs`. */
    const windowOf = (shop: string, endMs: number, carts: number): string[] =>
      Array.from({ length: 20 + carts }, (_, i) =>
        JSON.stringify({
          '@timestamp': new Date(endMs - 9 * 60_000 + i * 1000).toISOString(),
          event: { type: i < 20 ? 'visit' : 'cart' },
          shop,
        }),
      );
    async function reading(tenant: string, lines: string[]) {
      const sink = pipelineSink(server.server.context.pipeline, tenant);
      const result = await sink.send(lines.map((l) => JSON.parse(l) as Record<string, unknown>));
      assert.equal(result.rejected, 0, result.firstRejection);
      await sink.flush?.();
      return (await readRule(server.server.context.store, tenant, rule, nowMs)).samples[0]!;
    }

    it('a young shop: night time against the same hour of the previous days, not against the whole day', async () => {
      const lines: string[] = [];
      // Three nights at 03:10 with 4 carts per 20 visits (20 %), and busy afternoons at 50 %.
      for (let d = 1; d <= 3; d++) {
        lines.push(...windowOf('young', nowMs - d * 86_400_000, 4));
        lines.push(...windowOf('young', nowMs - d * 86_400_000 + 12 * 3_600_000, 10));
      }
      lines.push(...windowOf('young', nowMs, 4)); // tonight: 20 %, as every night
      const sample = await reading('seasonal-young', lines);
      assert.equal(sample.values['baseline_basis'], 'days');
      assert.equal(sample.values['baseline_periods'], 3);
      assert.equal(sample.values['conversion_baseline'], 0.2);
      assert.equal(sample.values['conversion_change'], 0);
      assert.equal(sample.active, false);
      // The previous 24 h mean (whole-day, as the pack's old rule read it) says -44 %: the old false alarm.
      const plain = compileRule({ ...rule.spec, name: 'Plain', baseline: { window: '24h' } } as never, { kind: 'api' });
      const old = (await readRule(server.server.context.store, 'seasonal-young', plain, nowMs)).samples[0]!;
      assert.equal(old.values['baseline_basis'], 'window');
      assert.ok((old.values['conversion_change'] as number) < -0.2, JSON.stringify(old.values));
      assert.equal(old.active, true);
    });

    it('with weeks of history: the median of the same hour of the same weekday, an odd week ignored', async () => {
      const lines: string[] = [];
      // Same hour on the last 3 Wednesdays: 20 %, 20 % and a sale night at 50 %; yesterday 5 %.
      lines.push(...windowOf('old', nowMs - 7 * 86_400_000, 4));
      lines.push(...windowOf('old', nowMs - 14 * 86_400_000, 10));
      lines.push(...windowOf('old', nowMs - 21 * 86_400_000, 4));
      lines.push(...windowOf('old', nowMs - 86_400_000, 1));
      lines.push(...windowOf('old', nowMs, 2)); // tonight: 10 %, half the usual
      const sample = await reading('seasonal-old', lines);
      assert.equal(sample.values['baseline_basis'], 'season');
      assert.equal(sample.values['baseline_periods'], 3);
      assert.equal(sample.values['conversion_baseline'], 0.2);
      assert.equal(sample.values['conversion_change'], -0.5);
      assert.equal(sample.active, true);
    });

    it('no history at all: no baseline, not firing', async () => {
      const sample = await reading('seasonal-new', windowOf('new', nowMs, 2));
      assert.equal(sample.values['conversion_baseline'], null);
      assert.equal(sample.values['conversion_change'], null);
      assert.equal(sample.values['baseline_periods'], 0);
      assert.equal(sample.active, false);
    });

    it('rejects min_periods above periods, naming the key', () => {
      assert.throws(
        () =>
          compileRule({ ...rule.spec, baseline: { season: '7d', periods: 2, min_periods: 3 } } as never, {
            kind: 'api',
          }),
        (err: RuleError) => err.path.join('.') === 'baseline.min_periods',
      );
    });
  });
});
