/**
 * Elasticsearch `_bulk` `index` with an `_id` replaces the stored event of
 * that id, on every engine: the same requests with repeated ids leave one
 * copy of each id, the newest, on DuckDB and on a real ClickHouse server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from '../helpers/engines.ts';
import { post, query, startTestServer, type TestServer } from '../helpers/server.ts';

const BASE = Date.now() - 3_600_000;

function bulkBody(items: { id: string; version: number; action?: 'index' | 'create' }[]): string {
  return (
    items
      .flatMap(({ id, version, action }, i) => [
        JSON.stringify({ [action ?? 'index']: { _index: 'orders', _id: id } }),
        JSON.stringify({
          '@timestamp': new Date(BASE + version * 1000 + i).toISOString(),
          message: `${id} v${version}`,
          event: { type: 'order_updated' },
          tag: 'bulk-replace',
          order: { version },
        }),
      ])
      .join('\n') + '\n'
  );
}

async function bulk(srv: TestServer, body: string): Promise<any> {
  const r = await post(`${srv.url}/_bulk?refresh=wait_for`, body);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
}

/** message per stored event of the tag, sorted. */
async function stored(srv: TestServer): Promise<string[]> {
  const r = await query(srv.url, 'tag:bulk-replace | fields message | sort message | limit 1000', {
    from: 'now-1d',
    to: 'now+1h',
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.rows.map((row: unknown[]) => String(row[0]));
}

for (const engine of testEngines('_bulk id replacement'))
  describe(`_bulk index replaces events by _id (${engine.name})`, () => {
    let srv: TestServer;

    before(async () => {
      srv = await startTestServer({ store: await engine.start() });
    });
    after(async () => {
      await srv?.close();
      await engine.stop();
    });

    it('keeps one copy of each id, the newest, within one request and across requests', async () => {
      // One request: a-1 three times, a-2 twice, a-3 once.
      const first = await bulk(
        srv,
        bulkBody([
          { id: 'a-1', version: 1 },
          { id: 'a-2', version: 1 },
          { id: 'a-1', version: 2 },
          { id: 'a-3', version: 1 },
          { id: 'a-1', version: 3 },
          { id: 'a-2', version: 2 },
        ]),
      );
      assert.equal(first.errors, false);
      assert.deepEqual(
        first.items.map((i: any) => [i.index._id, i.index.result]),
        [
          ['a-1', 'created'],
          ['a-2', 'created'],
          ['a-1', 'updated'],
          ['a-3', 'created'],
          ['a-1', 'updated'],
          ['a-2', 'updated'],
        ],
      );
      assert.deepEqual(await stored(srv), ['a-1 v3', 'a-2 v2', 'a-3 v1']);

      // A later request replaces stored events: a-2 again, a-3 twice; a-4 is new.
      const second = await bulk(
        srv,
        bulkBody([
          { id: 'a-3', version: 2 },
          { id: 'a-2', version: 3 },
          { id: 'a-4', version: 1 },
          { id: 'a-3', version: 4 },
        ]),
      );
      assert.deepEqual(
        second.items.map((i: any) => i.index.result),
        ['updated', 'updated', 'created', 'updated'],
      );
      assert.deepEqual(await stored(srv), ['a-1 v3', 'a-2 v3', 'a-3 v4', 'a-4 v1']);
      const n = await query(srv.url, 'tag:bulk-replace | stats count() as n, sum(order.version) as versions', {
        from: 'now-1d',
        to: 'now+1h',
      });
      assert.deepEqual(n.json.rows, [[4, 3 + 3 + 4 + 1]]);
    });

    it('answers 409 to create of a stored id and leaves the stored event as it was', async () => {
      const r = await bulk(srv, bulkBody([{ id: 'a-1', version: 9, action: 'create' }]));
      assert.equal(r.errors, true);
      assert.equal(r.items[0].create.status, 409);
      assert.deepEqual(await stored(srv), ['a-1 v3', 'a-2 v3', 'a-3 v4', 'a-4 v1']);
    });

    it('replaces many ids of concurrent requests, one copy each', async () => {
      const ids = Array.from({ length: 100 }, (_, i) => `c-${String(i).padStart(3, '0')}`);
      await bulk(srv, bulkBody(ids.map((id) => ({ id, version: 1 }))));
      // Two requests at once, each replacing every id; either may be the newest, but each id is stored once.
      await Promise.all([
        bulk(srv, bulkBody(ids.map((id) => ({ id, version: 2 })))),
        bulk(srv, bulkBody(ids.map((id) => ({ id, version: 3 })))),
      ]);
      const r = await query(
        srv.url,
        'tag:bulk-replace AND order.version:>=2 | stats count() as n, dc(message) as ids',
        { from: 'now-1d', to: 'now+1h' },
      );
      assert.equal(r.status, 200, JSON.stringify(r.json));
      // The 100 c-ids once each, plus a-1 v3, a-2 v3 and a-3 v4 from before.
      assert.deepEqual(r.json.rows, [[103, 103]]);
      const all = await query(srv.url, 'tag:bulk-replace | stats count() as n', { from: 'now-1d', to: 'now+1h' });
      assert.deepEqual(all.json.rows, [[104]]);
    });
  });
