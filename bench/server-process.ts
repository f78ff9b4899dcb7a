/**
 * Shoplens as a separate process, as an operator runs it: `node bin/shoplens
 * serve` on 127.0.0.1 with a temp data directory, API keys on and the
 * default redaction. Reads what the kernel says about it (/proc: RSS, peak
 * RSS, CPU ticks) and what it says about itself (/metrics).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain JavaScript build script, without type declarations
import { buildIsCurrent } from '../scripts/build-server.mjs';

const ROOT = new URL('../', import.meta.url);
/** Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`; 100 on every Linux we run on). */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Memory of a process from /proc/<pid>/status, bytes. */
export interface ProcessMemory {
  /** Resident set size now (VmRSS). */
  readonly rss: number;
  /** Peak resident set size since start (VmHWM). */
  readonly peakRss: number;
}

export interface ServerProcess {
  readonly pid: number;
  readonly url: string;
  readonly dataDir: string;
  /** The admin key printed at first start (queries, /metrics, creating keys). */
  readonly adminKey: string;
  /** Whether it runs the compiled build/ (as `npm start` does) or the sources through tsx. */
  readonly compiled: boolean;
  memory(): ProcessMemory;
  /** CPU time of the whole process (every thread) since start, µs. */
  cpuMicros(): number;
  /** CPU time of its main thread (HTTP, answers, commit orchestration) since start, µs. */
  mainThreadCpuMicros(): number;
  /** GET /metrics, parsed: sample name with labels → value. */
  metrics(): Promise<Map<string, number>>;
  /** Creates an API key through POST /api/v1/keys; answers the key. */
  createKey(role: 'ingest' | 'read' | 'admin'): Promise<string>;
  /** SIGTERM by PID, SIGKILL after `graceMs`; removes the data directory. */
  stop(graceMs?: number): Promise<void>;
}

/** A port nobody listens on now (the kernel's choice for port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

const isCurrent = (): boolean => buildIsCurrent(ROOT) as boolean;

/** Compiles src/ to build/ when it is stale, so the server runs as it does in production (not through tsx). */
export function ensureBuild(log: (line: string) => void): boolean {
  if (isCurrent()) return true;
  const t0 = performance.now();
  const result = spawnSync(process.execPath, [fileURLToPath(new URL('scripts/build-server.mjs', ROOT))], {
    cwd: fileURLToPath(ROOT),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const ok = result.status === 0 && isCurrent();
  log(
    ok
      ? `server: compiled src/ to build/ in ${((performance.now() - t0) / 1000).toFixed(1)} s (npm run build)`
      : 'server: build/ could not be made; the server runs the sources through tsx (RSS and CPU include tsx)',
  );
  return ok;
}

/** Parses Prometheus text exposition into `name{labels}` → value (comments skipped). */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (space > 0) samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

function readMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') * 1024, peakRss: kb('VmHWM') * 1024 };
}

/** utime + stime of /proc/<pid>/stat (a process) or /proc/<pid>/task/<tid>/stat (one thread), µs. */
function readCpuMicros(statPath: string): number {
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
  const stat = readFileSync(statPath, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the line)
  return (ticks / CLOCK_TICKS) * 1e6;
}

/** Waits for the admin key on stderr and for /health to answer. */
async function waitUntilUp(child: ChildProcess, url: string, stderr: () => string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`shoplens serve exited with ${child.exitCode}: ${stderr().slice(-2000)}`);
    const key = /^\s+(slk_\S+)\s*$/m.exec(stderr())?.[1];
    if (key) {
      const health = await fetch(`${url}/health`).catch(() => undefined);
      if (health?.ok) return key;
    }
    if (Date.now() > deadline) throw new Error(`shoplens serve did not come up in ${timeoutMs} ms: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts `shoplens serve` with its defaults except: a temp data dir, a free
 * loopback port, log level warn, no retention job, and `env` (the bench
 * turns the per-tenant ingest rate limit off: 64 MB/s is below the
 * payment-event target).
 */
export async function startServerProcess(
  env: Record<string, string>,
  compiled: boolean,
  /** More `serve` arguments (the alert bench passes `--config <file>`). */
  args: readonly string[] = [],
): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'shoplens-bench-serve-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      fileURLToPath(new URL('bin/shoplens', ROOT)),
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      ...args,
    ],
    {
      cwd: dataDir, // no ./shoplens.yaml of whatever directory the bench runs in
      env: {
        ...process.env,
        SHOPLENS_LOG_LEVEL: 'warn',
        SHOPLENS_AUTH: 'keys',
        SHOPLENS_RETENTION_INTERVAL: '0ms',
        SHOPLENS_FROM_SOURCE: compiled ? '0' : '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    // Keep the start (the key) and the latest tail; a long run must not grow this.
    err = err.length < 64_000 ? err + c : err.slice(0, 16_000) + err.slice(-16_000) + c;
  });
  child.stdout?.resume();
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn shoplens serve');
  // Should the bench die before stop(), the server must not outlive it.
  const killOnExit = (): void => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let adminKey: string;
  try {
    adminKey = await waitUntilUp(child, url, () => err, 60_000);
  } catch (e) {
    process.off('exit', killOnExit);
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const auth = { authorization: `Bearer ${adminKey}` };
  return {
    pid,
    url,
    dataDir,
    adminKey,
    compiled,
    memory: () => readMemory(pid),
    cpuMicros: () => readCpuMicros(`/proc/${pid}/stat`),
    mainThreadCpuMicros: () => readCpuMicros(`/proc/${pid}/task/${pid}/stat`),
    async metrics() {
      const r = await fetch(`${url}/metrics`, { headers: auth });
      if (!r.ok) throw new Error(`GET /metrics: ${r.status}`);
      return parseMetrics(await r.text());
    },
    async createKey(role) {
      const r = await fetch(`${url}/api/v1/keys`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ tenant: 'default', role, name: `bench ${role}` }),
      });
      const answer = (await r.json()) as { key?: string };
      if (!r.ok || !answer.key) throw new Error(`POST /api/v1/keys: ${r.status} ${JSON.stringify(answer)}`);
      return answer.key;
    },
    async stop(graceMs = 15_000) {
      process.off('exit', killOnExit);
      if (child.exitCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        process.kill(pid, 'SIGTERM');
        const timer = setTimeout(() => {
          if (child.exitCode === null) process.kill(pid, 'SIGKILL');
        }, graceMs);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
