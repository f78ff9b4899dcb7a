/**
 * Migrations on a database written by an earlier version: a column that a
 * later migration adds takes the values earlier events kept in their
 * attributes, so queries on the field answer the same before and after,
 * and new events are written into the column.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseQuery } from '../../src/query/index.ts';
import { openInstance } from '../../src/store/duckdb/duckdb-driver.ts';
import { DUCKDB_MIGRATIONS } from '../../src/store/duckdb/duckdb-migrations.ts';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.ts';
import { testDataDir } from '../helpers/server.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');

describe('migration 7: payment.processor_response becomes a column', () => {
  let dir: string;
  let store: DuckDBStore;

  before(async () => {
    dir = testDataDir();
    // A database as version 6 left it: the gateway's answer in the attributes JSON.
    const db = await openInstance({ path: join(dir, 'shoplens.duckdb'), threads: 1, memoryLimit: '256MB' });
    const c = await db.connect();
    await c.run(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)',
    );
    for (const m of DUCKDB_MIGRATIONS.filter((m) => m.version <= 6)) {
      for (const s of m.statements) await c.run(s);
      await c.run('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    const ts = `TIMESTAMP '2026-11-20 11:59:00'`;
    await c.run(
      `INSERT INTO events (ts, tenant, data_class, event_type, gateway, attributes) VALUES
        (${ts}, 't', 'business', 'payment_transaction', 'stripe', '{"payment.processor_response":"declined","payment.3ds_status":"failed"}'),
        (${ts}, 't', 'business', 'payment_transaction', 'stripe', '{"payment.processor_response":"approved"}'),
        (${ts}, 't', 'business', 'payment_transaction', 'adyen', '{"payment.3ds_status":"ok"}'),
        (${ts}, 't', 'app', 'api_request', NULL, NULL)`,
    );
    c.closeSync();
    db.closeSync();
    store = new DuckDBStore({ dataDir: dir, defaultLimit: 100, maxRows: 1_000, queryTimeoutMs: 30_000 });
    await store.open();
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const range = { fromMs: NOW - 3_600_000, toMs: NOW };
  const count = async (q: string) =>
    (await store.query({ query: parseQuery(`${q} | stats count() as n`), range, tenant: 't' })).rows[0]?.[0];

  it('moves the stored answers into the column', async () => {
    assert.equal(await count('payment.processor_response:declined'), 1);
    assert.equal(await count('payment.processor_response:approved'), 1);
    assert.equal(await count('event.type:payment_transaction AND NOT payment.processor_response:*'), 1);
    const sql = store.explain({ query: parseQuery('payment.processor_response:declined'), range, tenant: 't' }).sql;
    assert.match(sql, /processor_response/);
    assert.doesNotMatch(sql, /json_extract/, 'read from the column, not the attributes');
  });

  it('keeps the other attributes and writes new events into the column', async () => {
    assert.equal(await count('payment.3ds_status:failed'), 1);
    await store.appendEvents([
      {
        ts: (NOW - 30_000) * 1000,
        tenant: 't',
        dataClass: 'business',
        columns: { event_type: 'payment_transaction', gateway: 'adyen', processor_response: 'timeout' },
        attributes: { 'payment.3ds_status': 'ok' },
      },
    ]);
    assert.equal(await count('payment.processor_response:timeout AND transaction.gateway:adyen'), 1);
    assert.equal(await count('payment.3ds_status:ok'), 2);
    const source = await store.query({ query: parseQuery('payment.processor_response:timeout'), range, tenant: 't' });
    const at = source.columns.findIndex((c) => c.name === '_source');
    assert.deepEqual(
      { ...(source.rows[0]?.[at] as { payment: object }).payment },
      {
        processor_response: 'timeout',
        '3ds_status': 'ok',
      },
    );
  });
});
