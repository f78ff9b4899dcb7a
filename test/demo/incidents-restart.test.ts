/**
 * Run-time incidents survive a restart of `shoplens demo` on the same data
 * directory: the ground truth is still listed, and an incident still in
 * progress goes on shaping the restarted shop's traffic until its end.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { runDemo, type DemoOptions } from '../../src/cli/demo.ts';
import { post, query, testDataDir } from '../helpers/server.ts';

/** A running `runDemo` on the embedded store, and its URL once it listens. */
async function startDemo(options: DemoOptions): Promise<{ url: string; stop: () => Promise<void> }> {
  const controller = new AbortController();
  const lines: string[] = [];
  let failure: unknown;
  const run = runDemo(options, controller.signal, (line) => lines.push(line)).catch((err: unknown) => {
    failure = err;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const url = lines.map((l) => /→ (http:\/\/127\.0\.0\.1:\d+) /.exec(l)?.[1]).find((u) => u !== undefined);
    if (url && lines.some((l) => l.startsWith('Live traffic'))) {
      return {
        url,
        stop: async () => {
          controller.abort();
          await run;
        },
      };
    }
    if (failure !== undefined) throw failure;
    if (Date.now() > deadline) {
      controller.abort();
      throw new Error(`the demo did not start: ${lines.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('demo incidents across a restart', () => {
  let dataDir: string;
  let previousLevel: string | undefined;
  before(() => {
    dataDir = testDataDir();
    previousLevel = process.env['SHOPLENS_LOG_LEVEL'];
    process.env['SHOPLENS_LOG_LEVEL'] = 'warn';
  });
  after(() => {
    if (previousLevel === undefined) delete process.env['SHOPLENS_LOG_LEVEL'];
    else process.env['SHOPLENS_LOG_LEVEL'] = previousLevel;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('still lists a run-time incident after a restart, and the restarted shop goes on with it', async () => {
    // A time-lapse (one shop minute per second), so a few seconds of live traffic hold enough requests.
    const options: DemoOptions = { history: 0, speed: 60, seed: 5, scale: 1, port: 0, dataDir, auth: 'none' };
    const first = await startDemo(options);
    let started: { name: string; start: string; end: string };
    try {
      const answer = await post(
        `${first.url}/api/v1/demo/incidents`,
        JSON.stringify({ name: 'error-spike', durationMinutes: 120 }),
        { 'content-type': 'application/json' },
      );
      assert.equal(answer.status, 201, JSON.stringify(answer.json));
      started = answer.json.incident;
    } finally {
      await first.stop();
    }

    const restartedAt = Date.now();
    const second = await startDemo(options);
    try {
      const listed = await fetch(`${second.url}/api/v1/demo/incidents`);
      assert.equal(listed.status, 200);
      const body = (await listed.json()) as { incidents: { name: string; start: string; end: string }[] };
      assert.deepEqual(
        body.incidents.map((i) => [i.name, i.start, i.end]),
        [['error-spike', started.start, started.end]],
      );

      // The restarted shop's own traffic: the catalog service still fails over 10 % of its requests.
      const q =
        'event.type:api_request AND service.name:catalog-service | stats countif(http.response.status_code:>=500) as errors, count() as total';
      const range = { from: new Date(Math.max(restartedAt, Date.parse(started.start))).toISOString(), to: 'now+1h' };
      const deadline = Date.now() + 60_000;
      let errors = 0;
      let total = 0;
      while (total < 150 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const answer = await query(second.url, q, range);
        assert.equal(answer.status, 200, JSON.stringify(answer.json));
        [errors, total] = (answer.json.rows[0] ?? [0, 0]).map(Number);
      }
      assert.ok(total >= 150, `${total} catalog requests after the restart`);
      assert.ok(errors / total > 0.1, `${errors} of ${total} catalog requests failed after the restart`);
    } finally {
      await second.stop();
    }
  });
});
