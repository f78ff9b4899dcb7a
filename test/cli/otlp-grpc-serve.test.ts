/**
 * `shoplens serve` starts OTLP/gRPC beside the HTTP server on
 * `otlp.grpc.port` (here 0, a free port, from the environment), stops it on
 * SIGTERM, and leaves it off with `SHOPLENS_OTLP_GRPC_ENABLED=false`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { BIN } from '../helpers/cli.ts';
import { testDataDir } from '../helpers/server.ts';

const PROTO = fileURLToPath(new URL('../../proto/', import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(PROTO, target);
root.loadSync(['opentelemetry/proto/collector/trace/v1/trace_service.proto']);
const TraceRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

interface Served {
  child: ChildProcess;
  url: string;
  key: string;
  output: () => string;
}

/** Runs `shoplens serve` until its HTTP server listens. */
function serve(dataDir: string, env: Record<string, string> = {}, args: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Shoplens listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        const key = /slk_[A-Za-z0-9]{10}_[A-Za-z0-9_-]{32}/.exec(out)?.[0] ?? '';
        resolve({ child, url: m[1] as string, key, output: () => out });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('shoplens serve with OTLP/gRPC', () => {
  const dirs: string[] = [];
  before(() => {
    dirs.push(testDataDir(), testDataDir(), testDataDir());
  });
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('serves OTLP/gRPC on its own port, with the HTTP API reading what it took, and stops on SIGTERM', async () => {
    const served = await serve(dirs[0] as string, { SHOPLENS_OTLP_GRPC_PORT: '0' });
    try {
      const m = /OTLP\/gRPC listening on 127\.0\.0\.1:(\d+)/.exec(served.output());
      assert.ok(m, served.output());
      const port = Number(m[1]);
      assert.ok(port > 0 && port !== Number(new URL(served.url).port));
      assert.match(served.key, /^slk_/);
      const traceId = 'ab'.repeat(16);
      const body = Buffer.from(
        TraceRequest.encode(
          TraceRequest.fromObject({
            resourceSpans: [
              {
                resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cli-service' } }] },
                scopeSpans: [
                  {
                    spans: [
                      {
                        traceId: Buffer.from(traceId, 'hex'),
                        spanId: Buffer.from('cd'.repeat(8), 'hex'),
                        name: 'GET /health',
                        kind: 2,
                        startTimeUnixNano: String(BigInt(Date.now() - 1000) * 1_000_000n),
                        endTimeUnixNano: String(BigInt(Date.now() - 990) * 1_000_000n),
                      },
                    ],
                  },
                ],
              },
            ],
          }),
        ).finish(),
      );
      const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${served.key}`);
      const err = await new Promise<grpc.ServiceError | null>((resolve) =>
        client.makeUnaryRequest(
          '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
          (b: Buffer) => b,
          (b: Buffer) => b,
          body,
          metadata,
          (e) => resolve(e ?? null),
        ),
      );
      client.close();
      assert.equal(err, null);
      const r = await fetch(`${served.url}/api/v1/traces/${traceId}`, {
        headers: { authorization: `Bearer ${served.key}` },
      });
      assert.equal(r.status, 200);
      assert.deepEqual(((await r.json()) as any).services, ['cli-service']);
    } finally {
      assert.equal(await stop(served.child), 0, served.output());
    }
  });

  it('leaves OTLP/gRPC off with otlp.grpc.enabled = false, or --no-grpc', async () => {
    for (const [env, args] of [
      [{ SHOPLENS_OTLP_GRPC_ENABLED: 'false' }, []],
      [{}, ['--no-grpc']],
    ] as const) {
      const served = await serve(dirs[1] as string, env, [...args]);
      try {
        assert.match(served.output(), /Shoplens listening/);
        assert.doesNotMatch(served.output(), /OTLP\/gRPC/);
      } finally {
        await stop(served.child);
      }
    }
  });

  it('keeps serving HTTP (OTLP/HTTP included) when the gRPC port is taken, and says so', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as { port: number }).port;
    try {
      // --grpc-port wins over the environment's 0 (test/helpers/cli.ts).
      const served = await serve(dirs[2] as string, {}, ['--grpc-port', String(taken)]);
      try {
        assert.match(served.output(), new RegExp(`OTLP/gRPC could not listen on 127\\.0\\.0\\.1:${taken}`));
        const r = await fetch(`${served.url}/health`);
        assert.equal(r.status, 200);
      } finally {
        await stop(served.child);
      }
    } finally {
      holder.close();
    }
  });
});
