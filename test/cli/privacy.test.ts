/**
 * `shoplens privacy erase|export` and `shoplens retention run|status` on a
 * data directory, as the operator runs them with the server stopped.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { post, startTestServer, testDataDir } from '../helpers/server.ts';
import { shoplensSync as shoplens } from '../helpers/cli.ts';

describe('shoplens privacy and retention', () => {
  const dataDir = testDataDir();

  before(async () => {
    const srv = await startTestServer({}, dataDir);
    const ts = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString();
    const lines = [
      { '@timestamp': ts(0.01), event: { type: 'order_completed' }, customer: { id: 'cust_9' } },
      { '@timestamp': ts(0.02), event: { type: 'page_view' }, user: { id: 'cust_9' } },
      { '@timestamp': ts(0.03), event: { type: 'order_completed' }, customer: { id: 'cust_1' } },
      { '@timestamp': ts(45), message: 'an old app log' },
    ];
    const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, lines.map((l) => JSON.stringify(l)).join('\n'));
    assert.equal(r.json.accepted, 4);
    await srv.close({ keepData: true });
  });
  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('exports a customer to a private file, previews an erasure, then erases with --yes', () => {
    const file = join(dataDir, 'cust_9.json');
    const exported = shoplens([
      'privacy',
      'export',
      '--customer-id',
      'cust_9',
      '--data-dir',
      dataDir,
      '--output',
      file,
    ]);
    assert.equal(exported.status, 0, exported.stderr);
    assert.match(exported.stderr, /Wrote 2 events/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { count: number }).count, 2);

    const preview = shoplens(['privacy', 'erase', '--customer-id', 'cust_9', '--data-dir', dataDir]);
    assert.equal(preview.status, 0, preview.stderr);
    assert.match(preview.stderr, /Would erase 2 events .*--yes/);
    const erased = shoplens(['privacy', 'erase', '--customer-id', 'cust_9', '--data-dir', dataDir, '--yes']);
    assert.equal(erased.status, 0, erased.stderr);
    assert.equal((JSON.parse(erased.stdout) as { deleted: number }).deleted, 2);
    const left = shoplens([
      'query',
      'customer.id:cust_9 OR user.id:cust_9 | stats count() as n',
      '--from',
      'now-1d',
      '--data-dir',
      dataDir,
      '--format',
      'json',
    ]);
    assert.deepEqual(JSON.parse(left.stdout), [{ n: 0 }]);
    const none = shoplens(['privacy', 'erase', '--data-dir', dataDir]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /--customer-id or --email/);
  });

  it('runs retention and shows the policy and the last run', () => {
    const run = shoplens(['retention', 'run', '--data-dir', dataDir]);
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { deleted: number; classes: Record<string, { deleted: number }> };
    assert.equal(report.classes['app']?.deleted, 1);
    const status = shoplens(['retention', 'status', '--data-dir', dataDir]);
    assert.equal(status.status, 0, status.stderr);
    assert.deepEqual((JSON.parse(status.stdout) as { policy: unknown }).policy, {
      app: '30d',
      security: '365d',
      audit: '2555d',
      business: '365d',
    });
  });
});
