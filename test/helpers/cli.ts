/** Runs `bin/shoplens` as a user would, for the CLI tests. */
import { spawn, spawnSync } from 'node:child_process';

export const BIN = new URL('../../bin/shoplens', import.meta.url).pathname;

/**
 * Tests run the sources (through tsx), not a build/ that may predate them:
 * every `bin/shoplens` a test file starts inherits this. A test of the
 * compiled entry passes `SHOPLENS_FROM_SOURCE: '0'`.
 */
process.env['SHOPLENS_FROM_SOURCE'] ??= '1';
/** Every server a CLI test starts binds OTLP/gRPC on a free port, never the shared 4317. */
process.env['SHOPLENS_OTLP_GRPC_PORT'] ??= '0';

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs to completion, blocking (fine when no test server in this process must answer it). */
export function shoplensSync(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs without blocking the event loop (a test server in this process may be answering it). */
export function shoplens(args: string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
}
