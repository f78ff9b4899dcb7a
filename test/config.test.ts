import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('config', () => {
  it('has sane defaults: loopback, port 8080, ./data', () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.server.host, '127.0.0.1');
    assert.equal(c.server.port, 8080);
    assert.equal(c.dataDir, './data');
    assert.equal(c.ingest.maxFutureSkew, 3_600_000);
    assert.equal(c.query.timeout, 30_000);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.server));
  });

  it('applies defaults < file < environment < flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoplens-test-'));
    try {
      const file = join(dir, 'shoplens.yaml');
      writeFileSync(
        file,
        'server:\n  port: 9000\n  host: 0.0.0.0\nquery:\n  timeout: 5s\ningest:\n  maxLineBytes: 64kb\n',
      );
      const fromFile = loadConfig({ file, env: {} });
      assert.equal(fromFile.server.port, 9000);
      assert.equal(fromFile.query.timeout, 5000);
      assert.equal(fromFile.ingest.maxLineBytes, 65536);
      const withEnv = loadConfig({ file, env: { SHOPLENS_SERVER_PORT: '9100', SHOPLENS_QUERY_DEFAULT_LIMIT: '7' } });
      assert.equal(withEnv.server.port, 9100);
      assert.equal(withEnv.server.host, '0.0.0.0');
      assert.equal(withEnv.query.defaultLimit, 7);
      const withFlags = loadConfig({ file, env: { SHOPLENS_SERVER_PORT: '9100' }, flags: { server: { port: 9200 } } });
      assert.equal(withFlags.server.port, 9200);
      const json = loadConfig({ env: { SHOPLENS_INGEST_INDEX_DATA_CLASS: '{"pos-*":"business"}' } });
      assert.deepEqual(json.ingest.indexDataClass, { 'pos-*': 'business' });
      // Booleans read true/false from the environment, as from the YAML file.
      assert.equal(loadConfig({ env: { SHOPLENS_ALERTS_ENABLED: 'false' } }).alerts.enabled, false);
      assert.equal(loadConfig({ env: { SHOPLENS_ALERTS_ENABLED: 'TRUE' } }).alerts.enabled, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names key, value, source and expectation for bad values', () => {
    assert.throws(
      () => loadConfig({ env: { SHOPLENS_QUERY_TIMEOUT: 'forever' } }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /query\.timeout = "forever" \(from environment SHOPLENS_QUERY_TIMEOUT\): expected a duration/.test(err.message),
    );
    assert.throws(
      () => loadConfig({ env: {}, flags: { store: { engine: 'oracle' } } }),
      (err: unknown) =>
        err instanceof ConfigError && /store\.engine = "oracle" \(from command-line flags\)/.test(err.message),
    );
    assert.throws(
      () => loadConfig({ env: { SHOPLENS_STORE_SEGMENT_ROWS: '50000' } }),
      (err: unknown) =>
        err instanceof ConfigError && /store\.segmentRows = "50000".*multiple of 2048/.test(err.message),
    );
    assert.equal(loadConfig({ env: { SHOPLENS_STORE_SEGMENT_ROWS: '65536' } }).store.segmentRows, 65536);
    const dir = mkdtempSync(join(tmpdir(), 'shoplens-test-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, 'server:\n  port: [1\n');
      assert.throws(() => loadConfig({ file, env: {} }), /not valid YAML at line \d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads __proto__ and constructor in a file or in JSON from the environment as keys, not as prototypes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoplens-test-'));
    try {
      const file = join(dir, 'proto.yaml');
      writeFileSync(file, '__proto__:\n  polluted: 1\nserver:\n  port: 9000\n');
      // The key itself is reported (it used to become the merged object's prototype, reported as "polluted").
      assert.throws(
        () => loadConfig({ file, env: {} }),
        (err: unknown) => err instanceof ConfigError && /unknown key __proto__/.test(err.message),
      );
      const c = loadConfig({
        env: { SHOPLENS_INGEST_INDEX_DATA_CLASS: '{"__proto__":"audit","constructor":"security","logs-*":"app"}' },
      });
      assert.deepEqual(Object.entries(c.ingest.indexDataClass), [
        ['constructor', 'security'],
        ['logs-*', 'app'],
      ]);
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
