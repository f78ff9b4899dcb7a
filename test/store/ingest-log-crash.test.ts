/**
 * Kill -9 during sustained ingest. A real server runs in a child process;
 * four senders keep requests of 25 events in flight (each request's events
 * share a batch label), and the child is killed by SIGKILL at a random
 * moment — while requests are being appended, fsynced or loaded — or right
 * after a segment load committed and before its file was deleted. After
 * the last restart every acknowledged request is there exactly once, and
 * every request that is there at all is there whole.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rng } from '../helpers/rng.ts';
import { post, query, testDataDir } from '../helpers/server.ts';

const CHILD = fileURLToPath(new URL('./ingest-log-child.ts', import.meta.url));
const PER_REQUEST = 25;

interface Child {
  readonly process: ChildProcess;
  readonly url: string;
  stderr: string;
}

function startChild(dataDir: string, mode = ''): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const self = { process: child, url: '', stderr: '' };
    child.stderr?.on('data', (chunk: Buffer) => (self.stderr += chunk.toString('utf8')));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /LISTEN (\S+)\n/.exec(out);
      if (m) resolve(Object.assign(self, { url: m[1] as string }));
    });
    child.on('exit', (code, signal) => {
      if (!/LISTEN/.test(out)) reject(new Error(`child exited (${code ?? signal}) before listening:\n${self.stderr}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.on('exit', () => resolve()));
}

function body(batch: string): string {
  const now = Date.now();
  return Array.from({ length: PER_REQUEST }, (_, i) =>
    JSON.stringify({
      '@timestamp': new Date(now - i).toISOString(),
      event: { type: 'api_request', outcome: 'success', duration: 12 + i },
      service: { name: 'crash-test' },
      labels: { batch },
      message: `request ${batch} item ${i}`,
    }),
  ).join('\n');
}

describe('the ingest log under kill -9', { timeout: 240_000 }, () => {
  const dataDir = testDataDir();
  const acknowledged = new Set<string>();
  const sent = new Set<string>();
  let last: Child | undefined;

  after(async () => {
    last?.process.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * Sends from four senders until the child dies (killed `killAfterMs` after
   * the first acknowledgement, or by itself); answers how many requests were
   * acknowledged.
   */
  async function ingestUntilKilled(child: Child, round: number, killAfterMs: number | undefined): Promise<number> {
    let dead = false;
    child.process.on('exit', () => (dead = true));
    let acked = 0;
    const sender = async (s: number) => {
      for (let n = 0; !dead; n++) {
        const batch = `r${round}-s${s}-n${n}`;
        sent.add(batch);
        try {
          const r = await post(`${child.url}/api/v1/events`, body(batch));
          if (r.status === 200 && r.json.accepted === PER_REQUEST) {
            acknowledged.add(batch);
            // The clock of a random kill starts at the first acknowledgement (start-up time varies).
            if (acked++ === 0 && killAfterMs !== undefined)
              setTimeout(() => child.process.kill('SIGKILL'), killAfterMs);
          }
        } catch {
          // the server died with this request in flight: not acknowledged
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(sender));
    await exited(child.process);
    return acked;
  }

  it('keeps every acknowledged request exactly once, and no request in part', async () => {
    const random = rng(7);
    const rounds: { mode: string; killAfterMs?: number }[] = [
      { mode: '', killAfterMs: 400 + Math.floor(random() * 900) },
      { mode: 'after-load' },
      { mode: '', killAfterMs: 150 + Math.floor(random() * 400) },
      { mode: '', killAfterMs: 700 + Math.floor(random() * 1200) },
      { mode: 'after-load' },
    ];
    for (const [i, round] of rounds.entries()) {
      const child = await startChild(dataDir, round.mode);
      const acked = await ingestUntilKilled(child, i, round.killAfterMs);
      assert.equal(child.process.signalCode, 'SIGKILL', `round ${i} ended by SIGKILL`);
      assert.ok(acked > 0, `round ${i}: some requests were acknowledged before the kill`);
    }

    last = await startChild(dataDir);
    // Replay ran before the server listened; nothing acknowledged is still waiting.
    const r = await query(last.url, 'service.name:"crash-test" | stats count() as n by labels.batch | limit 100000');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const stored = new Map<string, number>(r.json.rows.map((row: [string, number]) => [row[0], row[1]]));
    for (const batch of acknowledged) {
      assert.equal(stored.get(batch), PER_REQUEST, `acknowledged request ${batch} is stored exactly once, whole`);
    }
    for (const [batch, n] of stored) {
      assert.ok(sent.has(batch), `${batch} was sent`);
      assert.equal(n, PER_REQUEST, `request ${batch} is there whole or not at all`);
    }
    assert.ok(acknowledged.size >= 20, `enough requests were acknowledged to mean something (${acknowledged.size})`);
  });
});
