/**
 * ClickHouse store upkeep on 1 M events against a real clickhouse-server
 * started here (127.0.0.1, temp dir, stopped after):
 *   node --import tsx bench/clickhouse-maintenance.ts [events]
 * Prints insert time, `_bulk` replacement of 100 stored ids, erasure of
 * one customer, and a retention run dropping day partitions.
 */
import type { EventRecord } from '../src/schema/record.ts';
import { ClickHouseStore } from '../src/store/clickhouse/clickhouse-store.ts';
import { startClickHouse } from '../test/helpers/clickhouse-server.ts';

const N = Number(process.argv[2] ?? 1_000_000);
const DAY = 86_400_000;
const start = Date.now() - 10 * DAY;

function event(i: number, version = 1): EventRecord {
  return {
    ts: (start + Math.floor((i / N) * 10 * DAY)) * 1000,
    tenant: 'shop',
    dataClass: i % 3 === 0 ? 'business' : 'app',
    columns: {
      event_id: `ev-${i}`,
      service: `svc-${i % 7}`,
      event_type: i % 3 === 0 ? 'order_created' : 'api_request',
      customer_id: `cust-${i % 10_000}`,
      duration_ms: i % 500,
      message: `event ${i} v${version}`,
    },
    attributes: { 'request.n': i },
  };
}

const time = async (label: string, fn: () => Promise<unknown>): Promise<void> => {
  const t = performance.now();
  const r = await fn();
  console.log(`${label}: ${((performance.now() - t) / 1000).toFixed(2)} s ${r ? JSON.stringify(r) : ''}`);
};

const server = await startClickHouse();
const store = new ClickHouseStore({
  url: server.url,
  database: 'bench',
  defaultLimit: 100,
  maxRows: 1000,
  queryTimeoutMs: 60_000,
});
try {
  await store.open();
  console.log(`ClickHouse ${store.serverCapabilities.version}, ${N} events`);
  await time(`insert ${N} events (batches of 100k)`, async () => {
    for (let k = 0; k < N; k += 100_000) {
      const batch: EventRecord[] = [];
      for (let i = k; i < Math.min(N, k + 100_000); i++) batch.push(event(i));
      await store.appendEvents(batch);
    }
  });
  await time('_bulk replace of 100 stored ids', async () => {
    const batch = Array.from({ length: 100 }, (_, j) => ({ ...event(j * 9_973, 2), replaceExisting: true }));
    await store.appendEvents(batch);
  });
  await time('erase one customer', () => store.eraseCustomer('shop', { ids: ['cust-42'], texts: [] }));
  const now = Date.now();
  await time('retention (app 5 d, business 7 d): drop day partitions', () =>
    store.deleteExpired({ app: now - 5 * DAY, business: now - 7 * DAY }, now - 400 * DAY),
  );
} finally {
  await store.close();
  await server.stop();
}
