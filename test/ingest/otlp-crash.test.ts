/**
 * Kill -9 during OTLP ingest: a real server in a child process takes OTLP
 * trace and log requests from four senders and is killed by SIGKILL at a
 * random moment. After a restart every acknowledged request is there whole
 * (ack = durable: spans are committed in DuckDB, log records in the ingest
 * log, before the 200), and every trace that is there at all is whole.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rng } from '../helpers/rng.ts';
import { testDataDir } from '../helpers/server.ts';

const CHILD = fileURLToPath(new URL('../store/ingest-log-child.ts', import.meta.url));
const SPANS = 20;

function startChild(dataDir: string): Promise<{ process: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /LISTEN (\S+)\n/.exec(out);
      if (m) resolve({ process: child, url: m[1] as string });
    });
    child.on('exit', (code, signal) => {
      if (!/LISTEN/.test(out)) reject(new Error(`child exited (${code ?? signal}) before listening:\n${err}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.on('exit', () => resolve()));
}

const hex = (n: number, bytes: number): string => n.toString(16).padStart(bytes * 2, '0');
const attr = (key: string, value: string) => ({ key, value: { stringValue: value } });

function traceBody(n: number): string {
  const start = BigInt(Date.now() - 10_000) * 1_000_000n;
  const spans = Array.from({ length: SPANS }, (_, i) => ({
    traceId: hex(n + 1, 16),
    spanId: hex(i + 1, 8),
    parentSpanId: i === 0 ? '' : hex(1, 8),
    name: `op-${i}`,
    kind: i === 0 ? 2 : 3,
    startTimeUnixNano: String(start + BigInt(i) * 1_000_000n),
    endTimeUnixNano: String(start + BigInt(i + 5) * 1_000_000n),
  }));
  return JSON.stringify({
    resourceSpans: [{ resource: { attributes: [attr('service.name', 'crash-otlp')] }, scopeSpans: [{ spans }] }],
  });
}

function logBody(n: number): string {
  const time = String(BigInt(Date.now()) * 1_000_000n);
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [attr('service.name', 'crash-otlp')] },
        scopeLogs: [
          {
            logRecords: Array.from({ length: 5 }, (_, i) => ({
              timeUnixNano: time,
              severityNumber: 9,
              body: { stringValue: `log ${n}.${i}` },
              attributes: [attr('batch', `b${n}`)],
            })),
          },
        ],
      },
    ],
  });
}

describe('OTLP ingest survives kill -9', { timeout: 120_000 }, () => {
  const dataDir = testDataDir();
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps every acknowledged span and log record, and no partial trace', async () => {
    const random = rng(14);
    const child = await startChild(dataDir);
    const acked = { traces: new Set<number>(), logs: new Set<number>() };
    let next = 0;
    let stop = false;
    const sender = async () => {
      while (!stop) {
        const n = next++;
        const [path, body, set] =
          n % 3 === 2 ? ['/v1/logs', logBody(n), acked.logs] : ['/v1/traces', traceBody(n), acked.traces];
        try {
          const r = await fetch(`${child.url}${path}`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json' },
          });
          await r.arrayBuffer();
          if (r.status === 200) set.add(n);
        } catch {
          return; // the server is gone
        }
      }
    };
    const senders = Array.from({ length: 4 }, sender);
    await new Promise((resolve) => setTimeout(resolve, 400 + Math.floor(random() * 800)));
    child.process.kill('SIGKILL');
    stop = true;
    await exited(child.process);
    await Promise.all(senders);
    assert.ok(
      acked.traces.size > 0 && acked.logs.size > 0,
      `acked ${acked.traces.size} traces, ${acked.logs.size} logs`,
    );

    const again = await startChild(dataDir);
    try {
      for (let n = 0; n < next; n++) {
        if (n % 3 === 2) continue;
        const r = await fetch(`${again.url}/api/v1/traces/${hex(n + 1, 16)}`);
        const body = (await r.json()) as { spanCount?: number };
        if (acked.traces.has(n)) assert.equal(r.status, 200, `acknowledged trace ${n} is lost`);
        if (r.status === 200) assert.equal(body.spanCount, SPANS, `trace ${n} is partial`);
        else assert.equal(r.status, 404);
      }
      const q = await fetch(`${again.url}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'event.type:log service.name:"crash-otlp" | stats count() as n by batch',
          from: 'now-1h',
          to: 'now+1h',
        }),
      });
      // The ingest log is replayed at open, before the server listens: every acknowledged record is visible.
      const rows = ((await q.json()) as { rows: [string, number][] }).rows;
      const counts = new Map(rows.map(([batch, n]) => [batch, n]));
      for (const n of acked.logs) assert.equal(counts.get(`b${n}`), 5, `acknowledged log request ${n}`);
      for (const n of counts.values()) assert.equal(n, 5, 'a log request is there whole or not at all');
    } finally {
      again.process.kill('SIGKILL');
      await exited(again.process);
    }
  });
});
