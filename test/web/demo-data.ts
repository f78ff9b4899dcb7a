/**
 * Demo shop data for the UI tests: the last 24 hours of the demo shop
 * (history at 10 % density, the last hour at full density), through the
 * real ingest pipeline, with a 20-minute card-testing burst 12 hours ago.
 * High-risk payments are rare in clean traffic, so without the burst
 * whether the fraud panels had data depended on the hour the tests ran.
 */
import assert from 'node:assert/strict';
import { pipelineSink } from '../../src/cli/demo.ts';
import { backfill } from '../../src/demo/demo-runner.ts';
import { IncidentSchedule } from '../../src/demo/incidents.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import type { TestServer } from '../helpers/server.ts';

const HOUR_MS = 3_600_000;

/** Backfills [now-24h, now) and returns the number of events stored. */
export async function loadDemoDay(server: TestServer, nowMs: number = Date.now()): Promise<number> {
  const sink = pipelineSink(server.server.context.pipeline);
  const incidents = new IncidentSchedule();
  incidents.add('fraud-burst', nowMs - 12 * HOUR_MS, nowMs - 12 * HOUR_MS + 20 * 60_000);
  const history = new ShopSimulator({
    seed: 7,
    trafficScale: 0.1,
    infraIntervalMs: 300_000,
    conditions: incidents.hook,
  });
  const recent = new ShopSimulator({ seed: 8, trafficScale: 1, infraIntervalMs: 60_000 });
  const a = await backfill(history, sink, { fromMs: nowMs - 24 * HOUR_MS, toMs: nowMs - HOUR_MS });
  const b = await backfill(recent, sink, { fromMs: nowMs - HOUR_MS, toMs: nowMs - 1000 });
  assert.equal(a.rejected + b.rejected, 0, a.firstRejection ?? b.firstRejection);
  return a.accepted + b.accepted;
}
