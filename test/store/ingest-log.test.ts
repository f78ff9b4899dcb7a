/**
 * The ingest log and its loader on a real DuckDB file: appends are durable
 * before they are visible; a refresh makes them visible; a torn tail is cut
 * at open with a log line and the records before it are loaded; a
 * replacement inside one segment leaves one event per id; GDPR erasure
 * reaches rows that are still in the log and deletes the log's files.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { openStore } from '../../src/cli/serve.ts';
import { loadConfig } from '../../src/config.ts';
import { parseQuery } from '../../src/query/index.ts';
import { toRowLine, type EventRecord } from '../../src/schema/record.ts';
import { recordOf, SegmentLog, segmentIds } from '../../src/store/segment-log.ts';
import type { Store } from '../../src/store/store.ts';
import type { VisibleRows } from '../../src/store/visible-rows.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { testDataDir } from '../helpers/server.ts';

const NOW_US = Date.now() * 1000;

function event(id: string, extra: Partial<EventRecord['columns']> = {}): EventRecord {
  return {
    ts: NOW_US - 1000,
    tenant: 'default',
    dataClass: 'app',
    columns: { event_id: id, service: 'log-test', message: `event ${id}`, ...extra },
    attributes: null,
  };
}

async function open(dataDir: string, refreshInterval = '0ms'): Promise<{ store: Store; logs: () => string }> {
  const config = loadConfig({ env: {}, flags: { dataDir, store: { refreshInterval } } });
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  const store = await openStore(config, createLogger('info', sink));
  return { store, logs: () => chunks.join('') };
}

async function messages(store: Store): Promise<string[]> {
  const r = await store.query({
    query: parseQuery('service.name:"log-test" | limit 1000'),
    range: { fromMs: 0, toMs: Date.now() + 3_600_000 },
    tenant: 'default',
  });
  return r.rows.map((row) => String(row[4])).sort();
}

describe('the ingest log', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const dir = () => {
    const d = testDataDir();
    dirs.push(d);
    return d;
  };

  it('tells who listens what became visible: records and row lines alike', async () => {
    const { store } = await open(dir(), '1h');
    try {
      const heard: VisibleRows[] = [];
      const stop = store.onVisibleRows?.((b) => heard.push(...b));
      assert.ok(stop, 'the logged store takes listeners');
      // Records of one tenant (the ledger takes their summary), then row lines (it reads them).
      await store.appendEvents([
        event('a', { event_type: 'checkout' }),
        event('b', { event_type: 'page_view' }),
        event('c'),
      ]);
      await store.appendEvents([toRowLine({ ...event('d', { event_type: 'refund' }), tenant: 'other' })]);
      await store.refresh(true);
      const byTenant = new Map(heard.map((b) => [b.tenant, { rows: b.rows, types: [...(b.eventTypes ?? [])].sort() }]));
      assert.deepEqual(byTenant.get('default'), { rows: 3, types: ['', 'checkout', 'page_view'] });
      assert.deepEqual(byTenant.get('other'), { rows: 1, types: ['refund'] });
      stop();
    } finally {
      await store.close();
    }
  });

  it('acknowledges before the data is visible, and a refresh makes it visible', async () => {
    const dataDir = dir();
    // A refresh interval far away: nothing becomes visible unless asked.
    const { store } = await open(dataDir, '1h');
    try {
      await store.appendEvents([event('a'), event('b')]);
      assert.deepEqual(await messages(store), [], 'not visible before a refresh');
      const logDir = join(dataDir, 'log');
      const [id] = segmentIds(logDir);
      assert.ok(id !== undefined, 'the rows are in a segment file');
      assert.match(readFileSync(join(logDir, `${String(id).padStart(12, '0')}.ndjson`), 'utf8'), /"event a"/);
      await store.refresh(true);
      assert.deepEqual(await messages(store), ['event a', 'event b']);
      assert.deepEqual(segmentIds(logDir), [], 'the loaded segment was deleted');
    } finally {
      await store.close();
    }
  });

  it('writes each full segment as one whole row group of store.segmentRows rows', async () => {
    const dataDir = dir();
    const { store } = await open(dataDir, '1h');
    const segmentRows = loadConfig({ env: {}, flags: {} }).store.segmentRows;
    try {
      // Two segments' worth and a few more, in requests of 1,000 rows.
      const total = 2 * segmentRows + 500;
      for (let i = 0; i < total; i += 1000) {
        const n = Math.min(1000, total - i);
        await store.appendEvents(Array.from({ length: n }, (_, k) => event(`rg-${i + k}`)));
      }
      await store.refresh(true);
      const r = await store.query({
        query: parseQuery('service.name:"log-test" | stats count() as n'),
        range: { fromMs: 0, toMs: Date.now() + 3_600_000 },
        tenant: 'default',
      });
      assert.equal(Number(r.rows[0]?.[0]), total);
    } finally {
      await store.close();
    }
    const { DuckDBInstance } = (await import('@duckdb/node-api')).default;
    const db = await DuckDBInstance.create(join(dataDir, 'shoplens.duckdb'));
    try {
      const c = await db.connect();
      const groups = (
        await c.runAndReadAll(
          "SELECT row_group_id, max(start + count) - min(start) FROM pragma_storage_info('events') WHERE column_name = 'ts' GROUP BY 1 ORDER BY 1",
        )
      )
        .getRows()
        .map((row) => Number(row[1]));
      // The sizes of the segments: each cut at the request that reached segmentRows.
      assert.ok(groups.length >= 2, `row groups: ${groups.join(', ')}`);
      assert.equal(groups[0], segmentRows, `row groups: ${groups.join(', ')}`);
      assert.equal(
        groups.reduce((a, b) => a + b, 0),
        2 * segmentRows + 500,
      );
      c.closeSync();
    } finally {
      db.closeSync();
    }
  });

  /** Writes records into `<dataDir>/log` as a process that then died would have left them. */
  async function leaveSegment(dataDir: string, records: EventRecord[][]): Promise<string> {
    const logDir = join(dataDir, 'log');
    const log = new SegmentLog({ dir: logDir, segmentRows: 1000, maxBytes: 1e9 }, 1, { onSealed: () => undefined });
    for (const r of records) await log.append(recordOf(r.map(toRowLine)));
    await log.close();
    return join(logDir, '000000000001.ndjson');
  }

  it('cuts a torn tail at open, logs it, and loads the acknowledged records before it', async () => {
    const dataDir = dir();
    const path = await leaveSegment(dataDir, [[event('kept-1')], [event('kept-2')]]);
    // Half of a record that was never acknowledged: its header promises more rows than are there.
    appendFileSync(
      path,
      '{"_log":{"rows":1,"bytes":400,"crc":1}}\n{"ts":1,"tenant":"default","data_class":"app","mess',
    );
    const { store, logs } = await open(dataDir, '1h');
    try {
      assert.deepEqual(await messages(store), ['event kept-1', 'event kept-2']);
      assert.match(logs(), /dropped the torn tail of an ingest log segment/);
      assert.match(logs(), /cut short/);
      assert.deepEqual(segmentIds(join(dataDir, 'log')), [], 'replayed and deleted');
    } finally {
      await store.close();
    }
  });

  it('drops a record whose checksum does not match, and what follows it, with a log line', async () => {
    const dataDir = dir();
    const path = await leaveSegment(dataDir, [[event('before')], [event('corrupt')], [event('after')]]);
    // Flip one byte inside the second record's rows, as a bad sector would.
    const bytes = readFileSync(path);
    const at = bytes.indexOf('event corrupt');
    bytes[at] = 'E'.charCodeAt(0);
    writeFileSync(path, bytes);
    const { store, logs } = await open(dataDir, '1h');
    try {
      assert.deepEqual(await messages(store), ['event before']);
      assert.match(logs(), /checksum does not match/);
    } finally {
      await store.close();
    }
  });

  it('leaves one event per id when one segment holds an event and its replacements', async () => {
    const dataDir = dir();
    const { store } = await open(dataDir, '1h');
    try {
      await store.appendEvents([event('x', { message: 'event x v1' }), event('y', { message: 'event y only' })]);
      await store.appendEvents([{ ...event('x', { message: 'event x v2' }), replaceExisting: true }]);
      await store.appendEvents([
        { ...event('x', { message: 'event x v3' }), replaceExisting: true },
        { ...event('x', { message: 'event x v4' }), replaceExisting: true },
      ]);
      assert.deepEqual(
        [...(await store.existingEventIds('default', ['x', 'y', 'z']))].sort(),
        ['x'],
        'a replaced id still in the log counts as existing (for _create); y is known once visible',
      );
      await store.refresh(true);
      assert.deepEqual(await messages(store), ['event x v4', 'event y only']);
      // A later segment replaces what the store holds.
      await store.appendEvents([{ ...event('x', { message: 'event x v5' }), replaceExisting: true }]);
      await store.refresh(true);
      assert.deepEqual(await messages(store), ['event x v5', 'event y only']);
    } finally {
      await store.close();
    }
  });

  it("loads a row longer than the JSON reader's buffer through the appender", async () => {
    const dataDir = dir();
    const { store } = await open(dataDir, '1h');
    try {
      const long = 'x'.repeat(17 * 1024 * 1024);
      await store.appendEvents([event('long', { error_message: long }), event('short')]);
      await store.refresh(true);
      assert.deepEqual(await messages(store), ['event long', 'event short']);
    } finally {
      await store.close();
    }
  });

  it('erases a customer whose events are still in the log, and deletes the log files that held them', async () => {
    const dataDir = dir();
    const { store } = await open(dataDir, '1h');
    try {
      await store.appendEvents([event('c1', { customer_id: 'cust-42' }), event('c2', { customer_id: 'cust-7' })]);
      const logDir = join(dataDir, 'log');
      assert.equal(readdirSync(logDir).length, 1);
      const erased = await store.eraseCustomer('default', { ids: ['cust-42'], texts: [] });
      assert.equal(erased.deleted, 1);
      assert.deepEqual(await messages(store), ['event c2']);
      assert.deepEqual(readdirSync(logDir), [], 'no log file keeps the erased rows');
    } finally {
      await store.close();
    }
  });
});
