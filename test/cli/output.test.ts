/**
 * `shoplens query`'s table and its summary line: apart (a blank line between
 * them) and in order, when both go to one terminal or file (`2>&1`), even
 * when stdout is slower than stderr.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { printAnswer } from '../../src/cli/output.ts';
import type { QueryAnswer } from '../../src/store/query-service.ts';
import { BIN } from '../helpers/cli.ts';
import { testDataDir } from '../helpers/server.ts';

const SUMMARY = /^\d+ rows, \d+ events in range, [\d.]+ ms \(.+ → .+\)$/;

describe('shoplens query output', () => {
  const dataDir = testDataDir();
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints a blank line between the table and the summary in one stream (2>&1)', () => {
    // One pipe for both streams, as a terminal or `> file 2>&1` shows them.
    const r = spawnSync(
      '/bin/sh',
      ['-c', `"${process.execPath}" "${BIN}" query '* | stats count() as events' --data-dir "${dataDir}" 2>&1`],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stdout);
    const lines = r.stdout.trimEnd().split('\n');
    const bottom = lines.findIndex((l) => l.startsWith('└'));
    assert.ok(bottom > 0, r.stdout);
    assert.equal(lines[bottom + 1], '', `a blank line under the table:\n${r.stdout}`);
    assert.match(lines[bottom + 2] ?? '', SUMMARY);
    assert.equal(lines.length, bottom + 3, r.stdout);
  });

  it('writes the summary only after stdout has taken the table', async () => {
    const transcript: string[] = [];
    // A stdout that takes its time (an asynchronous pipe), a stderr that writes at once.
    const slowOut = new Writable({
      write(chunk: Buffer, _enc, cb) {
        setTimeout(() => {
          transcript.push(chunk.toString());
          cb();
        }, 20);
      },
    });
    const fastErr = new Writable({
      write(chunk: Buffer, _enc, cb) {
        transcript.push(chunk.toString());
        cb();
      },
    });
    const answer: QueryAnswer = {
      columns: [{ name: 'gateway', type: 'string' }],
      rows: [['stripe'], ['adyen']],
      stats: { elapsedMs: 3, rowsScanned: 2 },
      range: { from: '2025-01-01T00:00:00.000Z', to: '2025-01-01T01:00:00.000Z' },
      warnings: [],
    };
    await printAnswer(answer, 'table', slowOut, fastErr);
    const text = transcript.join('');
    assert.ok(text.includes('stripe'), text);
    assert.match(
      text,
      /┘\n\n2 rows, 2 events in range, 3 ms \(2025-01-01T00:00:00.000Z → 2025-01-01T01:00:00.000Z\)\n$/,
    );
  });

  it('prints unknown-field warnings on stderr, whatever the format, keeping stdout clean', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const sink = (into: string[]) =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          into.push(chunk.toString());
          cb();
        },
      });
    const message =
      'No field "transaction.gatway": it is not in the field catalog; did you mean "transaction.gateway"?';
    const answer: QueryAnswer = {
      columns: [{ name: 'n', type: 'integer' }],
      rows: [[0]],
      stats: { elapsedMs: 1, rowsScanned: 0 },
      range: { from: '2025-01-01T00:00:00.000Z', to: '2025-01-01T01:00:00.000Z' },
      warnings: [
        {
          code: 'query.unknown_field',
          field: 'transaction.gatway',
          suggestions: ['transaction.gateway'],
          position: 0,
          message,
        },
      ],
    };
    await printAnswer(answer, 'json', sink(out), sink(err));
    assert.deepEqual(JSON.parse(out.join('')), [{ n: 0 }]);
    assert.equal(err.join(''), `warning: ${message}\n`);
  });
});
