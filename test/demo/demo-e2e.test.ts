/**
 * The demo shop end to end: a simulated day through the real ingest
 * pipeline into a real server, then the funnel and error queries an
 * operator asks through the HTTP API; and `shoplens demo` itself, feeding a server over HTTP and running
 * its own embedded server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { missingHistory, pipelineSink, registerDemoCommand, runDemo, type DemoOptions } from '../../src/cli/demo.ts';
import { backfill } from '../../src/demo/demo-runner.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import { shoplens } from '../helpers/cli.ts';
import { query, startTestServer, testDataDir, type TestServer } from '../helpers/server.ts';
import { DAY_MS, HOUR_MS, WEDNESDAY_MS } from './fixtures.ts';

const DAY = { from: new Date(WEDNESDAY_MS).toISOString(), to: new Date(WEDNESDAY_MS + DAY_MS).toISOString() };

async function rows(server: TestServer, q: string, range = DAY): Promise<unknown[][]> {
  const answer = await query(server.url, q, range);
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  return answer.json.rows;
}

async function countOf(server: TestServer, q: string, range = DAY): Promise<number> {
  return Number((await rows(server, `${q} | stats count() as n`, range))[0]?.[0] ?? 0);
}

describe('demo shop day through the ingest pipeline', () => {
  let server: TestServer;
  let simulator: ShopSimulator;
  let generated = 0;

  before(async () => {
    server = await startTestServer();
    simulator = new ShopSimulator({ seed: 42, trafficScale: 0.1, infraIntervalMs: 300_000 });
    generated = simulator.eventsBetween(WEDNESDAY_MS, WEDNESDAY_MS + DAY_MS).length;
    const result = await backfill(simulator, pipelineSink(server.server.context.pipeline), {
      fromMs: WEDNESDAY_MS,
      toMs: WEDNESDAY_MS + DAY_MS,
    });
    assert.equal(result.rejected, 0, result.firstRejection);
    assert.equal(result.accepted, generated);
  });
  after(async () => {
    await server.close();
  });

  it('stores every generated event', async () => {
    assert.ok(generated > 20_000, `${generated} events in a day at scale 0.1`);
    assert.equal(await countOf(server, '*'), generated);
  });

  it('has payment transactions through the three gateways', async () => {
    const byGateway = await rows(server, 'event.type:payment_transaction | stats count() by transaction.gateway');
    assert.deepEqual(byGateway.map((r) => r[0]).sort(), ['adyen', 'paypal', 'stripe']);
    assert.ok(byGateway.every((r) => Number(r[1]) > 10));
    const [successRate] = (
      await rows(
        server,
        'event.type:payment_transaction | stats countif(event.outcome:success) as ok, count() as n | eval rate = ok * 100.0 / n',
      )
    )[0]!.slice(2);
    assert.ok(Number(successRate) >= 95 && Number(successRate) <= 99.5, `success rate ${successRate} %`);
  });

  it('gives decreasing counts along the funnel: homepage, product view, cart, checkout, payment', async () => {
    const funnel = [
      'event.type:page_view AND page.category:homepage',
      'event.type:page_view AND page.category:product_detail',
      'event.type:add_to_cart',
      'event.type:checkout_started',
      'event.type:payment_completed',
    ];
    const counts: number[] = [];
    for (const step of funnel) counts.push(await countOf(server, step));
    assert.ok(counts[4]! > 20, `funnel ${counts}`);
    for (let i = 1; i < counts.length; i++) assert.ok(counts[i]! < counts[i - 1]!, `funnel ${counts}`);
  });

  it('finds the infrastructure samples by their attribute fields', async () => {
    const samples = await countOf(server, 'infrastructure.cpu_usage:*');
    assert.equal(samples, simulator.pods.length * 288);
    const perService = await rows(
      server,
      'event.type:infrastructure | stats avg(infrastructure.cpu_usage) as cpu, avg(cache.hit_rate) as hits by service.name',
    );
    assert.equal(perService.length, 8);
    for (const [service, cpu, hits] of perService) {
      assert.ok(Number(cpu) > 1 && Number(cpu) < 90, `${service} cpu ${cpu}`);
      assert.ok(Number(hits) > 0.5 && Number(hits) < 1, `${service} cache hit rate ${hits}`);
    }
    assert.ok((await countOf(server, 'database.pool_usage_percent:>0')) > 0);
  });

  it('answers the top 10 errors, the error rate per endpoint and p95 latency of checkout and payment per 5 minutes', async () => {
    const topErrors = await rows(
      server,
      'exception.type:* | stats count() as occurrences by exception.type, exception.message | sort occurrences desc | limit 10',
    );
    assert.equal(topErrors.length, 10);
    const errorRates = await rows(
      server,
      'event.type:api_request | stats count() as total, countif(event.outcome:failure) as errors by http.route | eval errorRate = errors * 100.0 / total | sort errorRate desc',
    );
    assert.ok(errorRates.length >= 10);
    assert.ok(
      errorRates.every((r) => Number(r[3]) < 25),
      'no endpoint fails a quarter of its requests',
    );
    const p95 = await rows(
      server,
      'http.route:("/api/checkout" or "/api/payment/process") | stats p95(event.duration) as P95 by http.route, bin(@timestamp, 5m)',
    );
    assert.ok(p95.length > 50);
    assert.ok(p95.every((r) => Number(r[2]) > 0));
  });

  it('keeps abandonment reasons and customer tiers queryable', async () => {
    const reasons = await rows(server, 'event.type:cart_abandoned | stats count() by cart.abandon_reason');
    assert.ok(reasons.map((r) => r[0]).includes('session_timeout'));
    const tiers = await rows(server, 'event.type:page_view | stats dc(customer.id) as customers by customer.tier');
    assert.deepEqual(tiers.map((r) => r[0]).sort(), ['BRONZE', 'GOLD', 'PLATINUM', 'SILVER']);
  });
});

describe('shoplens demo', () => {
  const quiet = (lines: string[]) => (line: string) => lines.push(line);
  const base: DemoOptions = {
    history: 2 * 3_600_000,
    speed: 1,
    seed: 7,
    scale: 0.2,
    historyScale: 0.1,
    duration: 1_500,
  };

  it('feeds a running server over HTTP, and a second run backfills only the gap', async () => {
    const server = await startTestServer();
    try {
      const first: string[] = [];
      await runDemo({ ...base, url: server.url }, new AbortController().signal, quiet(first));
      const range = { from: 'now-3h', to: 'now+1h' };
      const afterFirst = await countOf(server, '*', range);
      assert.ok(afterFirst > 500, `${afterFirst} events after the first run`);
      assert.ok(
        first.some((l) => /^Backfilled [\d,]+ events/.test(l)),
        first.join('\n'),
      );

      const second: string[] = [];
      await runDemo({ ...base, url: server.url }, new AbortController().signal, quiet(second));
      assert.ok(
        second.some((l) => l.includes('already holds demo history')),
        second.join('\n'),
      );
      const afterSecond = await countOf(server, '*', range);
      assert.ok(afterSecond - afterFirst < afterFirst / 10, `second run added ${afterSecond - afterFirst} events`);
    } finally {
      await server.close();
    }
  });

  it('stores its history at the live density: per-hour counts follow the model, with no step before the live start', async () => {
    const server = await startTestServer();
    try {
      const startMs = Date.now();
      // The CLI's own defaults (history scale, infrastructure interval); the older two hours come in the background.
      const run = await shoplens(
        ['demo', '--url', server.url, '--history', '3h', '--ready-history', '1h', '--scale', '0.3', '--duration', '2s'],
        { SHOPLENS_LOG_LEVEL: 'warn' },
      );
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stderr, /older history \(in the background\)/);
      // What the model expects per window: the daily rhythm at scale 0.3 plus a sample of every pod a minute.
      const model = new ShopSimulator({ seed: 42, trafficScale: 0.3 });
      const expected = (fromMs: number, toMs: number): number => {
        let n = 0;
        for (let t = fromMs; t < toMs; t += 60_000) n += model.expectedEventsPerSecondAt(t, 60_000) * 60;
        return n;
      };
      const hours = [3, 2, 1].map((k) => ({ fromMs: startMs - k * HOUR_MS, toMs: startMs - (k - 1) * HOUR_MS }));
      hours[0] = { fromMs: hours[0]!.fromMs + 10 * 60_000, toMs: hours[0]!.toMs }; // the history may start a few seconds late
      const density: number[] = [];
      for (const hour of hours) {
        const range = { from: new Date(hour.fromMs).toISOString(), to: new Date(hour.toMs).toISOString() };
        density.push((await countOf(server, '*', range)) / expected(hour.fromMs, hour.toMs));
      }
      const shown = density.map((d) => d.toFixed(2)).join(', ');
      for (const d of density) assert.ok(d > 0.7 && d < 1.4, `stored / expected per hour: ${shown}`);
      const step = density[2]! / density[1]!;
      assert.ok(step > 0.75 && step < 1.33, `last hour vs the hour before, against the model: ${step.toFixed(2)}`);
    } finally {
      await server.close();
    }
  });

  it('runs its own server on the embedded store, which keeps the data', async () => {
    const dataDir = testDataDir();
    const previousLevel = process.env['SHOPLENS_LOG_LEVEL'];
    process.env['SHOPLENS_LOG_LEVEL'] = 'warn';
    try {
      const lines: string[] = [];
      await runDemo({ ...base, history: 3_600_000, port: 0, dataDir }, new AbortController().signal, quiet(lines));
      assert.match(lines[0] ?? '', /embedded store in /);
    } finally {
      if (previousLevel === undefined) delete process.env['SHOPLENS_LOG_LEVEL'];
      else process.env['SHOPLENS_LOG_LEVEL'] = previousLevel;
    }
    const server = await startTestServer({}, dataDir);
    try {
      assert.ok((await countOf(server, 'event.type:api_request', { from: 'now-2h', to: 'now+1h' })) > 100);
    } finally {
      await server.close();
    }
  });

  it('backfills only the history the store is missing', async () => {
    const day = 86_400_000;
    const from = WEDNESDAY_MS;
    const to = from + 7 * day;
    const stored = (first?: number, last?: number) => async () => ({
      rows: [
        [
          first === undefined ? null : new Date(first).toISOString(),
          last === undefined ? null : new Date(last).toISOString(),
        ],
      ],
    });
    assert.deepEqual(await missingHistory(stored(), from, to), [{ fromMs: from, toMs: to }]);
    // A second run ten minutes after the first stopped: only those ten minutes.
    assert.deepEqual(await missingHistory(stored(from + 20_000, to - 600_000), from, to), [
      { fromMs: to - 600_000 + 1, toMs: to },
    ]);
    // A run with --history 7d after one with --history 1d: the six older days too.
    assert.deepEqual(await missingHistory(stored(to - day, to - 5_000), from, to), [
      { fromMs: from, toMs: to - day },
      { fromMs: to - 5_000 + 1, toMs: to },
    ]);
  });

  it('refuses bad flags with a clear message', async () => {
    const parse = async (...args: string[]): Promise<string> => {
      const program = new Command().exitOverride();
      let stderr = '';
      program.configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => {} });
      registerDemoCommand(program).exitOverride();
      await assert.rejects(program.parseAsync(['node', 'shoplens', 'demo', ...args]), CommanderError);
      return stderr;
    };
    assert.match(await parse('--speed', '0'), /--speed.*expected a number above 0/);
    assert.match(await parse('--history', '7 days'), /--history.*Invalid duration/);
    assert.match(await parse('--seed', 'abc'), /--seed.*expected a whole number/);
    assert.match(await parse('--url', 'ftp://x'), /--url.*expected an http\(s\) URL/);
    await assert.rejects(
      runDemo({ ...base, url: 'http://127.0.0.1:9', port: 8080 }, new AbortController().signal, () => {}),
      /--url feeds a running server/,
    );
  });
});
