import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import {
  SAMPLE_ERROR_LOG,
  SAMPLE_ORDER_API_REQUEST,
  SAMPLE_PAGE_VIEW,
  SAMPLE_PAYMENT,
} from '../fixtures/sample-events.ts';
import { post, query, startTestServer, type TestServer } from '../helpers/server.ts';

const SAMPLES = { SAMPLE_PAYMENT, SAMPLE_PAGE_VIEW, SAMPLE_ORDER_API_REQUEST, SAMPLE_ERROR_LOG };

/** Every leaf field of an event with its value, by dotted name (arrays are leaves). */
function leaves(obj: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(obj).flatMap(([k, v]) => {
    const name = prefix ? `${prefix}.${k}` : k;
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? leaves(v as Record<string, unknown>, name)
      : [[name, v] as [string, unknown]];
  });
}

function kqlValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

async function count(srv: TestServer, q: string): Promise<number> {
  const r = await query(srv.url, `${q} | stats count() as n`);
  assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.json)}`);
  return r.json.rows[0][0];
}

describe('POST /api/v1/events', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(async () => {
    await srv.close();
  });

  it('stores the sample payment, page view, API request and error log events as written, queryable by every field they show', async () => {
    const body = Object.values(SAMPLES)
      .map((e) => JSON.stringify(e))
      .join('\n');
    const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, body);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { accepted: 4, rejected: [] });
    for (const [name, event] of Object.entries(SAMPLES)) {
      for (const [field, value] of leaves(event)) {
        const q =
          Array.isArray(value) && value.length === 0
            ? `NOT ${field}:* AND ${field === 'security.fraud_indicators' ? 'event.type:payment_transaction' : '*'}`
            : `${field === 'timestamp' ? '@timestamp' : field}:${kqlValue(Array.isArray(value) ? value[0] : value)}`;
        assert.equal(await count(srv, q), 1, `${name}: ${q} should find the event`);
      }
    }
  });

  it('keeps the good lines of a request and reports each bad line with its number, code and field', async () => {
    const body = [
      JSON.stringify({ event: { type: 'add_to_cart' }, customer: { id: 'partial-1' } }),
      '{"event": {"type": "add_to_cart"',
      JSON.stringify({ transaction: { amount: 'twelve' }, customer: { id: 'partial-x' } }),
      '',
      JSON.stringify({ event: { type: 'add_to_cart' }, customer: { id: 'partial-2' } }),
      '[1,2]',
    ].join('\n');
    const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, body);
    assert.equal(r.status, 200);
    assert.equal(r.json.accepted, 2);
    assert.deepEqual(
      r.json.rejected.map((x: any) => [x.line, x.code]),
      [
        [2, 'ingest.invalid_json'],
        [3, 'ingest.invalid_field'],
        [6, 'ingest.not_an_object'],
      ],
    );
    assert.match(r.json.rejected[1].message, /line 3: field "transaction.amount": expected a number/);
    assert.equal(await count(srv, 'customer.id:partial-*'), 2);
  });

  it('accepts a JSON array and a single JSON object', async () => {
    const arr = await post(
      `${srv.url}/api/v1/events?refresh=wait_for`,
      JSON.stringify([{ message: 'array-1' }, { message: 'array-2' }, 'oops']),
      { 'content-type': 'application/json' },
    );
    assert.equal(arr.status, 200);
    assert.equal(arr.json.accepted, 2);
    assert.deepEqual(
      arr.json.rejected.map((x: any) => [x.index, x.code]),
      [[2, 'ingest.not_an_object']],
    );
    const one = await post(`${srv.url}/api/v1/events?refresh=wait_for`, JSON.stringify({ message: 'single-object' }), {
      'content-type': 'application/json',
    });
    assert.deepEqual(one.json, { accepted: 1, rejected: [] });
    const pretty = await post(
      `${srv.url}/api/v1/events?refresh=wait_for`,
      JSON.stringify({ message: 'pretty-object' }, null, 2),
      {
        'content-type': 'application/json',
      },
    );
    assert.deepEqual(pretty.json, { accepted: 1, rejected: [] });
    assert.equal(await count(srv, 'message:array-*'), 2);
    assert.equal(await count(srv, '"single-object"'), 1);
  });

  it('accepts gzip bodies', async () => {
    const body = gzipSync(Buffer.from(JSON.stringify({ message: 'zipped event' }) + '\n'));
    const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, body, {
      'content-type': 'application/x-ndjson',
      'content-encoding': 'gzip',
    });
    assert.deepEqual(r.json, { accepted: 1, rejected: [] });
    assert.equal(await count(srv, '"zipped event"'), 1);
    const broken = await post(`${srv.url}/api/v1/events?refresh=wait_for`, Buffer.from('not gzip'), {
      'content-type': 'application/x-ndjson',
      'content-encoding': 'gzip',
    });
    assert.equal(broken.status, 400);
    assert.equal(broken.json.error.code, 'ingest.invalid_encoding');
  });

  it('answers 400 only when no line is valid, listing every problem', async () => {
    const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, 'nope\n{"transaction":{"amount":"x"}}');
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'ingest.no_valid_events');
    assert.match(r.json.error.message, /line 1: invalid JSON/);
    assert.equal(r.json.accepted, 0);
    assert.equal(r.json.rejected.length, 2);
  });

  it('rejects empty bodies, wrong content types and unknown encodings with clear errors', async () => {
    const empty = await post(`${srv.url}/api/v1/events?refresh=wait_for`, '');
    assert.equal(empty.status, 400);
    assert.equal(empty.json.error.code, 'ingest.empty_body');
    const form = await post(`${srv.url}/api/v1/events?refresh=wait_for`, 'a=b', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(form.status, 415);
    assert.match(form.json.error.message, /application\/x-ndjson/);
    const br = await post(`${srv.url}/api/v1/events?refresh=wait_for`, '{}', {
      'content-type': 'application/json',
      'content-encoding': 'compress',
    });
    assert.equal(br.status, 415);
    assert.equal(br.json.error.code, 'ingest.unsupported_encoding');
  });

  it('rejects invalid UTF-8 and over-long lines one by one, keeping the rest', async () => {
    const good = Buffer.from(JSON.stringify({ message: 'utf8-good' }) + '\n');
    const bad = Buffer.concat([Buffer.from('{"message":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);
    const long = Buffer.from(JSON.stringify({ message: 'x'.repeat(2 * 1024 * 1024) }) + '\n');
    const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, Buffer.concat([good, bad, long]));
    assert.equal(r.status, 200);
    assert.equal(r.json.accepted, 1);
    assert.deepEqual(
      r.json.rejected.map((x: any) => [x.line, x.code]),
      [
        [2, 'ingest.invalid_utf8'],
        [3, 'ingest.line_too_large'],
      ],
    );
  });

  it('stores events whose strings the DuckDB JSON reader refuses (lone surrogates), with the rest of the batch', async () => {
    const body = [
      '{"message":"surrogate-batch ok 1"}',
      '{"message":"surrogate-batch broken \\ud800 here","customer":{"id":"c-\\udfff"}}',
      '{"message":"surrogate-batch ok 2"}',
    ].join('\n');
    const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, body);
    assert.deepEqual(r.json, { accepted: 3, rejected: [] });
    assert.equal(await count(srv, 'surrogate-batch'), 3);
    assert.equal(await count(srv, 'broken'), 1);
  });

  it('answers 413 with the limit for a body over the size limit', async () => {
    const small = await startTestServer({ server: { maxBodyBytes: 1000 } });
    try {
      const r = await post(
        `${small.url}/api/v1/events?refresh=wait_for`,
        JSON.stringify({ message: 'y'.repeat(2000) }),
      );
      assert.equal(r.status, 413);
      assert.equal(r.json.error.code, 'request.body_too_large');
      assert.match(r.json.error.message, /1000 bytes/);
      const zipped = gzipSync(Buffer.from(JSON.stringify({ message: 'z'.repeat(5000) })));
      assert.ok(zipped.length < 1000);
      const z = await post(`${small.url}/api/v1/events?refresh=wait_for`, zipped, {
        'content-type': 'application/x-ndjson',
        'content-encoding': 'gzip',
      });
      assert.equal(z.status, 413);
      assert.match(z.json.error.message, /1000 bytes/);
    } finally {
      await small.close();
    }
  });

  it('commits concurrent requests together (group commit) and acknowledges each', async () => {
    const before = await count(srv, 'message:concurrent-*');
    const requests = Array.from({ length: 40 }, (_, i) =>
      post(`${srv.url}/api/v1/events?refresh=wait_for`, JSON.stringify({ message: `concurrent-${i}` })),
    );
    const answers = await Promise.all(requests);
    assert.ok(answers.every((a) => a.status === 200 && a.json.accepted === 1));
    assert.equal((await count(srv, 'message:concurrent-*')) - before, 40);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    const commits = Number(/^shoplens_batch_events_count (\d+)/m.exec(metrics)?.[1]);
    const requestsSoFar = Number(
      /^shoplens_http_requests_total\{route="\/api\/v1\/events",method="POST",status="200"\} (\d+)/m.exec(metrics)?.[1],
    );
    assert.ok(commits < requestsSoFar, `expected fewer commits (${commits}) than ingest requests (${requestsSoFar})`);
  });
});

describe('ingest without worker threads (ingest.workers: 0)', () => {
  it('answers exactly as the worker threads do', async () => {
    const body = [
      '{"message":"inline-1"}',
      'bad json',
      '{"transaction":{"amount":"x"}}',
      '{"message":"inline-2"}',
    ].join('\n');
    const inline = await startTestServer({ ingest: { workers: 0 } });
    const pooled = await startTestServer({ ingest: { workers: 2 } });
    try {
      const a = await post(`${inline.url}/api/v1/events?refresh=wait_for`, body);
      const b = await post(`${pooled.url}/api/v1/events?refresh=wait_for`, body);
      assert.equal(a.status, 200);
      assert.deepEqual(a.json, b.json);
      assert.equal(a.json.accepted, 2);
      assert.equal(await count(inline, 'message:inline-*'), 2);
      assert.equal(await count(pooled, 'message:inline-*'), 2);
      const e1 = await post(`${inline.url}/api/v1/events?refresh=wait_for`, '', {});
      const e2 = await post(`${pooled.url}/api/v1/events?refresh=wait_for`, '', {});
      assert.equal(e1.status, 400);
      assert.deepEqual(e1.json, e2.json);
    } finally {
      await inline.close();
      await pooled.close();
    }
  });
});

describe('durability', () => {
  it('keeps acknowledged events across a restart', async () => {
    let srv = await startTestServer();
    try {
      const body = Array.from({ length: 500 }, (_, i) =>
        JSON.stringify({ message: `persist-${i}`, event: { type: 'add_to_cart' } }),
      ).join('\n');
      const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, body);
      assert.equal(r.json.accepted, 500);
      srv = await srv.restart();
      assert.equal(await count(srv, 'message:persist-* AND event.type:add_to_cart'), 500);
    } finally {
      await srv.close();
    }
  });
});
