/**
 * The rules directory: absent means "no custom rules"; one that exists but
 * cannot be read fails loudly, naming the path (it used to be skipped as if
 * absent, so custom rules were silently not loaded).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadRuleDirectory, RuleDirectoryError } from '../../src/alerts/rule-files.ts';

const RULE = `rules:
  - name: custom_errors
    query: "log.level:ERROR | stats count() as errors"
    condition: errors > 5
    severity: warning
`;

describe('loadRuleDirectory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoplens-test-rules-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the rules of an existing directory', () => {
    writeFileSync(join(dir, 'custom.yaml'), RULE);
    const result = loadRuleDirectory(dir, false);
    assert.deepEqual(
      result.rules.map((r) => r.id),
      ['custom_errors'],
    );
    assert.deepEqual(result.problems, []);
  });

  it('treats a directory that does not exist as no custom rules', () => {
    const result = loadRuleDirectory(join(dir, 'missing'), false);
    assert.deepEqual(result.rules, []);
    assert.deepEqual(result.problems, []);
  });

  it('fails with the path when the rules path is a file', () => {
    const file = join(dir, 'custom.yaml');
    assert.throws(
      () => loadRuleDirectory(file, false),
      (err: unknown) =>
        err instanceof RuleDirectoryError &&
        err.message === `cannot read the rules directory ${file}: it is not a directory`,
    );
  });

  it('fails with the path and the cause when a parent is not a directory (ENOTDIR)', () => {
    const below = join(dir, 'custom.yaml', 'rules');
    assert.throws(
      () => loadRuleDirectory(below, true),
      (err: unknown) =>
        err instanceof RuleDirectoryError &&
        err.message.startsWith(`cannot read the rules directory ${below}: ENOTDIR`),
    );
  });
});
