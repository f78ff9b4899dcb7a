/**
 * `shoplens rules check` and `shoplens rules test` as a user runs them
 * (bin/shoplens in a child process).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { shoplens } from '../helpers/cli.ts';

const PACK = new URL('../../rules/ecommerce.yaml', import.meta.url).pathname;

const run = (args: string[]) => shoplens(args, { NODE_ENV: 'test' });

describe('shoplens rules', () => {
  let dir: string;
  let server: TestServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoplens-test-cli-rules-'));
    server = await startTestServer({ alerts: { enabled: false } });
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('check: the prebuilt pack is valid', async () => {
    const r = await run(['rules', 'check', PACK]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ecommerce\.yaml: 23 rules ok/);
  });

  it('check: errors name the file, line and column, and the exit code is 1', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'rules:',
        '  - name: Fine',
        '    query: "event.type:x | stats count() as n"',
        '    condition: n > 5',
        '    severity: P2',
        '  - name: BrokenCondition',
        '    query: "event.type:x | stats count() as n"',
        '    condition: "n >"',
        '    severity: P1',
        '  - name: TooOften',
        '    query: "event.type:x | stats count() as n"',
        '    condition: n > 1',
        '    every: 1s',
        '    severity: P1',
        '',
      ].join('\n'),
    );
    const r = await run(['rules', 'check', file]);
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, new RegExp(`^${file}:8:16: rule "BrokenCondition": condition: .*at character 4`));
    assert.match(lines[1]!, new RegExp(`^${file}:13:12: rule "TooOften": every: must be at least 5s$`));
  });

  it('test: prints the values per group and the verdict from a running server', async () => {
    const now = Date.now();
    const events = [0, 1, 2, 3, 4, 5].map((i) =>
      JSON.stringify({
        '@timestamp': new Date(now - 60_000 - i * 1000).toISOString(),
        event: { type: 'payment_transaction', outcome: 'success' },
        transaction: { amount: 100, gateway: 'stripe' },
        payment: { risk_score: 90 },
      }),
    );
    assert.equal((await post(`${server.url}/api/v1/events?refresh=wait_for`, events.join('\n'))).status, 200);
    const r = await run(['rules', 'test', 'HighRiskTransactions', '--url', server.url]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^FIRING  high_risk=6 total_amount=600 ip_addresses=0$/m);
    assert.match(r.stdout, /^verdict: FIRING$/m);

    const earlier = await run(['rules', 'test', 'HighRiskTransactions', '--url', server.url, '--at', 'now-1h']);
    assert.match(earlier.stdout, /^ok      high_risk=0 total_amount=n\/a ip_addresses=0$/m);
    assert.match(earlier.stdout, /^verdict: not firing$/m);
  });

  it('test: an unknown rule is an error naming it', async () => {
    const r = await run(['rules', 'test', 'NoSuchRule', '--url', server.url]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /No alert rule "NoSuchRule"/);
  });

  it('silences: add, list and expire a maintenance window', async () => {
    const added = await run([
      'silences',
      'add',
      'service.name=search-service',
      'severity=~warning|info',
      '--comment',
      'search reindex',
      '--start',
      'now+1h',
      '--end',
      'now+3h',
      '--url',
      server.url,
    ]);
    assert.equal(added.status, 0, added.stderr);
    const id = /^silence ([0-9a-f-]{36}):/.exec(added.stdout)?.[1];
    assert.ok(id, added.stdout);
    const listed = await run(['silences', 'list', '--url', server.url]);
    assert.match(
      listed.stdout,
      new RegExp(`^${id} scheduled .* service.name=search-service severity=~warning\\|info # search reindex$`, 'm'),
    );
    const bad = await run(['silences', 'add', 'service.name', '--comment', 'x', '--url', server.url]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /matcher "service.name": expected name=value/);
    assert.equal((await run(['silences', 'expire', id!, '--url', server.url])).status, 0);
    assert.doesNotMatch((await run(['silences', 'list', '--url', server.url])).stdout, new RegExp(id!));
  });
});
