/**
 * The visible-rows ledger reads tenants, event types and times from
 * row-line bytes without parsing them: compared here with JSON.parse of the
 * same lines, on row lines made by toRowLine.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toRowLine, type EventRecord } from '../../src/schema/record.ts';
import { loadConfig } from '../../src/config.ts';
import { prepareEvents } from '../../src/ingest/events-ndjson.ts';
import { Normalizer } from '../../src/ingest/normalizer.ts';
import { recordOf, type LogRecord } from '../../src/store/segment-log.ts';
import { VisibleRowsLedger, type VisibleRows } from '../../src/store/visible-rows.ts';

function row(
  tenant: string,
  tsMs: number,
  columns: EventRecord['columns'],
  attributes: EventRecord['attributes'] = null,
) {
  return toRowLine({ ts: tsMs * 1000, tenant, dataClass: 'app', columns, attributes });
}

/** A record of row lines as LoggedStore.appendEvents makes it: no summary, so its bytes are read. */
function body(lines: readonly string[]): LogRecord {
  return recordOf(lines);
}

/** The same summary from parsed lines. */
function expected(lines: readonly string[]): Map<string, { rows: number; types: string[]; from: number; to: number }> {
  const out = new Map<string, { rows: number; types: Set<string>; from: number; to: number }>();
  for (const line of lines) {
    const r = JSON.parse(line) as Record<string, unknown>;
    const ts = Number(r['ts']) / 1000;
    const t = out.get(r['tenant'] as string) ?? { rows: 0, types: new Set(), from: ts, to: ts };
    t.rows++;
    t.types.add(typeof r['event_type'] === 'string' ? r['event_type'] : '');
    t.from = Math.min(t.from, ts);
    t.to = Math.max(t.to, ts);
    out.set(r['tenant'] as string, t);
  }
  return new Map([...out].map(([k, v]) => [k, { ...v, types: [...v.types].sort() }]));
}

function summary(batches: readonly VisibleRows[]) {
  return new Map(
    batches.map((b) => [
      b.tenant as string,
      {
        rows: b.rows,
        types: [...(b.eventTypes ?? ['?'])].sort(),
        from: b.fromMs,
        to: b.toMs,
      },
    ]),
  );
}

describe('visible rows ledger', () => {
  it('reports per tenant the event types and time range of the rows of the segments that became visible', () => {
    const ledger = new VisibleRowsLedger();
    const heard: VisibleRows[][] = [];
    ledger.listen((b) => heard.push([...b]));
    const first = [
      row('shop-a', 1_700_000_000_000, { event_type: 'payment_transaction', amount: 12.5 }),
      // An attribute that looks like the column comes before it; the column wins, both are reported.
      row('shop-a', 1_700_000_001_000, { event_type: 'api_request' }, { note: 'x', event_type: 'decoy' }),
      row('shop-b', 1_699_999_999_000, { event_type: 'page_view', index_name: 'logs-web' }),
      row('shop-a', 1_700_000_002_000, { service: 'checkout' }),
    ];
    const second = [row('shop-b', 1_700_000_005_000, { event_type: 'order_completed' })];
    ledger.add(1, body(first));
    ledger.add(2, body(second));
    ledger.visible(1);
    assert.equal(heard.length, 1);
    const got = summary(heard[0] as VisibleRows[]);
    const want = expected(first);
    // The decoy attribute is an over-report (it only ever makes more rules run), never a miss.
    const a = got.get('shop-a');
    assert.deepEqual(
      a?.types.filter((t) => t !== 'decoy'),
      want.get('shop-a')?.types,
    );
    assert.deepEqual({ ...a, types: [] }, { ...want.get('shop-a'), types: [] });
    assert.deepEqual(got.get('shop-b'), want.get('shop-b'));
    ledger.visible(2);
    assert.deepEqual(summary(heard[1] as VisibleRows[]), expected(second));
  });

  it('gives up the set past 64 distinct values, reads escaped values as unknown, and costs nothing without a listener', () => {
    const ledger = new VisibleRowsLedger();
    ledger.add(1, body([row('t', 1, { event_type: 'a' })]));
    const heard: VisibleRows[] = [];
    const stop = ledger.listen((b) => heard.push(...b));
    ledger.visible(1);
    assert.equal(heard.length, 0, 'rows appended while nobody listened are not kept');
    ledger.add(2, body(Array.from({ length: 65 }, (_, i) => row('t', 1, { event_type: `type_${i}` }))));
    ledger.add(3, body([row('u', 1, { event_type: 'say "hi"' })]));
    ledger.visible(3);
    assert.equal(heard.find((b) => b.tenant === 't')?.eventTypes, undefined);
    assert.equal(heard.find((b) => b.tenant === 't')?.rows, 65);
    assert.equal(heard.find((b) => b.tenant === 'u')?.eventTypes, undefined);
    stop();
    assert.equal(ledger.active, false);
  });

  it("takes an ingest worker's summary of a request for what reading its rows would give", () => {
    const config = loadConfig({ env: {}, flags: {} });
    const normalizer = new Normalizer(config.ingest, config.privacy);
    const now = Date.now();
    const events = [
      { '@timestamp': new Date(now - 5000).toISOString(), event: { type: 'payment_transaction' }, amount: 3 },
      { '@timestamp': new Date(now - 4000).toISOString(), 'event.type': 'checkout' },
      // Segment's shape goes through the normaliser's full chain: its type is noted there too.
      { type: 'track', event: 'Order Completed', timestamp: new Date(now - 3000).toISOString() },
      { '@timestamp': new Date(now - 2000).toISOString(), message: 'no type' },
      { '@timestamp': new Date(now - 1000).toISOString(), event: { type: 'Page View' } },
    ];
    const ndjson = Buffer.from(events.map((e) => JSON.stringify(e)).join('\n'));
    const prepared = prepareEvents(normalizer, ndjson, 'application/x-ndjson', { tenant: 'shop-z', receivedAtMs: now });
    assert.equal(prepared.rows.length, events.length);
    const plain = recordOf(prepared.rows as string[]);
    const summarised: LogRecord = { ...plain, summary: { tenant: 'shop-z', eventTypes: prepared.eventTypes } };
    const heard = (record: LogRecord) => {
      const ledger = new VisibleRowsLedger();
      const out: VisibleRows[] = [];
      ledger.listen((b) => out.push(...b));
      ledger.add(7, record);
      ledger.visible(7);
      return summary(out);
    };
    assert.deepEqual(heard(summarised), heard(plain));
    assert.deepEqual(heard(summarised), expected(prepared.rows as string[]));
    assert.equal(normalizer.takeEventTypes()?.length, 0, 'the types were taken with the request');
  });
});
