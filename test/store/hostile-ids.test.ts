/**
 * Hostile ids on every engine: `_bulk` `_id`s and customer ids holding
 * quotes, backslashes, NUL and other control bytes, SQL fragments, long and
 * right-to-left text reach SQL only as escaped literals. Replacement keeps
 * one copy of each such id, erasure and export find exactly the customer
 * named and nobody else, the events table survives, and nothing answers 500.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '../helpers/engines.ts';
import { post, query, startTestServer, type TestServer } from '../helpers/server.ts';

const BASE = Date.now() - 3_600_000;

/** Ids an attacker (or a sloppy client) sends. Each is distinct. */
const HOSTILE = [
  "it's",
  "o''brien",
  'back\\slash',
  'trailing\\',
  "\\'",
  'nul\u0000byte',
  'new\nline\r\nand cr',
  'tab\there',
  "'); DROP TABLE events; --",
  "x' OR '1'='1",
  '" OR ""="',
  '`backtick`',
  '%s%n%x',
  '${process.exit()}',
  '\u202Eright-to-left',
  'bell\u0007esc\u001b[31m',
  'emoji 🛒 und Umlaut ä',
  '__proto__',
  'constructor',
  'a'.repeat(500),
];

function bulkBody(version: number): string {
  return (
    HOSTILE.flatMap((id, i) => [
      JSON.stringify({ index: { _index: 'orders', _id: id } }),
      JSON.stringify({
        '@timestamp': new Date(BASE + version * 1000 + i).toISOString(),
        message: `item ${i} v${version}`,
        event: { type: 'order_updated' },
        tag: 'hostile-ids',
        item: i,
        order: { version },
      }),
    ]).join('\n') + '\n'
  );
}

async function rows(srv: TestServer, q: string): Promise<unknown[][]> {
  const r = await query(srv.url, q, { from: 'now-1d', to: 'now+1h' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.rows;
}

for (const engine of testEngines('hostile ids'))
  describe(`hostile ids reach SQL as literals only (${engine.name})`, () => {
    let srv: TestServer;

    before(async () => {
      srv = await startTestServer({ store: await engine.start() });
    });
    after(async () => {
      await srv?.close();
      await engine.stop();
    });

    it('replaces each hostile _id, keeping one copy, the newest', async () => {
      for (const version of [1, 2]) {
        const r = await post(`${srv.url}/_bulk?refresh=wait_for`, bulkBody(version));
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal(r.json.errors, false, JSON.stringify(r.json.items.filter((i: any) => i.index.error)));
        assert.equal(r.json.items.length, HOSTILE.length);
        for (const item of r.json.items) assert.equal(item.index.result, version === 1 ? 'created' : 'updated');
      }
      const stored = await rows(srv, 'tag:hostile-ids | fields item, message | limit 100');
      assert.deepEqual(
        stored.map((row) => [Number(row[0]), row[1]]).sort((a, b) => Number(a[0]) - Number(b[0])),
        HOSTILE.map((_, i) => [i, `item ${i} v2`]),
      );
    });

    it('finds an event by a hostile id in the query language', async () => {
      // The query language's own string escapes: \" and \\ inside quotes.
      for (const i of [0, 2, 8, 9]) {
        const id = HOSTILE[i]!;
        const quoted = `"${id.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
        const found = await rows(srv, `tag:hostile-ids event.id:${quoted} | fields item`);
        assert.deepEqual(
          found.map((row) => Number(row[0])),
          [i],
          `event.id:${quoted}`,
        );
      }
    });

    it('erases and exports exactly the hostile customer named, nobody else', async () => {
      const customers = HOSTILE.slice(0, 12);
      const events = customers.flatMap((customer, i) =>
        [0, 1, 2].map((k) => ({
          '@timestamp': new Date(BASE + i * 10_000 + k).toISOString(),
          message: `order of customer ${i}`,
          event: { type: 'order_created' },
          tag: 'hostile-customers',
          item: i,
          customer: { id: customer },
        })),
      );
      const r = await post(
        `${srv.url}/api/v1/events?refresh=wait_for`,
        events.map((e) => JSON.stringify(e)).join('\n'),
      );
      assert.equal(r.status, 200, JSON.stringify(r.json));

      for (const i of [2, 5, 8, 9]) {
        const customer = customers[i]!;
        const exported = await fetch(`${srv.url}/api/v1/privacy/export?customer_id=${encodeURIComponent(customer)}`);
        assert.equal(exported.status, 200, customer);
        const body = (await exported.json()) as any;
        assert.equal(body.count, 3, `export of ${JSON.stringify(customer)}`);

        const erased = await post(`${srv.url}/api/v1/privacy/erasure`, JSON.stringify({ customer_id: customer }), {
          'content-type': 'application/json',
        });
        assert.equal(erased.status, 200, JSON.stringify(erased.json));
        assert.equal(erased.json.deleted, 3, `erasure of ${JSON.stringify(customer)}`);
      }
      await post(`${srv.url}/_refresh`, '');
      const left = await rows(srv, 'tag:hostile-customers | summarize n = count() by item');
      assert.deepEqual(
        left.map((row) => [Number(row[0]), Number(row[1])]).sort((a, b) => a[0]! - b[0]!),
        customers
          .map((_, i) => i)
          .filter((i) => ![2, 5, 8, 9].includes(i))
          .map((i) => [i, 3]),
      );
      // The `_bulk` events (another tag, other ids) are all still there: no injected DROP or DELETE ran.
      assert.equal((await rows(srv, 'tag:hostile-ids | summarize n = count()'))[0]![0], HOSTILE.length);
    });
  });
