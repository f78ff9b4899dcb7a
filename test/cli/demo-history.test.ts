/**
 * `shoplens demo`'s history backfill: made in a worker thread from the run's
 * shop as data, it hands the sink exactly the events the run's own simulator
 * makes (incidents and the traffic step at the live start included), newest
 * hour first; it stops when aborted and fails with the sink's error. And the
 * in-process sink waits out an overloaded pipeline (429) as it does an
 * unavailable one (503).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fillHistory } from '../../src/cli/demo-history.ts';
import { pipelineSink } from '../../src/cli/demo-sinks.ts';
import { toRawEvent } from '../../src/demo/demo-event.ts';
import type { NdjsonSink } from '../../src/demo/demo-runner.ts';
import { demoSimulatorOptions } from '../../src/demo/demo-shop.ts';
import { FRAUD_IP_ADDRESSES, IncidentSchedule } from '../../src/demo/incidents.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import { AppError } from '../../src/errors.ts';
import type { IngestPipeline } from '../../src/ingest/pipeline.ts';
import type { StoredEvent } from '../../src/schema/record.ts';

const HOUR_MS = 3_600_000;
/** Mid-minute, as Date.now() at a real start. */
const LIVE_START_MS = Date.UTC(2026, 10, 18, 15, 20, 31, 207);

/** Keeps every body it is sent, in the order sent. */
class RecordingSink implements NdjsonSink {
  readonly bodies: string[] = [];
  failWith: Error | undefined;
  onBody: (() => void) | undefined;

  async sendNdjson(body: Uint8Array, events: number) {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failWith) throw this.failWith;
    this.bodies.push(Buffer.from(body).toString('utf8'));
    this.onBody?.();
    return { accepted: events, rejected: 0 };
  }
}

function quietRun(signal = new AbortController().signal, lines: string[] = []) {
  return { signal, log: (line: string) => lines.push(line), label: 'test history', batchSize: 700 };
}

describe('demo history backfill', () => {
  it("stores the run's own events, incidents included, newest hour first", async () => {
    const incidents = new IncidentSchedule();
    incidents.add('fraud-burst', LIVE_START_MS - 2 * HOUR_MS, LIVE_START_MS - 2 * HOUR_MS + 20 * 60_000);
    incidents.add('payment-gateway-outage', LIVE_START_MS - 30 * 60_000, LIVE_START_MS + 10 * 60_000);
    const shop = { seed: 11, liveStartMs: LIVE_START_MS, historyScale: 0.2, liveScale: 1, infraIntervalMs: 300_000 };
    const gap = { fromMs: LIVE_START_MS - 3 * HOUR_MS, toMs: LIVE_START_MS };
    const sink = new RecordingSink();
    const lines: string[] = [];
    const stored = await fillHistory(
      { ...shop, incidents: incidents.windows() },
      sink,
      [gap],
      quietRun(undefined, lines),
    );

    // What the run's own simulator (the live one, with the schedule itself as its hook) makes for those hours.
    const own = new ShopSimulator(demoSimulatorOptions(shop, incidents.hook));
    const expected: string[] = [];
    for (let k = 1; k <= 3; k++) {
      for (const event of own.eventsBetween(gap.toMs - k * HOUR_MS, gap.toMs - (k - 1) * HOUR_MS)) {
        expected.push(`${JSON.stringify(toRawEvent(event))}\n`);
      }
    }
    assert.equal(stored, expected.length);
    assert.equal(sink.bodies.join(''), expected.join(''));
    assert.ok(sink.bodies.every((body) => body.split('\n').length - 1 <= 700));
    // The burst is in the history: attempts from the card-testing bot's addresses.
    assert.ok(expected.some((line) => FRAUD_IP_ADDRESSES.some((ip) => line.includes(`"ip_address":"${ip}"`))));
    assert.match(
      lines[0] ?? '',
      /^Backfilling the test history: 2026-11-18 12:20 → 2026-11-18 15:20 UTC, newest first/,
    );
    assert.match(
      lines.at(-1) ?? '',
      new RegExp(`^Backfilled ${expected.length.toLocaleString('en-US')} events of the test history in`),
    );
  });

  it('stops when aborted, having stored only whole bodies', async () => {
    const shop = {
      seed: 3,
      liveStartMs: LIVE_START_MS,
      historyScale: 0.5,
      liveScale: 1,
      infraIntervalMs: 60_000,
      incidents: [],
    };
    const controller = new AbortController();
    const sink = new RecordingSink();
    sink.onBody = () => {
      if (sink.bodies.length === 3) controller.abort();
    };
    const stored = await fillHistory(
      shop,
      sink,
      [{ fromMs: LIVE_START_MS - 48 * HOUR_MS, toMs: LIVE_START_MS }],
      quietRun(controller.signal),
    );
    const storedLines = sink.bodies.join('').split('\n').length - 1;
    assert.equal(stored, storedLines);
    assert.ok(stored > 0 && stored < 40_000, `${stored} events stored of two days`);
  });

  it("fails with the sink's error", async () => {
    const shop = {
      seed: 3,
      liveStartMs: LIVE_START_MS,
      historyScale: 0.2,
      liveScale: 1,
      infraIntervalMs: 60_000,
      incidents: [],
    };
    const sink = new RecordingSink();
    sink.failWith = new AppError(400, 'ingest.bad', 'the store said no');
    await assert.rejects(
      fillHistory(shop, sink, [{ fromMs: LIVE_START_MS - HOUR_MS, toMs: LIVE_START_MS }], quietRun()),
      /the store said no/,
    );
  });
});

/** A pipeline whose commit answers with the given errors first, then commits. */
function fakePipeline(failures: AppError[]) {
  const committed: StoredEvent[][] = [];
  let commits = 0;
  const pipeline = {
    async admitted<T>(_bytes: number, ingest: () => Promise<T>): Promise<T> {
      return ingest();
    },
    async prepareRows(body: Buffer) {
      const lines = body
        .toString('utf8')
        .split('\n')
        .filter((line) => line.length > 0);
      return { record: { body, rows: lines.length, minTsUs: 0, lines }, rejected: [], redactions: {} };
    },
    async commitRows(_endpoint: string, record: { lines: string[] }) {
      commits++;
      const failure = failures.shift();
      if (failure) throw failure;
      committed.push([...record.lines] as unknown as StoredEvent[]);
    },
  };
  return { pipeline: pipeline as unknown as IngestPipeline, committed, commits: () => commits };
}

describe('demo pipeline sink', () => {
  const body = Buffer.from('{"a":1}\n{"a":2}\n');

  it('waits out an overloaded pipeline (429 ingest.overloaded, Retry-After) and then stores the body', async () => {
    const overloaded = new AppError(429, 'ingest.overloaded', 'The ingest queue is full', {
      headers: { 'Retry-After': '1' },
    });
    const fake = fakePipeline([overloaded]);
    const result = await pipelineSink(fake.pipeline).sendNdjson(body, 2);
    assert.deepEqual(result, { accepted: 2, rejected: 0 });
    assert.equal(fake.commits(), 2);
    assert.deepEqual(fake.committed, [['{"a":1}', '{"a":2}']]);
  });

  it('waits out an unavailable store (503), for events sent as objects too', async () => {
    const down = new AppError(503, 'store.unavailable', 'The store is busy', { headers: { 'Retry-After': '1' } });
    const fake = fakePipeline([down]);
    const result = await pipelineSink(fake.pipeline).send([{ a: 1 }]);
    assert.deepEqual(result, { accepted: 1, rejected: 0 });
    assert.deepEqual(fake.committed, [['{"a":1}']]);
  });

  it('does not retry what retrying cannot fix', async () => {
    const fake = fakePipeline([new AppError(400, 'ingest.invalid', 'bad events')]);
    await assert.rejects(pipelineSink(fake.pipeline).sendNdjson(body, 2), /bad events/);
    assert.equal(fake.commits(), 1);
  });
});
