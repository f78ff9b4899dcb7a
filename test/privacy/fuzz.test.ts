/**
 * Fuzz test of every ingest route with concurrent senders: a seeded corpus
 * (fuzz-corpus.ts) of good events, events keyed `__proto__` / `constructor`
 * / `prototype` at every depth, and malformed lines (huge and deep JSON,
 * 1e300 timestamps, NaN strings, invalid UTF-8, giant lines) goes to
 * `POST /api/v1/events` (NDJSON, arrays, gzip), `_bulk`, `/{index}/_doc`
 * and the CSV import's `_bulk` form, interleaved with the listing query the
 * Explore page runs. The server runs in this process (test/helpers/server.ts,
 * ingest workers off), so its prototypes are this test's prototypes:
 * - never a 5xx; /health, a query and /metrics still answer;
 * - no key added to Object.prototype, Array.prototype or other built-ins;
 * - every good event is stored; every poisoned event is read back with its
 *   keys as plain data;
 * - after a restart on the same data directory, listing the poisoned events
 *   again leaves the prototypes clean.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { AppError } from '../../src/errors.ts';
import { csvIndexName, readCsvEvents } from '../../src/ingest/csv.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { FuzzCorpus, ownPath, type FuzzExpectations } from './fuzz-corpus.ts';

const SEED = 20_240_604;
const MAX_LINE = 64 * 1024;
const SENDERS = 6;
const ROUNDS = 30;

/** The built-ins a polluting write would reach, and their own keys before the test. */
const BUILTINS: Record<string, object> = {
  'Object.prototype': Object.prototype,
  'Array.prototype': Array.prototype,
  'Function.prototype': Function.prototype,
  'String.prototype': String.prototype,
  'Number.prototype': Number.prototype,
  'Boolean.prototype': Boolean.prototype,
};
const BEFORE = new Map(Object.entries(BUILTINS).map(([name, proto]) => [name, new Set(Reflect.ownKeys(proto))]));

/** Keys added to built-in prototypes since the test started, as `Object.prototype.polluted`. */
function addedPrototypeKeys(): string[] {
  const added: string[] = [];
  for (const [name, proto] of Object.entries(BUILTINS)) {
    for (const key of Reflect.ownKeys(proto)) if (!BEFORE.get(name)?.has(key)) added.push(`${name}.${String(key)}`);
  }
  return added;
}

/** Removes what a failed run added, so that the server can still be closed. */
function cleanPrototypes(): void {
  for (const [name, proto] of Object.entries(BUILTINS)) {
    for (const key of Reflect.ownKeys(proto)) if (!BEFORE.get(name)?.has(key)) delete (proto as never)[key];
  }
}

function assertPrototypesClean(when: string): void {
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined, `${when}: ({}).polluted`);
  assert.equal(([] as unknown as Record<string, unknown>)['polluted'], undefined, `${when}: [].polluted`);
  assert.deepEqual(addedPrototypeKeys(), [], `${when}: keys added to built-in prototypes`);
}

describe('fuzz: concurrent hostile ingest on every route', { timeout: 120_000 }, () => {
  const shared: FuzzExpectations = { expected: new Set(), proto: new Map() };
  /** The test's own sends (after the senders). */
  const corpus = new FuzzCorpus(SEED, MAX_LINE, 'main', shared);
  let srv: TestServer;
  const statuses: { label: string; status: number; body: string }[] = [];
  /** CSV rows acknowledged by the `_bulk` import. */
  const csvIds = new Set<string>();

  async function send(label: string, method: string, path: string, body?: Buffer | string, headers = {}) {
    // A server broken by a polluted prototype may stop answering: fail the request, not the whole run.
    const response = await fetch(`${srv.url}${path}`, { method, body, headers, signal: AbortSignal.timeout(20_000) });
    const text = await response.text();
    statuses.push({ label, status: response.status, body: text.slice(0, 300) });
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, json };
  }

  function query(q: string): Promise<{ status: number; json: any }> {
    const range = { from: '2000-01-01T00:00:00Z', to: 'now+1h' };
    return send(`query ${q}`, 'POST', '/api/v1/query', JSON.stringify({ query: q, ...range }), {
      'content-type': 'application/json',
    });
  }

  function lines(parts: (string | Buffer)[]): Buffer {
    return Buffer.concat(parts.flatMap((p) => [Buffer.isBuffer(p) ? p : Buffer.from(p), Buffer.from('\n')]));
  }

  /** NDJSON or a JSON array with good, poisoned and bad lines; the good and poisoned ones must be accepted. */
  async function sendEvents(corpus: FuzzCorpus, label: string): Promise<void> {
    const must: number[] = [];
    const parts: (string | Buffer)[] = [];
    for (let i = 0; i < 6; i++) {
      const r = corpus.random();
      if (r < 0.35 || (i === 5 && must.length === 0)) parts.push(corpus.good());
      else if (r < 0.6) parts.push(corpus.poisoned());
      else {
        parts.push(corpus.bad());
        continue;
      }
      must.push(i + 1);
    }
    const gzip = corpus.random() < 0.3;
    const body = lines(parts);
    const r = await send(label, 'POST', '/api/v1/events?refresh=wait_for', gzip ? gzipSync(body) : body, {
      'content-type': 'application/x-ndjson',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    assert.equal(r.status, 200, `${label}: ${JSON.stringify(r.json).slice(0, 500)}`);
    const rejected = new Set((r.json.rejected as { line: number }[]).map((x) => x.line));
    assert.deepEqual(
      must.filter((l) => rejected.has(l)),
      [],
      `${label}: ${JSON.stringify(r.json).slice(0, 500)}`,
    );
  }

  async function sendArray(corpus: FuzzCorpus, label: string): Promise<void> {
    const items = [corpus.good(), corpus.poisoned(), '{"transaction.amount":"abc"}', '[]', 'null', corpus.good()];
    const r = await send(label, 'POST', '/api/v1/events?refresh=wait_for', `[${items.join(',')}]`, {
      'content-type': 'application/json',
    });
    assert.equal(r.status, 200, `${label}: ${JSON.stringify(r.json).slice(0, 500)}`);
    assert.deepEqual(
      (r.json.rejected as { index: number }[]).map((x) => x.index),
      [2, 3, 4],
      label,
    );
  }

  async function sendBulk(corpus: FuzzCorpus, label: string): Promise<void> {
    const parts: (string | Buffer)[] = [];
    const must: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = corpus.random();
      if (r < 0.5) {
        parts.push(JSON.stringify({ index: { _index: 'logs-fuzz' } }), r < 0.3 ? corpus.good() : corpus.poisoned());
        must.push(i);
      } else if (r < 0.65) {
        parts.push(corpus.pick(['{"__proto__":{}}', '{"constructor":{}}', '{"update":{}}']), corpus.good(false));
      } else if (r < 0.8) {
        parts.push('{"create":{"_index":"logs-fuzz","__proto__":{"_id":"x"}}}', corpus.bad());
      } else parts.push(corpus.bad(), corpus.good(false)); // a broken action line takes its source with it
    }
    parts.push(corpus.pick(['{"index":{}}', '{"delete":{"_id":"x"}}', '{"index":{"_index":"a"}}']));
    const r = await send(
      label,
      'POST',
      corpus.pick(['/_bulk?refresh=wait_for', '/logs-fuzz/_bulk?refresh=wait_for']),
      lines(parts),
      {
        'content-type': 'application/x-ndjson',
      },
    );
    assert.equal(r.status, 200, `${label}: ${JSON.stringify(r.json).slice(0, 500)}`);
    const items = r.json.items as Record<string, { status: number }>[];
    for (const i of must) {
      assert.equal(Object.values(items[i] ?? {})[0]?.status, 201, `${label} item ${i}: ${JSON.stringify(items[i])}`);
    }
  }

  async function sendDoc(corpus: FuzzCorpus, label: string): Promise<void> {
    const bad = await send(`${label} bad`, 'POST', '/logs-fuzz/_doc', corpus.bad(), {
      'content-type': 'application/json',
    });
    assert.ok(bad.status < 500, `${label}: ${bad.status}`);
    const id = corpus.id('fuzz-doc');
    const put = await send(`${label} put`, 'PUT', `/logs-fuzz/_doc/${id}`, corpus.good(false), {
      'content-type': 'application/json',
    });
    assert.equal(put.status, 201, `${label}: ${JSON.stringify(put.json)}`);
    corpus.expected.add(id); // the URL's id replaces the event's own
    // POST /{index}/_doc makes up an id (as Elasticsearch does): the poisoned event goes with its own in the URL.
    const p = corpus.poisonedEvent();
    const poisoned = await send(`${label} poisoned`, 'PUT', `/logs-fuzz/_doc/${p.id}`, p.line, {
      'content-type': 'application/json',
    });
    assert.equal(poisoned.status, 201, `${label}: ${JSON.stringify(poisoned.json)}`);
  }

  /** As `shoplens import --url`: CSV rows mapped to events, sent over `_bulk` with their ids. */
  async function sendCsv(corpus: FuzzCorpus, label: string): Promise<void> {
    const rows: { id: string; event: Record<string, unknown> }[] = [];
    try {
      for await (const row of readCsvEvents('customers', Readable.from([Buffer.from(corpus.csv())]))) {
        if (row.ok) rows.push(row);
        else assert.ok(row.reason.length > 0);
      }
    } catch (err) {
      assert.ok(err instanceof AppError && err.status === 400, (err as Error).message);
    }
    if (rows.length === 0) return;
    const index = csvIndexName('customers');
    const body = rows.map(
      (r) => `${JSON.stringify({ index: { _index: index, _id: r.id } })}\n${JSON.stringify(r.event)}\n`,
    );
    const r = await send(label, 'POST', '/_bulk?refresh=wait_for', body.join(''), {
      'content-type': 'application/x-ndjson',
    });
    assert.equal(r.status, 200, `${label}: ${JSON.stringify(r.json).slice(0, 500)}`);
    (r.json.items as Record<string, { status: number; _id: string }>[]).forEach((item) => {
      const result = Object.values(item)[0];
      assert.ok(result && result.status < 300, `${label}: ${JSON.stringify(item)}`);
      csvIds.add(result._id);
    });
  }

  /** Whole-request problems: each a 4xx. */
  async function sendJunk(corpus: FuzzCorpus, label: string): Promise<void> {
    const [what, body, headers] = corpus.pick<[string, Buffer | string, Record<string, string>]>([
      ['empty', '', { 'content-type': 'application/x-ndjson' }],
      ['bad gzip', 'not gzip', { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' }],
      ['html', corpus.good(false), { 'content-type': 'text/html' }],
      ['truncated array', `[${corpus.good(false)},`, { 'content-type': 'application/json' }],
      ['only bad lines', '{"@timestamp":1e300}\n{"@timestamp":-1e300}\n', { 'content-type': 'application/x-ndjson' }],
    ]);
    // Empty and undecodable bodies fail `_bulk` as a whole too; the rest are events-route problems.
    const path =
      what === 'empty' || what === 'bad gzip'
        ? corpus.pick(['/api/v1/events?refresh=wait_for', '/_bulk?refresh=wait_for'])
        : '/api/v1/events?refresh=wait_for';
    const r = await send(`${label} ${what}`, 'POST', path, body, headers);
    assert.ok(r.status >= 400 && r.status < 500, `${label} ${what}: ${r.status} ${JSON.stringify(r.json)}`);
  }

  /** The Explore listing of the poisoned events (reading them back rebuilds `_source` from their keys). */
  async function listPoisoned(_corpus: FuzzCorpus, label: string): Promise<void> {
    const r = await send(label, 'POST', '/api/v1/query', JSON.stringify({ query: 'message:proto | limit 5' }), {
      'content-type': 'application/json',
    });
    assert.equal(r.status, 200, `${label}: ${JSON.stringify(r.json).slice(0, 300)}`);
  }

  async function sender(n: number): Promise<void> {
    const own = new FuzzCorpus(SEED + n, MAX_LINE, `s${n}`, shared);
    const routes = [sendEvents, sendEvents, sendArray, sendBulk, sendBulk, sendDoc, sendCsv, sendJunk, listPoisoned];
    for (let round = 0; round < ROUNDS; round++) {
      const route = own.pick(routes);
      await route(own, `sender ${n} round ${round} ${route.name}`);
    }
  }

  before(async () => {
    srv = await startTestServer({
      // Workers off: NDJSON is normalised in this process, where the prototypes are checked.
      ingest: { maxLineBytes: MAX_LINE, workers: 0 },
      limits: { queriesPerSecond: 0 },
    });
  });

  after(async () => {
    cleanPrototypes();
    await srv.close();
  });

  it('takes the corpus from concurrent senders on every ingest route without a 5xx', async () => {
    const results = await Promise.allSettled(Array.from({ length: SENDERS }, (_, n) => sender(n)));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
    assert.deepEqual(
      failures.map((m) => m.slice(0, 600)),
      [],
    );
    assert.deepEqual(
      statuses.filter((s) => s.status >= 500),
      [],
    );
    assert.ok(statuses.length >= SENDERS * ROUNDS, `${statuses.length} requests`);
  });

  it('leaves every built-in prototype as it was, after listing the poisoned events', async () => {
    await listPoisoned(corpus, 'listing after the senders');
    assertPrototypesClean('after ingest and listing');
  });

  it('still answers /health, /metrics and a query', async () => {
    assert.equal((await send('health', 'GET', '/health')).status, 200);
    assert.equal((await send('metrics', 'GET', '/metrics')).status, 200);
    const r = await query('* | stats count() as n');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.ok(Number(r.json.rows[0][0]) > 0);
  });

  it('stores every good event and reads the poisoned ones back with their keys as data', async () => {
    const good = await query('event.id:fuzz-* | stats count() as n');
    assert.equal(good.status, 200, JSON.stringify(good.json));
    assert.equal(Number(good.json.rows[0][0]), shared.expected.size);
    assert.ok(shared.expected.size > 200, `${shared.expected.size} good events`);
    const csv = await query(`_index:${csvIndexName('customers')} | stats count() as n`);
    assert.equal(Number(csv.json.rows[0][0]), csvIds.size);
    await assertPoisonedReadBack();
  });

  it('after a restart on the same data directory, listing the poisoned events leaves prototypes clean', async () => {
    srv = await srv.restart();
    await listPoisoned(corpus, 'listing after restart');
    await assertPoisonedReadBack();
    assertPrototypesClean('after restart and listing');
    const r = await send('ingest after restart', 'POST', '/api/v1/events?refresh=wait_for', corpus.good(), {
      'content-type': 'application/x-ndjson',
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal((await send('metrics after restart', 'GET', '/metrics')).status, 200);
  });

  async function assertPoisonedReadBack(): Promise<void> {
    const r = await query(`event.id:proto-* | limit ${shared.proto.size + 10}`);
    assert.equal(r.status, 200, JSON.stringify(r.json).slice(0, 300));
    const at = (r.json.columns as { name: string }[]).findIndex((c) => c.name === '_source');
    const sources = new Map<string, unknown>();
    for (const row of r.json.rows as unknown[][]) {
      sources.set(String(ownPath(row[at], ['event', 'id'])), row[at]);
    }
    assert.ok(shared.proto.size > 100, `${shared.proto.size} poisoned events`);
    const wrong: string[] = [];
    for (const p of shared.proto.values()) {
      const found = ownPath(sources.get(p.id), p.path);
      if (found !== p.value) wrong.push(`${p.id} ${p.path.join('.')}=${JSON.stringify(found)} from ${p.line}`);
    }
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${shared.proto.size} poisoned events read back wrong`);
    assert.equal(sources.size, shared.proto.size);
  }
});
