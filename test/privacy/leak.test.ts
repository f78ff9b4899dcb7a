/**
 * The leak test (issue 4, item 7): card numbers, CVVs, PINs, passwords,
 * tokens, API keys and cookies are planted everywhere an input can carry
 * them, through every ingest endpoint and the query API. Then the server is
 * stopped and every byte of its data directory, everything it logged, every
 * row it handed to the store (what the staging NDJSON file holds), a dump
 * of all stored events, and every answer it gave (bodies and headers, e.g.
 * `Location` and `X-Request-Id`) are searched: zero occurrences. Documents
 * (alert rules, dashboards, silences, API key names) get the same plants. A control run stores
 * the same plants past the redactor and proves the scan finds them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { toRowLine, type EventRecord, type StoredEvent } from '../../src/schema/record.ts';
import { post, query, startTestServer, testDataDir, type TestServer } from '../helpers/server.ts';
import { plantDocuments } from './plant-documents.ts';
import { CARDS, findPlants, grouped, SECRETS } from './plants.ts';
import { shoplens } from '../helpers/cli.ts';

const NOW = new Date().toISOString();

/** Every byte of every file under `dir`, as latin1 text (byte-for-byte searchable). */
function readTree(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    out += statSync(path).isDirectory() ? readTree(path) : `${readFileSync(path).toString('latin1')}\n`;
  }
  return out;
}

/** Captures what the server hands to the store: exactly what the staging file is written from. */
function captureAppends(srv: TestServer): string[] {
  const lines: string[] = [];
  const store = srv.server.context.store;
  const append = store.appendEvents.bind(store);
  store.appendEvents = (events: readonly StoredEvent[]) => {
    for (const e of events) lines.push(typeof e === 'string' ? e : toRowLine(e));
    return append(events);
  };
  return lines;
}

/**
 * Records every answer the test's `fetch` calls get (status, headers, body), without the
 * request URL (which holds plants on purpose); returns the recording and the restore function.
 */
function recordAnswers(): { answers: string[]; restore: () => void } {
  const answers: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const response = await realFetch(input, init);
    const headers = [...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
    answers.push(`answer ${answers.length} (${response.status})\n${headers}\n${await response.clone().text()}`);
    return response;
  };
  return { answers, restore: () => (globalThis.fetch = realFetch) };
}

/** Every stored event of every data class, as JSON text. */
async function dumpEvents(url: string): Promise<string> {
  const r = await query(url, 'data_class:* | limit 100000', { from: '2000-01-01T00:00:00Z', to: 'now+1h' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return JSON.stringify(r.json);
}

const { visa16, visa13, visa19, mastercard, mastercard2, amex, discover, diners, jcb, unionpay } = CARDS;
const { visaTest } = CARDS;
const S = SECRETS;

/** An event carrying plants in typed fields, attributes, nested arrays, keys, messages, stacks and URLs. */
function plantedEvent(n: number): Record<string, unknown> {
  return {
    '@timestamp': NOW,
    'event.id': `leak-${n}`,
    'service.name': 'checkout',
    'event.type': 'payment_transaction',
    message: `Payment for card ${grouped(visa16, ' ')} declined, customer john.doe@gmail.com`,
    'exception.message': `CardError: number ${grouped(mastercard, '-')} rejected`,
    'exception.stacktrace': `Error: charge failed for ${amex}\n    at charge (/app/pay.ts:10:3) Authorization: Bearer ${S.bearer}`,
    'url.path': `/api/pay?card=${discover}&token=${S.token}&api_key=${S.apiKey}`,
    'page.url': `https://shop.example/checkout?cc=${grouped(jcb, '%20')}&password=${S.password}`,
    payment: {
      card_number: diners,
      pan: Number(visa13),
      card: { cvv: S.cvv, cvc: S.cvv, pin: S.pin, expiry: '12/30' },
      history: [[{ number: unionpay }], { nested: [grouped(visa19, ' ')] }],
    },
    headers: {
      Authorization: `Bearer ${S.bearer}`,
      Cookie: `session=${S.cookie}`,
      'X-Api-Key': S.apiKey,
      accept: 'application/json',
    },
    user: { password: S.password, passwd: S.password, accessToken: S.token, refresh_token: S.token },
    oauth: { client_secret: S.secret, id_token: S.jwt },
    [mastercard2]: 'a card number as a key',
    note: `jwt ${S.jwt} and stripe ${S.stripe} and {"password":"${S.password}"}`,
  };
}

describe('leak test: nothing planted reaches disk, logs or the store', { timeout: 120_000 }, () => {
  let srv: TestServer;
  let appended: string[];
  let dataDir: string;
  let logs = '';
  let dump = '';
  let cliOutput = '';
  let answers: string[] = [];
  let stopRecording = () => {};

  before(async () => {
    srv = await startTestServer();
    dataDir = srv.dataDir;
    appended = captureAppends(srv);
    const u = srv.url;
    const recording = recordAnswers();
    answers = recording.answers;
    stopRecording = recording.restore;

    // POST /api/v1/events: NDJSON (with rejected lines), a JSON array, one object, gzip; a token in the URL.
    const ndjson = [
      JSON.stringify(plantedEvent(1)),
      `{"message":"broken ${visa16} ${S.password}`, // malformed JSON holding a card and a secret
      JSON.stringify({ 'transaction.amount': grouped(visa16, ' '), message: 'wrong type' }),
      JSON.stringify({ 'http.response.status_code': mastercard, password: S.password }),
      JSON.stringify({ '@timestamp': `${amex}`, token: S.token }),
      JSON.stringify({ data_class: `${discover}` }),
    ].join('\n');
    const r1 = await post(`${u}/api/v1/events?refresh=wait_for&token=${S.token}&card=${visa16}`, ndjson, {
      'content-type': 'application/x-ndjson',
      authorization: `Bearer ${S.bearer}`,
      cookie: `session=${S.cookie}`,
    });
    assert.equal(r1.status, 200, JSON.stringify(r1.json));
    assert.equal(r1.json.accepted, 1);
    assert.equal(r1.json.rejected.length, 5);
    const r2 = await post(`${u}/api/v1/events?refresh=wait_for`, JSON.stringify([plantedEvent(2), plantedEvent(3)]), {
      'content-type': 'application/json',
    });
    assert.equal(r2.json.accepted, 2);
    const r3 = await post(`${u}/api/v1/events?refresh=wait_for`, JSON.stringify(plantedEvent(4)), {
      'content-type': 'application/json',
    });
    assert.equal(r3.json.accepted, 1);
    const r4 = await post(`${u}/api/v1/events?refresh=wait_for`, gzipSync(JSON.stringify(plantedEvent(5))), {
      'content-type': 'application/x-ndjson',
      'content-encoding': 'gzip',
    });
    assert.equal(r4.json.accepted, 1);
    // Every line bad: the 400 answer quotes the first problem.
    const r5 = await post(`${u}/api/v1/events?refresh=wait_for`, JSON.stringify({ 'event.duration': `${visa16} ms` }));
    assert.equal(r5.status, 400);
    // Request ids a client sends are echoed back and logged only when they hold nothing secret.
    for (const requestId of [grouped(visaTest, '-'), `token:${S.token}`, `password:${S.hunter2}`]) {
      const r = await post(`${u}/api/v1/events?refresh=wait_for`, JSON.stringify({ message: 'request id' }), {
        'content-type': 'application/json',
        'x-request-id': requestId,
      });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    }
    const kept = await post(`${u}/api/v1/events?refresh=wait_for`, JSON.stringify({ message: 'request id' }), {
      'content-type': 'application/json',
      'x-request-id': 'trace-0042',
    });
    assert.equal(kept.headers.get('x-request-id'), 'trace-0042');

    // Elasticsearch _bulk: card numbers in the URL index, `_index`, `_id`, an unknown action, rejected sources.
    const bulk = [
      JSON.stringify({ index: { _index: `logs-${visa16}`, _id: `id-${mastercard}` } }),
      JSON.stringify(plantedEvent(6)),
      JSON.stringify({ create: {} }),
      JSON.stringify(plantedEvent(7)),
      JSON.stringify({ [`act${amex}`]: { _index: 'x' } }),
      JSON.stringify(plantedEvent(8)),
      JSON.stringify({ index: { _id: `token=${S.token}` } }),
      `{"broken": "${discover}`,
      JSON.stringify({ index: {} }),
      JSON.stringify({ 'transaction.amount': `${jcb}`, cvv: S.cvv }),
      `{"index": {"_index": "${grouped(diners, '-')}"`,
      '{}',
    ].join('\n');
    const b1 = await post(`${u}/logs-${grouped(unionpay, '-')}/_bulk?refresh=wait_for`, `${bulk}\n`, {
      'content-type': 'application/x-ndjson',
    });
    assert.equal(b1.status, 200, JSON.stringify(b1.json));
    assert.equal(
      b1.json.items.filter((i: any) => Object.values(i as object)[0].status === 201).length,
      2,
      JSON.stringify(b1.json),
    );
    // Single documents: a card in the index and in the id.
    const d1 = await post(`${u}/orders-${visa19}/_doc`, JSON.stringify(plantedEvent(9)), {
      'content-type': 'application/json',
    });
    assert.equal(d1.status, 201, JSON.stringify(d1.json));
    const d2 = await fetch(`${u}/orders/_doc/${mastercard2}`, {
      method: 'PUT',
      body: JSON.stringify(plantedEvent(10)),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(d2.status, 201);
    // The Location of the new document names the id as stored (masked), never the card.
    assert.equal(
      d2.headers.get('location'),
      `/orders/_doc/${encodeURIComponent(`************${mastercard2.slice(-4)}`)}`,
    );
    const d2b = await fetch(`${u}/orders/_doc/${grouped(visaTest, '-')}`, {
      method: 'PUT',
      body: JSON.stringify({ message: 'doc with a card id' }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(d2b.status, 201);
    const d3 = await post(`${u}/orders/_doc`, `{"password": "${S.password}", "card": "${visa13}`, {
      'content-type': 'application/json',
    });
    assert.equal(d3.status, 400);

    // Echoes in 2xx answers: an index created with a card in its name, a funnel whose step name,
    // filter and split field hold plants.
    const idx = await fetch(`${u}/${visa16}`, { method: 'PUT' });
    assert.equal(idx.status, 200);
    const funnel = await post(
      `${u}/api/v1/funnel`,
      JSON.stringify({
        from: 'now-1h',
        by: `x${visa16}`,
        steps: [
          { name: `paid with ${grouped(visaTest, ' ')}`, filter: `message:"${grouped(visaTest, ' ')}"` },
          { name: `password=${S.password}`, filter: 'event.type:order_completed' },
        ],
      }),
      { 'content-type': 'application/json' },
    );
    assert.equal(funnel.status, 200, JSON.stringify(funnel.json));

    // Card numbers in a path that does not exist, and in query text (good and bad queries).
    const nf = await fetch(`${u}/nothing/${visa16}?password=${S.password}`);
    assert.equal(nf.status, 404);
    const q1 = await query(u, `"${grouped(visa16, ' ')}"`);
    assert.equal(q1.status, 200, JSON.stringify(q1.json));
    const q2 = await query(u, `transaction.amount:${mastercard} AND (`);
    assert.equal(q2.status, 400);
    const q3 = await query(u, `message:${visa16} | stats count() by ${amex}`);
    assert.ok(q3.status === 200 || q3.status === 400);
    // The explanation quotes the query's values: a secret typed into a query is not echoed there.
    const q4 = await post(
      `${u}/api/v1/query`,
      JSON.stringify({ query: `message:"password=${S.password}" OR "${grouped(visa16, ' ')}"`, explain: true }),
      { 'content-type': 'application/json' },
    );
    assert.equal(q4.status, 200, JSON.stringify(q4.json));
    assert.ok((q4.json as { explain?: { plan: string } }).explain?.plan, 'the answer explains the query');

    // CSV import over HTTP (`shoplens import --url`), with a good row and rejected rows holding plants.
    const csv = join(dataDir, '..', `${dataDir.split('/').pop()}-customers.csv`);
    writeFileSync(
      csv,
      [
        'customer_id,first_name,last_name,email,city,region,signup_date,lifetime_value,tier',
        `CUST1,John,Doe,john.doe@gmail.com,${grouped(visa16, ' ')},US-EAST,2023-05-12,10,GOLD`,
        `CUST2,Ann,Lee,password=${S.password},Paris,EU-WEST,2023-05-12,10,GOLD`,
        `CUST3,Bob,Ray,bob@x.io,Rome,EU-WEST,2023-05-12,${mastercard},GOLD`,
      ].join('\n'),
    );
    const imp = await shoplens(['import', 'customers', csv, '--url', u]);
    cliOutput = imp.stdout + imp.stderr;
    // Exit status 2: some rows were rejected (their reasons are printed, redacted).
    assert.equal(imp.status, 2, cliOutput);
    assert.match(cliOutput, /Imported 2 customers rows/);

    // Searching for a full card number finds the event that holds it masked.
    const found = await query(u, `"card ${grouped(visa16, ' ')} declined"`);
    assert.equal(found.status, 200);
    assert.ok(found.json.rows.length >= 5, JSON.stringify(found.json).slice(0, 400));

    // The marker is queryable.
    const marked = await query(u, 'privacy.redacted:*card_number* | stats count() as n');
    assert.equal(marked.status, 200, JSON.stringify(marked.json));
    assert.ok(Number(marked.json.rows[0][0]) >= 10, JSON.stringify(marked.json.rows));

    const metrics = await (await fetch(`${u}/metrics`)).text();
    assert.match(metrics, /shoplens_redactions_total\{kind="card_number"\} [1-9]/);
    assert.match(metrics, /shoplens_redactions_total\{kind="field"\} [1-9]/);

    await plantDocuments(u);

    dump = await dumpEvents(u);
    stopRecording();
    logs = srv.logs();
    // Stop: everything flushed and checkpointed; the files are what stays on disk.
    await srv.close({ keepData: true });
  });

  after(async () => {
    stopRecording();
    // The data directory is a test directory: remove it through a server on it.
    const again = await startTestServer({}, dataDir);
    await again.close();
  });

  it('stored events: the marker says what was redacted, and masked values keep their last four digits', () => {
    const events = JSON.parse(dump) as { rows: unknown[][]; columns: { name: string }[] };
    assert.ok(events.rows.length >= 11, `${events.rows.length} events`);
    // The marker: `privacy.redacted` (shown nested in `_source`).
    assert.match(dump, /"privacy":\{"redacted":\["card_number","email","secret","field:payment\.card\.cvv"/);
    assert.ok(dump.includes(`**** **** **** ${visa16.slice(-4)}`));
    assert.ok(dump.includes('john.***@gmail.com'));
  });

  it('finds no plant in the stored events (a dump of every event of every data class)', () => {
    assert.deepEqual(findPlants(dump), []);
  });

  it('finds no plant in any row handed to the store (the staging NDJSON content)', () => {
    assert.ok(appended.length >= 11, `${appended.length} rows`);
    assert.deepEqual(findPlants(appended.join('\n')), []);
  });

  it('echoes no plant in any answer: bodies and headers (Location, X-Request-Id), errors included', () => {
    assert.ok(answers.length >= 30, `${answers.length} answers`);
    const leaking = answers.filter((a) => findPlants(a).length > 0);
    assert.deepEqual(
      leaking.map((a) => findPlants(a)),
      [],
      leaking.join('\n\n').slice(0, 4000),
    );
  });

  it('finds no plant in any byte of the data directory (DuckDB file, WAL, documents)', () => {
    assert.deepEqual(findPlants(readTree(dataDir)), []);
  });

  it("finds no plant in the server's log output or the import command's output", () => {
    assert.ok(logs.includes('incoming request'), 'the server logged requests');
    assert.deepEqual(
      findPlants(logs),
      [],
      logs
        .split('\n')
        .filter((l) => findPlants(l).length > 0)
        .join('\n'),
    );
    assert.deepEqual(findPlants(cliOutput), [], cliOutput);
  });
});

describe('leak test control: the scan finds plants that bypass the redactor', { timeout: 60_000 }, () => {
  it('finds raw plants in a dump of the events and in the bytes of the data directory', async () => {
    const srv = await startTestServer({}, testDataDir());
    try {
      const record: EventRecord = {
        ts: Date.now() * 1000,
        tenant: 'default',
        dataClass: 'app',
        columns: { message: `raw ${visa16} ${grouped(amex, ' ')} ${S.password}`, service: 'control' },
        attributes: { 'user.password': S.password, pan: grouped(mastercard, '-'), cvv: S.cvv },
      };
      // Straight into the store, past the ingest pipeline and its redactor.
      await srv.server.context.store.appendEvents([record]);
      await srv.server.context.store.refresh(true);
      const dump = await dumpEvents(srv.url);
      const inDump = findPlants(dump);
      for (const label of [
        `visa16 "${visa16}"`,
        `amex "${grouped(amex, ' ')}"`,
        `mastercard "${grouped(mastercard, '-')}"`,
      ]) {
        assert.ok(inDump.includes(label), `${label} in ${inDump.join(', ')}`);
      }
      assert.ok(inDump.includes('password') && inDump.includes('cvv'));
      await srv.server.close();
      // DuckDB may compress strings in its file, but some planted form shows up in its bytes (file or WAL).
      const inBytes = findPlants(readTree(srv.dataDir));
      assert.ok(inBytes.length > 0, 'the byte scan sees raw plants');
    } finally {
      const cleanup = await startTestServer({}, srv.dataDir);
      await cleanup.close();
    }
  });
});
