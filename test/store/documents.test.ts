import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.ts';
import type { Store } from '../../src/store/store.ts';
import { testEngines } from '../helpers/engines.ts';
import { testDataDir } from '../helpers/server.ts';

for (const engine of testEngines('documents'))
  describe(`documents in the ${engine.name} store`, () => {
    const dir = testDataDir();
    let store: Store;
    let open: () => Promise<Store>;
    before(async () => {
      const config = await engine.start();
      open = async () => {
        const s: Store = config.clickhouse
          ? new ClickHouseStore({
              url: String(config.clickhouse.url),
              database: String(config.clickhouse.database),
              defaultLimit: 100,
              maxRows: 1000,
              queryTimeoutMs: 10_000,
            })
          : new DuckDBStore({ dataDir: dir, defaultLimit: 100, maxRows: 1000, queryTimeoutMs: 10_000 });
        await s.open();
        return s;
      };
      store = await open();
    });
    after(async () => {
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
      await engine.stop();
    });

    it('creates, replaces with a version bump, lists, and deletes', async () => {
      const first = await store.documents.put('shop-a', 'dashboard', 'payments', { title: 'Payments', panels: [] });
      assert.equal(first.version, 1);
      assert.deepEqual(first.body, { title: 'Payments', panels: [] });
      const second = await store.documents.put('shop-a', 'dashboard', 'payments', { title: 'Payments v2' });
      assert.equal(second.version, 2);
      assert.equal(second.createdAt, first.createdAt);
      await store.documents.put('shop-a', 'dashboard', 'checkout', { title: 'Checkout' });
      const listed = await store.documents.list('shop-a', 'dashboard');
      assert.deepEqual(
        listed.map((d) => d.id),
        ['checkout', 'payments'],
      );
      assert.equal(await store.documents.delete('shop-a', 'dashboard', 'checkout'), true);
      assert.equal(await store.documents.delete('shop-a', 'dashboard', 'checkout'), false);
      assert.equal(await store.documents.get('shop-a', 'dashboard', 'checkout'), undefined);
    });

    it('keeps tenants apart', async () => {
      await store.documents.put('shop-b', 'dashboard', 'payments', { title: 'B' });
      const a = await store.documents.get<{ title: string }>('shop-a', 'dashboard', 'payments');
      const b = await store.documents.get<{ title: string }>('shop-b', 'dashboard', 'payments');
      assert.equal(a?.body.title, 'Payments v2');
      assert.equal(b?.body.title, 'B');
      assert.deepEqual(await store.documents.tenants('dashboard'), ['shop-a', 'shop-b']);
    });

    it('refuses a write against a stale version with 409', async () => {
      const current = await store.documents.get('shop-a', 'dashboard', 'payments');
      assert.ok(current);
      await assert.rejects(
        store.documents.put(
          'shop-a',
          'dashboard',
          'payments',
          { title: 'stale' },
          { expectedVersion: current.version - 1 },
        ),
        (err: Error & { status?: number; code?: string }) => err.status === 409 && err.code === 'document.conflict',
      );
      await assert.rejects(
        store.documents.put('shop-a', 'dashboard', 'payments', {}, { expectedVersion: 0 }),
        /version 2, not 0/,
      );
      const ok = await store.documents.put('shop-a', 'dashboard', 'fresh', {}, { expectedVersion: 0 });
      assert.equal(ok.version, 1);
    });

    it('lists by id prefix and newest first', async () => {
      for (const id of ['h-001', 'h-002', 'h-003']) await store.documents.put('shop-a', 'alert_history', id, { id });
      await store.documents.put('shop-a', 'alert_history', 'h-001', { id: 'h-001', touched: true });
      const newest = await store.documents.list('shop-a', 'alert_history', { order: 'updated', limit: 2 });
      assert.equal(newest[0]?.id, 'h-001');
      assert.equal(newest.length, 2);
      const prefixed = await store.documents.list('shop-a', 'alert_history', { idPrefix: 'h-00' });
      assert.equal(prefixed.length, 3);
    });

    it('survives a restart (committed)', async () => {
      await store.close();
      store = await open();
      const doc = await store.documents.get<{ title: string }>('shop-a', 'dashboard', 'payments');
      assert.equal(doc?.body.title, 'Payments v2');
      assert.equal(doc?.version, 2);
    });

    it('redacts every body and id it writes: card numbers masked, secret values gone, keys plain data', async () => {
      const hash = 'a'.repeat(10) + '4111111111111111' + 'b'.repeat(38); // hex digits that look like a card
      const body = JSON.parse(
        JSON.stringify({
          title: 'Refunds for 4111 1111 1111 1111',
          panels: [
            { query: 'message:"password=hunter2" | stats count()', note: 'Authorization: Bearer abcdef0123456789' },
          ],
          pan: 5500000000000004,
          '4111-1111-1111-1111': 'a card as a key',
          hash,
          owner: 'ops@shop.example',
        }).replace('"owner"', '"__proto__":{"polluted":"yes"},"owner"'),
      );
      const written = await store.documents.put('shop-r', 'dashboard', 'refunds-4111111111111111', body, {
        verbatim: ['hash'],
      });
      const read = await store.documents.get<Record<string, unknown>>(
        'shop-r',
        'dashboard',
        'refunds-4111111111111111',
      );
      assert.ok(read, 'found again under the id the client knows');
      assert.equal(read.id, 'refunds-************1111');
      for (const doc of [written.body, read.body] as Record<string, any>[]) {
        assert.equal(doc.title, 'Refunds for **** **** **** 1111');
        assert.equal(doc.panels[0].query, 'message:"password=[redacted]" | stats count()');
        assert.equal(doc.panels[0].note, 'Authorization: [redacted]');
        assert.equal(doc.pan, '************0004');
        assert.equal(doc['****-****-****-1111'], 'a card as a key');
        assert.equal(doc.hash, hash, 'a verbatim field is kept byte for byte');
        assert.equal(doc.owner, 'ops@shop.example', 'e-mail addresses stay');
        assert.equal(Object.getPrototypeOf(doc), Object.prototype);
        assert.deepEqual(Object.getOwnPropertyDescriptor(doc, '__proto__')?.value, { polluted: 'yes' });
      }
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      // The caller's object is not changed.
      assert.equal(body.title, 'Refunds for 4111 1111 1111 1111');
      const listed = await store.documents.list('shop-r', 'dashboard', { idPrefix: 'refunds-' });
      assert.deepEqual(
        listed.map((d) => d.id),
        ['refunds-************1111'],
      );
      assert.equal(await store.documents.delete('shop-r', 'dashboard', 'refunds-4111111111111111'), true);
    });

    it('stores a lone surrogate as U+FFFD instead of failing the write (it answered 500)', async () => {
      await store.documents.put('shop-a', 'silence', 's-surrogate', { comment: 'bad \ud800 text', ['k\udc00']: 1 });
      const doc = await store.documents.get<Record<string, unknown>>('shop-a', 'silence', 's-surrogate');
      assert.deepEqual(doc?.body, { comment: 'bad \ufffd text', ['k\ufffd']: 1 });
    });

    it('rejects a bad kind before touching the database', async () => {
      await assert.rejects(async () => store.documents.get('shop-a', 'Bad Kind!', 'x'), /document kind/);
    });
  });
