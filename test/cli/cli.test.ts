/**
 * The `shoplens` command as a user runs it: bin/shoplens in child processes.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { LAZY_COMMANDS } from '../../src/cli/main.ts';
import { post, startTestServer, testDataDir, type TestServer } from '../helpers/server.ts';
import { BIN, shoplens as shoplensAsync, shoplensSync as shoplens } from '../helpers/cli.ts';
// @ts-expect-error: a plain JavaScript build script, without type declarations
import { buildIsCurrent } from '../../scripts/build-server.mjs';

/**
 * Starts `shoplens serve` and resolves with its URL once it listens, and the
 * admin key it prints at first start (empty when the data dir has keys).
 */
function serve(dataDir: string, extra: string[] = []): Promise<{ child: ChildProcess; url: string; key: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] as string, key: /slk_[A-Za-z0-9]{10}_[A-Za-z0-9_-]{32}/.exec(out)?.[0] ?? '' });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

describe('shoplens CLI', () => {
  let dataDir: string;
  before(() => {
    dataDir = testDataDir();
  });
  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps acknowledged events when the server is killed, and queries the data dir directly', async () => {
    const { child, url, key } = await serve(dataDir);
    assert.match(key, /^slk_/, 'the first start prints an admin key');
    const body = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({
        '@timestamp': new Date(Date.now() - i * 1000).toISOString(),
        event: { type: 'payment_transaction', outcome: i % 3 === 0 ? 'failure' : 'success' },
        transaction: { gateway: i % 2 === 0 ? 'stripe' : 'paypal', amount: 10 },
      }),
    ).join('\n');
    const refused = await post(`${url}/api/v1/events?refresh=wait_for`, body);
    assert.equal(refused.status, 401, 'no key, no ingest');
    const r = await post(`${url}/api/v1/events?refresh=wait_for`, body, {
      'content-type': 'application/x-ndjson',
      authorization: `Bearer ${key}`,
    });
    assert.equal(r.json.accepted, 300);
    // Over HTTP while it runs.
    const viaUrl = shoplens([
      'query',
      'event.type:payment_transaction | stats count() as n',
      '--url',
      url,
      '--format',
      'json',
      '--api-key',
      key,
    ]);
    assert.equal(viaUrl.status, 0, viaUrl.stderr);
    assert.deepEqual(JSON.parse(viaUrl.stdout), [{ n: 300 }]);
    // A crash: no shutdown, no checkpoint.
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const json = shoplens([
      'query',
      'event.type:payment_transaction | stats count() as n, sum(transaction.amount) as total by transaction.gateway | sort transaction.gateway',
      '--data-dir',
      dataDir,
      '--format',
      'json',
    ]);
    assert.equal(json.status, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), [
      { 'transaction.gateway': 'paypal', n: 150, total: 1500 },
      { 'transaction.gateway': 'stripe', n: 150, total: 1500 },
    ]);
    const csv = shoplens([
      'query',
      'event.outcome:failure | stats count() as failures',
      '--data-dir',
      dataDir,
      '--format',
      'csv',
    ]);
    assert.equal(csv.stdout.trim(), 'failures\n100');
    const table = shoplens(['query', 'event.outcome:failure | stats count() as failures', '--data-dir', dataDir]);
    assert.match(table.stdout, /failures/);
    assert.match(table.stdout, /100/);
  });

  it('shows a query error with a caret under its position and exits 2', () => {
    const r = shoplens(['query', 'event.type:payment AND | stats count()', '--data-dir', dataDir]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /error: .*AND/);
    const lines = r.stderr.split('\n');
    const caretLine = lines.find((l) => l.trim() === '^') ?? '';
    assert.equal(caretLine.indexOf('^') - 2, 'event.type:payment AND '.length);
  });

  it('prints the plan and the SQL with --explain', () => {
    const r = shoplens([
      'query',
      'event.type:payment_transaction | stats count() as n',
      '--data-dir',
      dataDir,
      '--explain',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Plan: Find events where event\.type is "payment_transaction"/);
    assert.match(r.stdout, /SQL: SELECT .*count\(\*\) AS "n"/);
  });

  it('refuses bad configuration naming the key, the value, the source and what was expected', () => {
    const file = join(dataDir, 'bad.yaml');
    writeFileSync(file, 'server:\n  port: 99999\ningest:\n  maxFutureSkew: soon\n');
    const r = shoplens(['serve', '--config', file, '--data-dir', dataDir]);
    assert.equal(r.status, 78);
    assert.match(r.stderr, /server\.port = 99999 \(from .*bad\.yaml\)/);
    assert.match(r.stderr, /ingest\.maxFutureSkew = "soon" \(from .*bad\.yaml\): expected a duration/);
    const env = shoplens(['serve', '--data-dir', dataDir], { SHOPLENS_SERVER_PORT: 'eighty' });
    assert.equal(env.status, 78);
    assert.match(env.stderr, /server\.port = "eighty" \(from environment SHOPLENS_SERVER_PORT\)/);
    const unknown = shoplens(['serve', '--config', writeYaml(dataDir, 'typo.yaml', 'sever:\n  port: 1\n')]);
    assert.match(unknown.stderr, /unknown key sever/);
  });

  it('reports a data dir locked by a running server clearly', async () => {
    const { child } = await serve(dataDir);
    try {
      const r = shoplens(['query', '*', '--data-dir', dataDir]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /in use by another process.*--url/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});

describe('shoplens compiled to build/ (what bin/shoplens runs after npm ci)', () => {
  const root = new URL('../../', import.meta.url);
  const compiled = { SHOPLENS_FROM_SOURCE: '0' };
  let server: TestServer;
  before(async () => {
    // CI's npm ci has built it (prepare); a developer's tree may need a build after editing src/.
    if (!(buildIsCurrent as (root: URL) => boolean)(root)) {
      const build = spawnSync(process.execPath, ['scripts/build-server.mjs'], {
        cwd: root,
        encoding: 'utf8',
        timeout: 600_000,
      });
      assert.equal(build.status, 0, `npm run build failed:\n${build.stdout}${build.stderr}`);
    }
    server = await startTestServer();
  });
  after(async () => server?.close());

  it('prints the help, listing every command', () => {
    const r = shoplens(['--help'], compiled);
    assert.equal(r.status, 0, r.stderr);
    for (const name of ['serve', 'query', 'demo', 'import', 'rules', 'silences', 'keys', 'privacy', 'retention']) {
      assert.match(r.stdout, new RegExp(`^  ${name}\\b`, 'm'), `${name} in\n${r.stdout}`);
    }
    const demo = shoplens(['help', 'demo'], compiled);
    assert.match(demo.stdout, /--history <duration>/);
  });

  it('queries a running server with --url', async () => {
    const at = new Date().toISOString();
    const events = [1, 2, 3].map((n) =>
      JSON.stringify({ '@timestamp': at, event: { type: 'order_completed' }, order: { id: `ORD-${n}` } }),
    );
    assert.equal((await post(`${server.url}/api/v1/events?refresh=wait_for`, `${events.join('\n')}\n`)).status, 200);
    const r = await shoplensAsync(
      ['query', '--url', server.url, 'event.type:order_completed | stats count() as orders', '--format', 'json'],
      compiled,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /"orders":\s*3\b/);
  });

  it('lists each lazily loaded command with the description its module gives it', async () => {
    for (const lazy of LAZY_COMMANDS) {
      const program = new Command();
      (await lazy.load())(program);
      for (const [name, summary] of Object.entries(lazy.summaries)) {
        assert.equal(program.commands.find((c) => c.name() === name)?.description(), summary, name);
      }
    }
  });
});

function writeYaml(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}
