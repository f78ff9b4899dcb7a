/**
 * The test helper's clickhouse-server: it starts on free loopback ports in
 * its own directory, answers the official client, and is gone (process and
 * directory) after stop.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createClient } from '@clickhouse/client';
import { clickhouseAvailable, startClickHouse } from '../helpers/clickhouse-server.ts';

const available = clickhouseAvailable('clickhouse-server helper tests');

describe('test clickhouse-server', { skip: !available }, () => {
  it('answers queries on 127.0.0.1 and is gone after stop', async () => {
    const server = await startClickHouse();
    const client = createClient({ url: server.url });
    try {
      const rs = await client.query({ query: 'SELECT version() AS v, 1 + 1 AS two', format: 'JSONEachRow' });
      const [row] = await rs.json<{ v: string; two: number }>();
      assert.match(row?.v ?? '', /^\d+\.\d+/);
      assert.equal(Number(row?.two), 2);
    } finally {
      await client.close();
      await server.stop();
    }
    assert.equal(existsSync(server.dir), false);
    assert.throws(() => process.kill(server.pid, 0));
  });
});
