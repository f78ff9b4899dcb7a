import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.ts';
import { testDataDir } from '../helpers/server.ts';

describe('documents in the DuckDB store', () => {
  const dir = testDataDir();
  let store: DuckDBStore;
  const open = async () => {
    const s = new DuckDBStore({ dataDir: dir, defaultLimit: 100, maxRows: 1000, queryTimeoutMs: 10_000 });
    await s.open();
    return s;
  };
  before(async () => {
    store = await open();
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
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

  it('survives a restart (committed to the file)', async () => {
    await store.close();
    store = await open();
    const doc = await store.documents.get<{ title: string }>('shop-a', 'dashboard', 'payments');
    assert.equal(doc?.body.title, 'Payments v2');
    assert.equal(doc?.version, 2);
  });

  it('rejects a bad kind before touching the database', async () => {
    await assert.rejects(async () => store.documents.get('shop-a', 'Bad Kind!', 'x'), /document kind/);
  });
});
