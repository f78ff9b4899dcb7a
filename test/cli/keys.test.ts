/**
 * `shoplens keys` as an operator runs it: on the data directory while the
 * server is stopped, and through a running server with an admin key; and
 * `auth: none` keeping the server on loopback.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { testDataDir } from '../helpers/server.ts';
import { BIN, shoplensSync } from '../helpers/cli.ts';

/** The CLI with no key from the environment unless a test gives one. */
const shoplens = (args: string[], env: Record<string, string> = {}) =>
  shoplensSync(args, { SHOPLENS_API_KEY: '', ...env });

/** Runs `shoplens serve` until it listens; answers its URL and everything it printed so far. */
async function serve(dataDir: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  };
  return { url, output: () => out, stop };
}

describe('shoplens keys', () => {
  let dataDir: string;
  before(() => {
    dataDir = testDataDir();
  });
  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the Sentry DSN of a key made for a project', () => {
    const dir = testDataDir();
    try {
      const created = shoplens([
        'keys',
        'create',
        '--tenant',
        'shop-s',
        '--role',
        'ingest',
        '--project',
        '42',
        '--public-url',
        'https://shoplens.example:8443',
        '--data-dir',
        dir,
      ]);
      assert.equal(created.status, 0, created.stderr);
      const [key, dsn] = created.stdout.trim().split('\n');
      assert.match(key ?? '', /^slk_[A-Za-z0-9]{10}_[A-Za-z0-9]{32}$/);
      assert.equal(dsn, `https://${key}@shoplens.example:8443/42`);
      assert.match(created.stderr, /Sentry DSN/);
      const bad = shoplens([
        'keys',
        'create',
        '--tenant',
        'shop-s',
        '--role',
        'ingest',
        '--project',
        'abc',
        '--data-dir',
        dir,
      ]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /--project must be a Sentry project id/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creates, lists and revokes keys on the data directory, and the server honours them', async () => {
    const created = shoplens([
      'keys',
      'create',
      '--tenant',
      'shop-x',
      '--role',
      'read',
      '--name',
      'wallboard',
      '--data-dir',
      dataDir,
    ]);
    assert.equal(created.status, 0, created.stderr);
    const key = created.stdout.trim();
    assert.match(key, /^slk_[A-Za-z0-9]{10}_[A-Za-z0-9_-]{32}$/);
    assert.match(created.stderr, /Created read key .* for tenant shop-x/);
    const list = shoplens(['keys', 'list', '--data-dir', dataDir, '--json']);
    assert.equal(list.status, 0, list.stderr);
    const listed = JSON.parse(list.stdout) as { id: string; tenant: string; role: string; name: string }[];
    assert.deepEqual(
      listed.map((k) => [k.tenant, k.role, k.name]),
      [['shop-x', 'read', 'wallboard']],
    );
    assert.ok(!list.stdout.includes(key.split('_')[2] as string), 'the secret is never listed');

    // A data dir with a key: the server does not mint a first key, and the key works.
    const server = await serve(dataDir);
    try {
      assert.doesNotMatch(server.output(), /slk_/);
      const ok = await fetch(`${server.url}/api/v1/fields`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(ok.status, 200);
      const viaUrl = shoplens(['keys', 'list', '--url', server.url, '--api-key', key]);
      assert.equal(viaUrl.status, 1, 'a read key may not manage keys');
      assert.match(viaUrl.stderr, /role "read"; this route needs "admin"/);
    } finally {
      await server.stop();
    }
    const revoked = shoplens(['keys', 'revoke', listed[0]!.id, '--data-dir', dataDir]);
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.match(revoked.stderr, /Revoked key/);
    const again = await serve(dataDir);
    try {
      // No active key left: a new first key is printed; the revoked one is refused.
      const first = /slk_[A-Za-z0-9]{10}_[A-Za-z0-9_-]{32}/.exec(again.output())?.[0];
      assert.ok(first, 'a new operator key is printed');
      assert.equal(
        (await fetch(`${again.url}/api/v1/fields`, { headers: { authorization: `Bearer ${key}` } })).status,
        401,
      );
      const made = shoplens(['keys', 'create', '--tenant', 'shop-y', '--role', 'ingest', '--url', again.url], {
        SHOPLENS_API_KEY: first,
      });
      assert.equal(made.status, 0, made.stderr);
      const ingestKey = made.stdout.trim();
      const sent = await fetch(`${again.url}/api/v1/events?refresh=wait_for`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'hello from shop-y' }),
      });
      assert.equal(sent.status, 200);
      // The key is in the one-time notice only, never in a (JSON) log line.
      const logLines = again
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'));
      assert.ok(logLines.length > 0);
      assert.ok(logLines.every((l) => !l.includes('slk_')));
    } finally {
      await again.stop();
    }
    const bad = shoplens(['keys', 'create', '--tenant', 'Shop X!', '--role', 'read', '--data-dir', dataDir]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /tenant "Shop X!" must be/);
    const badRole = shoplens(['keys', 'create', '--tenant', 'a', '--role', 'root', '--data-dir', dataDir]);
    assert.match(badRole.stderr, /--role must be one of ingest, read, admin/);
  });

  it('with auth: none, listens on loopback only and says so', async () => {
    const dir = testDataDir();
    try {
      const server = await serve(dir, { SHOPLENS_AUTH: 'none', SHOPLENS_SERVER_HOST: '0.0.0.0' });
      try {
        assert.match(server.url, /^http:\/\/127\.0\.0\.1:/);
        assert.match(server.output(), /auth is \\"none\\": listening on 127\.0\.0\.1 only instead of 0\.0\.0\.0/);
        assert.match(server.output(), /with auth: none \(no API keys; loopback only\)/);
        assert.equal((await fetch(`${server.url}/api/v1/fields`)).status, 200);
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
