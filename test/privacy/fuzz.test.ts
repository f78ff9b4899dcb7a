/**
 * Fuzz test of the ingest endpoints: a seeded corpus of malformed inputs
 * (truncated JSON, huge numbers, deep nesting, invalid UTF-8, NUL bytes,
 * wrong content types, empty bodies, giant lines, bad gzip, unknown bulk
 * actions, mismatched action/source lines, prototype-pollution keys, random
 * bytes) mixed with good events, through every ingest endpoint. Never a 5xx,
 * never a crash, and every good event is kept and queryable.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { AppError } from '../../src/errors.ts';
import { readCsvEvents } from '../../src/ingest/csv.ts';
import { query, startTestServer, type TestServer } from '../helpers/server.ts';
import { mulberry32 } from '../helpers/rng.ts';

const SEED = 20_240_604;
const MAX_LINE = 16 * 1024;
const NOW = new Date().toISOString();

describe('fuzz: malformed ingest input never gets a 5xx and never costs a good event', { timeout: 60_000 }, () => {
  const random = mulberry32(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const int = (n: number) => Math.floor(random() * n);
  let srv: TestServer;
  let goodSent = 0;
  /** Ids of the good events that must be stored. */
  const expected = new Set<string>();
  const statuses: { label: string; status: number }[] = [];

  /** A good event; `keep`: it is sent where it must be stored. */
  function good(keep = true): string {
    const id = `fuzz-${goodSent++}`;
    if (keep) expected.add(id);
    return JSON.stringify({
      '@timestamp': NOW,
      'event.id': id,
      'service.name': 'fuzz',
      message: `good ${int(1e6)}`,
      'transaction.amount': int(1000) / 10,
    });
  }

  function nested(depth: number, array: boolean): string {
    return array ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  }

  /** One malformed line (or line-ish text): never valid JSON of a `fuzz-` event. */
  function badLine(): string | Buffer {
    const template = JSON.stringify({ '@timestamp': NOW, 'event.id': `bad-${int(1e9)}`, message: 'x'.repeat(int(50)) });
    const kinds: (() => string | Buffer)[] = [
      () => template.slice(0, 1 + int(template.length - 2)), // truncated
      () => `{"transaction.amount": 1e400, "big": ${'9'.repeat(400)}, "n": -1e309}`,
      () => `{"http.response.status_code": ${'9'.repeat(30)}}`,
      () => `{"x": ${nested(20_000 + int(10_000), random() < 0.5)}}`,
      () => nested(5_000, false),
      () => Buffer.concat([Buffer.from('{"message":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]),
      () => `{"message":"nul\u0000inside","k\u0000":"\u0000"}`,
      () => '\u0000\u0000\u0000',
      () => `{"message":"${'y'.repeat(MAX_LINE + int(1000))}"}`, // giant line
      () => '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"message":"proto"}',
      () => '{"__proto__":{"@timestamp":"not a time"}}',
      () => `{"@timestamp": "${pick(['yesterday', '2025-13-45', '', '9999-01-01T00:00:00Z'])}"}`,
      () => `{"data_class": ${pick(['"secret"', '42', 'null', '[]', '{}'])}}`,
      () => pick(['[]', '[1,2', 'null', 'true', '"str"', '42', '{', '}', '{}}', '[{]']),
      () => `{"message":"\\ud800 lone surrogate", "\\udfff": 1}`,
      () => Buffer.from(Array.from({ length: 1 + int(200) }, () => int(256)).filter((b) => b !== 0x0a)),
      () => `{"event.type": {"nested": true}, "service.name": ["a", {"b": 1}], "tags": [[[[]]]]}`,
    ];
    return pick(kinds)();
  }

  function lines(parts: (string | Buffer)[]): Buffer {
    return Buffer.concat(parts.flatMap((p) => [Buffer.isBuffer(p) ? p : Buffer.from(p), Buffer.from('\n')]));
  }

  async function send(
    label: string,
    method: string,
    path: string,
    body: Buffer | string,
    headers: Record<string, string>,
  ): Promise<{ status: number; json: any }> {
    const response = await fetch(`${srv.url}${path}`, { method, body, headers });
    const text = await response.text();
    statuses.push({ label, status: response.status });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, json };
  }

  before(async () => {
    srv = await startTestServer({ ingest: { maxLineBytes: MAX_LINE, workers: 1 } });
  });

  after(async () => {
    await srv.close();
  });

  it('POST /api/v1/events: NDJSON, arrays, gzip, bad encodings, content types and empty bodies', async () => {
    for (let round = 0; round < 40; round++) {
      const goodLines: number[] = [];
      const parts: (string | Buffer)[] = [];
      for (let i = 0; i < 6; i++) {
        if (random() < 0.5 || (i === 5 && goodLines.length === 0)) {
          parts.push(good());
          goodLines.push(i + 1);
        } else parts.push(badLine());
      }
      const body = lines(parts);
      const gzip = random() < 0.3;
      const r = await send(`events ndjson round ${round}`, 'POST', '/api/v1/events', gzip ? gzipSync(body) : body, {
        'content-type': 'application/x-ndjson',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      });
      assert.equal(r.status, 200, JSON.stringify(r.json).slice(0, 500));
      // Some malformed-looking lines are valid events (NUL bytes, odd keys): at least the good ones are accepted.
      assert.ok(r.json.accepted >= goodLines.length, JSON.stringify(r.json).slice(0, 500));
      const rejectedLines = (r.json.rejected as { line: number }[]).map((x) => x.line);
      assert.deepEqual(
        goodLines.filter((l) => rejectedLines.includes(l)),
        [],
        JSON.stringify(r.json).slice(0, 500),
      );
    }
    // A JSON array with good and bad elements.
    const array = `[${good()},{"transaction.amount":"abc"},${good()},[],null,{"__proto__":{"x":1}},${good()}]`;
    const a = await send('events array', 'POST', '/api/v1/events', array, { 'content-type': 'application/json' });
    assert.equal(a.json.accepted, 4, JSON.stringify(a.json)); // the __proto__ object is a plain event
    // Whole-request problems: each a 4xx.
    const whole: [string, Buffer | string, Record<string, string>][] = [
      ['empty', '', { 'content-type': 'application/x-ndjson' }],
      ['blank lines', '\n\n  \n', { 'content-type': 'application/x-ndjson' }],
      [
        'bad gzip',
        Buffer.from('not gzip at all'),
        { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      ],
      ['truncated gzip', gzipSync(good(false)).subarray(0, 12), { 'content-encoding': 'gzip' }],
      ['unknown encoding', good(false), { 'content-encoding': 'br2' }],
      ['html', good(false), { 'content-type': 'text/html' }],
      ['multipart', good(false), { 'content-type': 'multipart/form-data; boundary=x' }],
      ['xml', '<event/>', { 'content-type': 'application/xml' }],
      ['truncated array', `[${good(false)},`, { 'content-type': 'application/json' }],
      ['gzip bomb', gzipSync(Buffer.alloc(60 * 1024 * 1024, 0x20)), { 'content-encoding': 'gzip' }],
    ];
    for (const [label, body, headers] of whole) {
      const r = await send(`events ${label}`, 'POST', '/api/v1/events', body, headers);
      assert.ok(r.status >= 400 && r.status < 500, `${label}: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
    }
  });

  it('Elasticsearch _bulk and single documents', async () => {
    for (let round = 0; round < 30; round++) {
      const parts: (string | Buffer)[] = [];
      const goodItems: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = random();
        if (r < 0.4) {
          parts.push(JSON.stringify({ index: { _index: 'logs-fuzz' } }), good());
          goodItems.push(i);
        } else if (r < 0.6) {
          // Unknown actions are refused with their source.
          parts.push(JSON.stringify({ [pick(['update', 'upsert', 'frobnicate', '__proto__'])]: {} }), good(false));
        } else if (r < 0.8) {
          parts.push(JSON.stringify({ create: { _index: pick(['logs-fuzz', '', 'UPPER', '../x']) } }), badLine());
        } else {
          parts.push(badLine(), good(false)); // a broken action line takes its source with it
        }
      }
      // Mismatched lines at the end: a lone action, an action followed by an action, a delete.
      parts.push(
        pick(['{"index":{}}', '{"delete":{"_id":"x"}}', '{"index":{}}\n{"create":{}}', '{"index":{"_index":"a"}}']),
      );
      const r = await send(`bulk round ${round}`, 'POST', pick(['/_bulk', '/logs-fuzz/_bulk']), lines(parts), {
        'content-type': 'application/x-ndjson',
      });
      assert.equal(r.status, 200, JSON.stringify(r.json).slice(0, 500));
      const items = r.json.items as Record<string, { status: number }>[];
      for (const i of goodItems) {
        assert.equal(
          Object.values(items[i] ?? {})[0]?.status,
          201,
          `round ${round} item ${i}: ${JSON.stringify(items[i])}`,
        );
      }
    }
    for (let i = 0; i < 15; i++) {
      const bad = badLine();
      const r = await send(`_doc ${i}`, 'POST', `/logs-fuzz/_doc`, bad, { 'content-type': 'application/json' });
      assert.ok(r.status < 500, `${r.status}`);
      const put = await send(`_doc put ${i}`, 'PUT', `/logs-fuzz/_doc/fuzz-doc-${i}`, good(false), {
        'content-type': 'application/json',
      });
      assert.equal(put.status, 201, JSON.stringify(put.json));
      expected.add(`fuzz-doc-${i}`); // the URL's id replaces the event's own
    }
    const empty = await send('bulk empty', 'POST', '/_bulk', '', { 'content-type': 'application/x-ndjson' });
    assert.equal(empty.status, 400);
    const badGzip = await send('bulk bad gzip', 'POST', '/_bulk', 'xx', { 'content-encoding': 'gzip' });
    assert.equal(badGzip.status, 400);
  });

  it('never answered 5xx, is still healthy, and every good event is stored and queryable', async () => {
    const fives = statuses.filter((s) => s.status >= 500);
    assert.deepEqual(fives, []);
    const health = await fetch(`${srv.url}/health`);
    assert.equal(health.status, 200);
    const r = await query(srv.url, 'event.id:fuzz-* | stats count() as n');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(Number(r.json.rows[0][0]), expected.size);
    assert.ok(expected.size > 100, `${expected.size} good events`);
  });

  it('CSV import: malformed files fail with a clear 400 or reject rows, never anything else', async () => {
    for (let i = 0; i < 40; i++) {
      const header = 'customer_id,first_name,last_name,email,city,region,signup_date,lifetime_value,tier';
      const rows = Array.from({ length: 5 }, () =>
        pick([
          'C1,A,B,a@b.co,X,EU,2023-01-01,10,GOLD',
          `C2,"unclosed,${'z'.repeat(int(20))}`,
          'C3,A,B,a@b.co,X,EU,2023-02-30,10,GOLD',
          'C4,A,B,a@b.co,X,EU,2023-01-01,1e400,GOLD',
          '\u0000,\u0000',
          String.fromCharCode(...Array.from({ length: 30 }, () => 32 + int(90))),
        ]),
      );
      const text = pick([`${header}\n${rows.join('\n')}`, rows.join('\n'), '', `\uFEFF${header}\n`]);
      try {
        for await (const row of readCsvEvents('customers', Readable.from([Buffer.from(text)]))) {
          assert.ok(row.ok ? typeof row.id === 'string' : row.reason.length > 0);
        }
      } catch (err) {
        assert.ok(err instanceof AppError && err.status === 400, `${(err as Error).message}`);
      }
    }
  });
});
