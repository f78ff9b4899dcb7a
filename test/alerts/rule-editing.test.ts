/**
 * Editing rules through the API (PUT over an existing rule, pack rules
 * copied into editable ones) and the preview: the episodes it reports over
 * ingested events are checked against the test's own count of the events in
 * each window at each step.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** The preview's end: a whole 5 minutes, 10 minutes ago (the range's steps land on known instants). */
const TO = Math.floor(Date.now() / (5 * MIN)) * 5 * MIN - 10 * MIN;

/** Error bursts: service, start (ms before TO), errors, spread over how many ms. */
const BURSTS: readonly [string, number, number, number][] = [
  ['checkout', 20 * HOUR + 2 * MIN, 30, 4 * MIN],
  ['search', 6 * HOUR + 7 * MIN, 90, 20 * MIN],
  ['checkout', 3 * HOUR + 1 * MIN, 25, 3 * MIN],
  ['search', 3 * HOUR + 1 * MIN, 6, 3 * MIN], // too few for the rule
  ['checkout', 40 * MIN, 120, 39 * MIN], // still going at the end of the range
];

interface Event {
  readonly atMs: number;
  readonly service: string;
  readonly status: number;
}

function events(): Event[] {
  const out: Event[] = [];
  for (const [service, before, errors, spread] of BURSTS)
    for (let i = 0; i < errors; i++)
      out.push({ atMs: TO - before + Math.floor((i * spread) / errors), service, status: 503 });
  // Steady successful traffic every 10 minutes for both services over the whole day.
  for (let t = TO - 24 * HOUR; t < TO; t += 10 * MIN)
    for (const service of ['checkout', 'search']) out.push({ atMs: t + 17_000, service, status: 200 });
  return out;
}

function ndjson(list: readonly Event[]): string {
  return list
    .map((e) =>
      JSON.stringify({
        '@timestamp': new Date(e.atMs).toISOString(),
        event: { type: 'api_request' },
        service: { name: e.service },
        http: { response: { status_code: e.status } },
      }),
    )
    .join('\n');
}

interface Episode {
  service: string;
  firedAt: string;
  resolvedAt: string | null;
  errors: number;
}

/**
 * The test's own answer: at each step t (every 5 minutes, the last at TO),
 * the errors of each service in [t − 5 min, t); a run of steps with ≥ 10
 * errors fires at its first step that is `forMs` after the run began and
 * resolves at the first step after the run.
 */
function expectedEpisodes(list: readonly Event[], forMs: number): Episode[] {
  const stepMs = 5 * MIN;
  const steps: number[] = [];
  for (let t = TO - 24 * HOUR + stepMs; t <= TO; t += stepMs) steps.push(t);
  const episodes: Episode[] = [];
  for (const service of ['checkout', 'search']) {
    let runStart: number | undefined;
    let open: Episode | undefined;
    for (const t of steps) {
      const errors = list.filter(
        (e) => e.service === service && e.status >= 500 && e.atMs >= t - 5 * MIN && e.atMs < t,
      ).length;
      if (errors >= 10) {
        runStart ??= t;
        if (!open && t - runStart >= forMs) {
          open = { service, firedAt: new Date(t).toISOString(), resolvedAt: null, errors };
          episodes.push(open);
        }
      } else {
        if (open) open.resolvedAt = new Date(t).toISOString();
        open = undefined;
        runStart = undefined;
      }
    }
  }
  return episodes.sort((a, b) => a.firedAt.localeCompare(b.firedAt) || a.service.localeCompare(b.service));
}

const RULE = {
  query:
    'event.type:api_request | stats countif(http.response.status_code:>=500) as errors, count() as total by service.name',
  window: '5m',
  condition: 'errors >= 10',
  severity: 'P2',
  group_by: ['service.name'],
};

describe('rule editing and preview', () => {
  let server: TestServer;
  const send = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };

  before(async () => {
    server = await startTestServer({ alerts: { enabled: false } });
    const list = events();
    const res = await post(`${server.url}/api/v1/events?refresh=wait_for`, ndjson(list));
    assert.equal(res.status, 200, JSON.stringify(res.json).slice(0, 300));
  });
  after(async () => {
    await server?.close();
  });

  it('edits an API rule in place: PUT replaces it, GET shows the new spec and version', async () => {
    const created = await send('PUT', '/api/v1/alerts/rules/ApiErrors', RULE);
    assert.equal(created.status, 200, JSON.stringify(created.json));
    assert.equal(created.json.version, 1);
    const edited = await send('PUT', '/api/v1/alerts/rules/ApiErrors', {
      ...RULE,
      condition: 'errors >= 20',
      for: '2m',
    });
    assert.equal(edited.status, 200);
    assert.equal(edited.json.version, 2);
    const read = await send('GET', '/api/v1/alerts/rules/ApiErrors');
    assert.equal(read.json.spec.condition, 'errors >= 20');
    assert.equal(read.json.spec.for, 2 * MIN);
    assert.deepEqual(read.json.source, { kind: 'api' });
  });

  it('refuses a bad edit with a 400 naming the field, and keeps the rule as it was', async () => {
    const bad = await send('PUT', '/api/v1/alerts/rules/ApiErrors', { ...RULE, condition: 'errors >=' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'rule.invalid');
    assert.match(bad.json.error.message, /^"condition": /);
    const window = await send('PUT', '/api/v1/alerts/rules/ApiErrors', { ...RULE, window: 'five minutes' });
    assert.match(window.json.error.message, /^"window": expected a duration/);
    const unknown = await send('PUT', '/api/v1/alerts/rules/ApiErrors', { ...RULE, treshold: 3 });
    assert.match(unknown.json.error.message, /unknown key treshold/);
    const read = await send('GET', '/api/v1/alerts/rules/ApiErrors');
    assert.equal(read.json.spec.condition, 'errors >= 20');
  });

  it('copies a pack rule into an editable one of the same name, and deleting the copy brings the pack rule back', async () => {
    const pack = await send('GET', '/api/v1/alerts/rules/HighRiskTransactions');
    assert.equal(pack.json.source.kind, 'pack');
    const copy = await send('PUT', '/api/v1/alerts/rules/HighRiskTransactions', {
      ...pack.json.spec,
      name: undefined,
      condition: 'high_risk >= 8',
    });
    assert.equal(copy.status, 200, JSON.stringify(copy.json));
    const read = await send('GET', '/api/v1/alerts/rules/HighRiskTransactions');
    assert.deepEqual(read.json.source, { kind: 'api' });
    assert.equal(read.json.spec.condition, 'high_risk >= 8');
    assert.equal((await send('DELETE', '/api/v1/alerts/rules/HighRiskTransactions')).status, 204);
    assert.equal((await send('GET', '/api/v1/alerts/rules/HighRiskTransactions')).json.source.kind, 'pack');
  });

  for (const forText of ['0s', '10m']) {
    it(`previews the last 24 h (for: ${forText}): the episodes match the events counted step by step`, async () => {
      const forMs = forText === '0s' ? 0 : 10 * MIN;
      const res = await send('POST', '/api/v1/alerts/rules/preview', {
        rule: { ...RULE, for: forText },
        range: '24h',
        to: new Date(TO).toISOString(),
      });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.stepMs, 5 * MIN);
      assert.equal(res.json.steps.length, 288);
      assert.equal(res.json.steps.at(-1).at, new Date(TO).toISOString());
      assert.equal(res.json.truncatedAt, null);
      const got: Episode[] = res.json.episodes.map(
        (e: {
          labels: Record<string, string>;
          firedAt: string;
          resolvedAt: string | null;
          values: { errors: number };
        }) => ({
          service: e.labels['service.name'],
          firedAt: e.firedAt,
          resolvedAt: e.resolvedAt,
          errors: e.values.errors,
        }),
      );
      const expected = expectedEpisodes(events(), forMs);
      // Short bursts fire without `for` only; the long ones either way (the last still firing at the end).
      assert.ok(expected.length >= (forMs ? 2 : 4), JSON.stringify(expected));
      assert.equal(expected.at(-1)!.resolvedAt, null);
      assert.deepEqual(got, expected);
      const first = res.json.episodes[0];
      assert.ok(
        first.fields.some(
          (f: { title: string; value: string }) => f.title === 'Errors' && f.value === String(expected[0]!.errors),
        ),
      );
    });
  }

  it('refuses a bad preview with a 400 naming the field', async () => {
    const condition = await send('POST', '/api/v1/alerts/rules/preview', { rule: { ...RULE, condition: 'errors >' } });
    assert.equal(condition.status, 400);
    assert.match(condition.json.error.message, /^"rule\.condition": /);
    const range = await send('POST', '/api/v1/alerts/rules/preview', { rule: RULE, range: '30d' });
    assert.equal(range.status, 400);
    assert.match(range.json.error.message, /^"range": expected a duration up to 7d/);
    const missing = await send('POST', '/api/v1/alerts/rules/preview', { range: '24h' });
    assert.equal(missing.status, 400);
    assert.match(missing.json.error.message, /^"rule": /);
    const severity = await send('POST', '/api/v1/alerts/rules/preview', { rule: { ...RULE, severity: 'urgent' } });
    assert.match(severity.json.error.message, /^"rule\.severity": expected P0, P1, P2, P3/);
  });

  it('previews 7 days in at most 288 steps', async () => {
    const res = await send('POST', '/api/v1/alerts/rules/preview', { rule: RULE, range: '7d' });
    assert.equal(res.status, 200);
    assert.ok(res.json.steps.length <= 288, String(res.json.steps.length));
    assert.equal(res.json.stepMs, 35 * MIN);
  });
});
