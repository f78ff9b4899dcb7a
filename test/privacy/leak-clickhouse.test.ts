/**
 * The leak test on the ClickHouse store: card numbers and secrets planted in
 * NDJSON fields, messages, `_bulk` ids, documents (alert rules, dashboards, silences, key names), customer ids that an
 * erasure then names, and rejected lines. Afterwards every table of the
 * Shoplens database (as the server itself returns it), the server's
 * mutation texts, its logs and every byte of its data directory are
 * searched: zero plants. A control row written past Shoplens proves that
 * the dump and the byte scan see what is stored.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clickhouseAvailable, startClickHouse, type TestClickHouse } from '../helpers/clickhouse-server.ts';
import { post, query, startTestServer, type TestServer } from '../helpers/server.ts';
import { plantDocuments } from './plant-documents.ts';
import { CARDS, findPlants, grouped, SECRETS } from './plants.ts';

const NOW = Date.now() - 60_000;
const DATABASE = 'shoplens_leak';

function readTree(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    out += statSync(path).isDirectory() ? readTree(path) : `${readFileSync(path).toString('latin1')}\n`;
  }
  return out;
}

async function clickhouseText(ch: TestClickHouse, sql: string): Promise<string> {
  const r = await fetch(ch.url, { method: 'POST', body: sql });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return text;
}

/** Every row of every table of the Shoplens database, and the mutations' command texts. */
async function dumpDatabase(ch: TestClickHouse): Promise<string> {
  const tables = (await clickhouseText(ch, `SELECT name FROM system.tables WHERE database = '${DATABASE}'`))
    .split('\n')
    .filter(Boolean);
  assert.ok(tables.includes('events'), `tables: ${tables.join(', ')}`);
  let out = '';
  for (const t of tables) out += await clickhouseText(ch, `SELECT * FROM ${DATABASE}.\`${t}\` FORMAT TSV`);
  out += await clickhouseText(ch, `SELECT command FROM system.mutations WHERE database = '${DATABASE}' FORMAT TSV`);
  return out;
}

const { visa16, mastercard, amex, discover, visaTest, jcb } = CARDS;

describe('leak test on ClickHouse: nothing planted reaches its tables, logs or files', { timeout: 120_000 }, () => {
  if (!clickhouseAvailable('the ClickHouse leak test')) return;
  let ch: TestClickHouse;
  let srv: TestServer;
  let logs = '';
  let erasure: any;

  before(async () => {
    ch = await startClickHouse();
    srv = await startTestServer({ store: { engine: 'clickhouse', clickhouse: { url: ch.url, database: DATABASE } } });
    const u = srv.url;
    const events = [
      {
        '@timestamp': new Date(NOW).toISOString(),
        'event.id': `leak-${visa16}`,
        'event.type': 'payment_transaction',
        message: `Payment for card ${grouped(visa16, ' ')} declined`,
        'exception.message': `CardError: number ${grouped(mastercard, '-')} rejected`,
        'url.path': `/api/pay?card=${discover}&token=${SECRETS.token}`,
        customer: { id: `cust-${amex}` },
        payment: { card_number: jcb, card: { cvv: SECRETS.cvv } },
        headers: { Authorization: `Bearer ${SECRETS.bearer}` },
        user: { password: SECRETS.password },
        note: `stripe ${SECRETS.stripe} jwt ${SECRETS.jwt}`,
        tag: 'leak-ch',
      },
      { 'http.response.status_code': mastercard, password: SECRETS.password, tag: 'leak-ch' },
    ];
    const ndjson = [...events.map((e) => JSON.stringify(e)), `{"message":"broken ${visa16} ${SECRETS.password}`];
    const r = await post(`${u}/api/v1/events?refresh=wait_for`, ndjson.join('\n'));
    assert.equal(r.status, 200, JSON.stringify(r.json));

    // `_bulk` with a card number as `_id`, twice (the second replaces the first: a delete naming the id).
    for (const version of [1, 2]) {
      const bulk = [
        JSON.stringify({ index: { _index: 'orders', _id: `order-${visaTest}` } }),
        JSON.stringify({
          '@timestamp': new Date(NOW + version).toISOString(),
          message: `v${version} paid with ${grouped(visaTest, ' ')}`,
          customer: { id: `cust-${amex}` },
          tag: 'leak-ch',
        }),
      ];
      const b = await post(`${u}/_bulk?refresh=wait_for`, `${bulk.join('\n')}\n`);
      assert.equal(b.status, 200, JSON.stringify(b.json));
    }

    // Documents (alert rules, dashboards, silences, key names) with plants, as the DuckDB leak test plants them.
    await plantDocuments(u);

    // Erasure and export naming a customer id that holds a card number (masked at ingest, masked in the request).
    const exported = await fetch(`${u}/api/v1/privacy/export?customer_id=${encodeURIComponent(`cust-${amex}`)}`);
    assert.equal(exported.status, 200);
    const erased = await post(`${u}/api/v1/privacy/erasure`, JSON.stringify({ customer_id: `cust-${amex}` }), {
      'content-type': 'application/json',
    });
    assert.equal(erased.status, 200, JSON.stringify(erased.json));
    erasure = erased.json;
    logs = srv.logs();
  });

  after(async () => {
    await srv?.close();
    await ch?.stop();
  });

  it('stored what it was sent, masked; a customer id holding a card number erases nothing and says why', async () => {
    const r = await query(srv.url, 'tag:leak-ch | summarize n = count()', { from: 'now-1d', to: 'now+1h' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    // The planted NDJSON event and one `_bulk` document (its second version); the event whose status code
    // is a card number and the broken line are refused. `cust-<amex>` is stored masked, and
    // its masked form could be another customer's: the erasure matches nothing and says why.
    assert.equal(Number(r.json.rows[0][0]), 2);
    assert.equal(erasure.deleted, 0);
    assert.deepEqual(erasure.customerIds, []);
    assert.match(erasure.note, /holds a card number or a secret, which Shoplens stores masked/);
  });

  it('no plant in any table, mutation text, log line or file', async () => {
    const dump = await dumpDatabase(ch);
    assert.deepEqual(findPlants(dump), [], 'tables and mutations');
    assert.deepEqual(findPlants(logs), [], "Shoplens's log");
    assert.deepEqual(findPlants(readTree(srv.dataDir)), [], "Shoplens's data directory");
    assert.deepEqual(findPlants(readTree(ch.dir)), [], "ClickHouse's data directory and logs");
  });

  it('control: a plant written past Shoplens is found by the dump', async () => {
    const cols = await clickhouseText(
      ch,
      `SELECT name FROM system.columns WHERE database = '${DATABASE}' AND table = 'events' AND type = 'String' LIMIT 1`,
    );
    const column = cols.trim();
    assert.ok(column, 'a String column of events');
    await clickhouseText(ch, `INSERT INTO ${DATABASE}.events (\`${column}\`) VALUES ('${visa16}')`);
    assert.ok(findPlants(await dumpDatabase(ch)).length > 0);
  });
});
