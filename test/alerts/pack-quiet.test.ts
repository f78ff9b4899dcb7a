/**
 * The pack's false-alarm budget on clean demo traffic (issue 13: over 7
 * days at most 1 alert episode in all at P0–P2 and at most 1 a day at P3),
 * on a compressed week (Monday to Monday, the demo's seed 42): seven
 * 90-minute spans at full density, one a day at the hours that broke the old
 * rules (03:00 at night, the morning ramp, midday, the evening peak, late
 * evening, the Saturday flash sale starting, the Sunday evening after it),
 * each with the same hours of the day before at 10 % of traffic (the demo's
 * history density) for the baselines. The pack runs over the last hour of
 * each span (the first 30 minutes fill the rules' windows) every 2 minutes
 * of shop time, `for` applied at that resolution (a condition must hold at
 * consecutive evaluations spanning its `for`); the budget is checked on the
 * alert episodes, and the condition episodes (`for` not applied, an upper
 * bound) are reported. DataAbsent is in the run: each span has the hour
 * before it at 10 % (every service steady in its lookback), an admin's audit
 * trail that stops 20 minutes before the span's end, and a one-off document
 * (`bulk-test`); neither may ever be called silent (no condition episode of
 * DataAbsent at all). What this leaves out: the other 17 hours of each day,
 * and condition blips shorter than 2 minutes. The full week at full density
 * is `npm run bench` (bench/alert-pack.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { describeEpisodes } from './pack-run.ts';
import { runCleanWeek } from './clean-week.ts';
import { HttpRecorder } from './peers.ts';

/** [start, end) hours after Monday 00:00 of the week. */
const SPANS: (readonly [number, number])[] = [
  [2.5, 4],
  [24 + 6.5, 24 + 8],
  [48 + 11.5, 48 + 13],
  [72 + 19, 72 + 20.5],
  [96 + 22.5, 96 + 24],
  [120 + 16.5, 120 + 18],
  [144 + 17.5, 144 + 19],
];

describe('the e-commerce rule pack on a clean week', () => {
  let server: TestServer;
  let webhook: HttpRecorder;
  before(async () => {
    server = await startTestServer({ alerts: { enabled: false } });
    webhook = await new HttpRecorder().start();
  });
  after(async () => {
    await server?.close();
    await webhook?.stop();
  });

  it('stays within the budget: at most 1 alert episode at P0–P2, at most 1 a day at P3', async (t) => {
    const result = await runCleanWeek(server, webhook, {
      tenant: 'clean-week',
      density: 0.1,
      spans: SPANS,
      historyDays: 0,
      stepMs: 2 * 60_000,
    });
    t.diagnostic(`${result.events} events, ${result.hours} h evaluated`);
    t.diagnostic(`condition episodes: ${describeEpisodes(result.conditions).join('; ') || 'none'}`);
    t.diagnostic(`alert episodes: ${describeEpisodes(result.alerts).join('; ') || 'none'}`);
    // No "No data" on clean traffic: not from the audit trail, not from the one-off document, not from a service.
    const absent = result.conditions.filter((e) => e.rule === 'DataAbsent');
    assert.deepEqual(describeEpisodes(absent), []);
    const urgent = result.alerts.filter((e) => e.priority !== 'P3');
    assert.ok(urgent.length <= 1, `P0–P2 alert episodes: ${describeEpisodes(urgent).join('; ')}`);
    const info = result.alerts.filter((e) => e.priority === 'P3');
    const perDay = new Map<number, number>();
    for (const e of info) {
      const day = Math.floor(e.atMs / 86_400_000);
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    assert.ok(
      [...perDay.values()].every((n) => n <= 1),
      `P3 alert episodes: ${describeEpisodes(info).join('; ')}`,
    );
    // An alert episode is one of the condition's (the condition held first).
    assert.ok(result.alerts.length <= result.conditions.length);
    // The webhook received exactly the notifications of those alerts (none when quiet).
    if (result.alerts.length === 0) assert.equal(webhook.received.length, 0);
  });
});
