/**
 * The ClickHouse store against a real server: its migrations (versioned,
 * applied once, the events table in step with the field catalog,
 * partitioned by day and data class), group-committed inserts, the
 * capabilities it reads from the server, and the clear errors when the
 * server is unreachable or a feature is not built yet.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { loadConfig } from '../../src/config.ts';
import { openStore } from '../../src/cli/serve.ts';
import { parseQuery } from '../../src/query/index.ts';
import { ATTRIBUTES_COLUMN, EVENT_FIELDS } from '../../src/schema/fields.ts';
import { toRowLine, type EventRecord } from '../../src/schema/record.ts';
import { CLICKHOUSE_MIGRATIONS } from '../../src/store/clickhouse/clickhouse-migrations.ts';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { clickhouseAvailable, startClickHouse, type TestClickHouse } from '../helpers/clickhouse-server.ts';
import { testDataDir } from '../helpers/server.ts';

const available = clickhouseAvailable('ClickHouse store tests');
const DAY = 86_400_000;
const BASE_MS = Date.parse('2025-05-01T12:00:00Z');

function event(i: number, dataClass: 'app' | 'security' = 'app', dayOffset = 0): EventRecord {
  return {
    ts: (BASE_MS + dayOffset * DAY + i) * 1000,
    tenant: 'shop',
    dataClass,
    columns: { event_id: `ev-${dataClass}-${dayOffset}-${i}`, service: 'api', event_type: 'api_request' },
    attributes: { 'request.n': i },
  };
}

describe('the ClickHouse store', { skip: !available }, () => {
  let server: TestClickHouse;
  let store: ClickHouseStore;
  let admin: ClickHouseClient;
  const options = () => ({
    url: server.url,
    database: 'shoplens_store_test',
    defaultLimit: 100,
    maxRows: 1_000,
    queryTimeoutMs: 10_000,
  });
  const one = async (sql: string): Promise<Record<string, unknown>[]> =>
    (await admin.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, unknown>>();

  before(async () => {
    server = await startClickHouse();
    admin = createClient({ url: server.url });
    store = new ClickHouseStore(options());
    await store.open();
  });
  after(async () => {
    await store?.close();
    await admin?.close();
    await server?.stop();
  });

  it('records each migration once, also when opened again', async () => {
    const again = new ClickHouseStore(options());
    await again.open();
    await again.close();
    const rows = await one('SELECT version FROM shoplens_store_test.schema_migrations ORDER BY version');
    assert.deepEqual(
      rows.map((r) => Number(r['version'])),
      CLICKHOUSE_MIGRATIONS.map((m) => m.version),
    );
  });

  it('keeps the events table in step with the field catalog', async () => {
    const rows = await one(
      "SELECT name FROM system.columns WHERE database = 'shoplens_store_test' AND table = 'events' ORDER BY name",
    );
    assert.deepEqual(
      rows.map((r) => String(r['name'])),
      [...EVENT_FIELDS.map((f) => f.column), ATTRIBUTES_COLUMN].sort(),
    );
  });

  it('reads its capabilities from the server version', async () => {
    const [row] = await one('SELECT version() AS v');
    assert.equal(store.serverCapabilities.version, String(row?.['v']));
  });

  it('partitions events by day and data class, and gathers concurrent appends into few inserts', async () => {
    const batches = [
      Array.from({ length: 300 }, (_, i) => event(i, 'app', 0)),
      Array.from({ length: 300 }, (_, i) => event(i, 'security', 0)),
      Array.from({ length: 300 }, (_, i) => event(i, 'app', 1)),
    ];
    // Six appends at once (row lines too, as ingest workers send them): the first insert starts at once, the other five wait for it and go as one.
    await Promise.all([
      ...batches.map((b) => store.appendEvents(b)),
      ...batches.map((b) => store.appendEvents(b.map((e) => toRowLine({ ...e, tenant: 'lines' })))),
    ]);
    const parts = await one(
      "SELECT partition, sum(rows) AS n, count() AS parts FROM system.parts WHERE database = 'shoplens_store_test' AND table = 'events' AND active GROUP BY partition ORDER BY partition",
    );
    assert.deepEqual(
      parts.map((p) => [String(p['partition']), Number(p['n'])]),
      [
        ["('2025-05-01','app')", 600],
        ["('2025-05-01','security')", 600],
        ["('2025-05-02','app')", 600],
      ],
    );
    // One part per partition and insert: at most two inserts.
    for (const p of parts) assert.ok(Number(p['parts']) <= 2, JSON.stringify(p));
    const range = { fromMs: BASE_MS - DAY, toMs: BASE_MS + 2 * DAY };
    for (const tenant of ['shop', 'lines']) {
      const r = await store.query({ query: parseQuery('* | stats count() as n by data_class'), range, tenant });
      assert.deepEqual(r.rows, [
        ['app', 600],
        ['security', 300],
      ]);
    }
  });

  it('answers a clear 501 for what is not built yet; erasure and retention touch only what they must', async () => {
    assert.deepEqual(await store.eraseCustomer('shop', { ids: ['c-1'], texts: [] }), { deleted: 0, byDataClass: {} });
    await assert.rejects(
      store.errorGroups({ tenant: 'shop', range: { fromMs: BASE_MS, toMs: BASE_MS + DAY }, impact: true }),
      (err: Error & { status?: number; code?: string }) => err.status === 501 && /Revenue at risk/.test(err.message),
    );
    // A cutoff inside the first stored day drops no partition: days go whole.
    assert.deepEqual(await store.deleteExpired({ app: BASE_MS, security: BASE_MS }, BASE_MS), { app: 0, security: 0 });
    assert.equal(store.capabilities.supportsDelete, true);
  });

  it('answers 400 naming the cause for an output name that shadows a grouped field on old servers', async (t) => {
    if (store.serverCapabilities.version.startsWith('18.')) {
      const range = { fromMs: BASE_MS - DAY, toMs: BASE_MS + 2 * DAY };
      await assert.rejects(
        store.query({ query: parseQuery('* | stats count() as service by service.name'), range, tenant: 'shop' }),
        (err: Error & { status?: number; code?: string }) =>
          err.status === 400 && err.code === 'query.invalid' && /rename it/.test(err.message),
      );
    } else t.skip('newer servers may resolve the column first');
  });

  it('is writable while the server answers', async () => {
    await store.checkWritable();
  });

  it('refuses to start when the server cannot be reached, naming where it looked', async () => {
    const dataDir = testDataDir();
    try {
      const config = loadConfig({
        env: {},
        flags: {
          dataDir,
          store: { engine: 'clickhouse', clickhouse: { url: 'http://127.0.0.1:1', database: 'nowhere' } },
        },
      });
      await assert.rejects(
        openStore(config),
        (err: Error & { status?: number; code?: string }) =>
          err.code === 'store.unreachable' &&
          /ClickHouse at http:\/\/127\.0\.0\.1:1 cannot be reached/.test(err.message),
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a database name that is not a plain identifier', () => {
    assert.throws(
      () =>
        loadConfig({
          env: {},
          flags: { store: { engine: 'clickhouse', clickhouse: { database: 'x`; DROP TABLE events' } } },
        }),
      /store\.clickhouse\.database/,
    );
  });
});
