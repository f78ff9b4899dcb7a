/**
 * Starts a real clickhouse-server for one test file: a fresh temp directory
 * holding a generated minimal config (HTTP, native and interserver ports
 * free on 127.0.0.1 only, every path inside the directory), waits until it
 * answers, and stops it by its PID and removes the directory. Without the
 * server installed the suite skips, except in CI (required-tool.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isExecutable, missingTool } from './required-tool.ts';

/** Debian's package installs it in /usr/sbin, ClickHouse's own packages in /usr/bin. */
const CANDIDATES = ['/usr/sbin/clickhouse-server', '/usr/bin/clickhouse-server'];

function serverBinary(): string | undefined {
  return CANDIDATES.find(isExecutable);
}

/**
 * True when clickhouse-server can run here; otherwise throws in CI and
 * answers false elsewhere (skip the suite), naming the Debian packages.
 */
export function clickhouseAvailable(what: string): boolean {
  if (serverBinary()) return true;
  return missingTool(what, [`${CANDIDATES.join(' or ')} (ClickHouse)`], ['clickhouse-server', 'clickhouse-client']);
}

export interface TestClickHouse {
  /** HTTP interface, e.g. http://127.0.0.1:12345 */
  readonly url: string;
  readonly httpPort: number;
  readonly tcpPort: number;
  readonly dir: string;
  readonly pid: number;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>;
}

/** The kernel's ephemeral port range (ports the test servers on port 0 take from). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (low > 0) return low;
  } catch {
    // not Linux
  }
  return 32768;
}

async function canListen(port: number): Promise<boolean> {
  const server = createNetServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => server.close(() => resolve()));
  return ok;
}

/**
 * Distinct ports free now, drawn below the ephemeral range (the server is
 * told them in its config, so they must not be taken by an outgoing
 * connection before it listens).
 */
async function freePorts(n: number): Promise<number[]> {
  const low = 10_000;
  const high = Math.max(low + 1000, ephemeralLow() - 1);
  const ports: number[] = [];
  for (let attempt = 0; attempt < 200 && ports.length < n; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (!ports.includes(port) && (await canListen(port))) ports.push(port);
  }
  if (ports.length < n) throw new Error(`no ${n} free ports in ${low}-${high}`);
  return ports;
}

function configXml(dir: string, http: number, tcp: number, interserver: number): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${dir}/log/server.log</log>
    <errorlog>${dir}/log/server.err.log</errorlog>
    <console>0</console>
  </logger>
  <http_port>${http}</http_port>
  <tcp_port>${tcp}</tcp_port>
  <interserver_http_port>${interserver}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <max_concurrent_queries>50</max_concurrent_queries>
  <mark_cache_size>134217728</mark_cache_size>
  <uncompressed_cache_size>134217728</uncompressed_cache_size>
</yandex>
`;
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;

async function ping(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) });
    return res.ok && (await res.text()).trim() === 'Ok.';
  } catch {
    return false;
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Starts a server; resolves once it answers /ping (within `timeoutMs`). */
export async function startClickHouse(timeoutMs = 30_000): Promise<TestClickHouse> {
  const dir = mkdtempSync(join(tmpdir(), 'shoplens-test-clickhouse-'));
  for (const sub of ['log', 'data', 'tmp', 'user_files', 'format_schemas']) mkdirSync(join(dir, sub));
  const [http, tcp, interserver] = (await freePorts(3)) as [number, number, number];
  writeFileSync(join(dir, 'config.xml'), configXml(dir, http, tcp, interserver));
  writeFileSync(join(dir, 'users.xml'), USERS_XML);
  const binary = serverBinary();
  if (!binary) throw new Error(`clickhouse-server not found at ${CANDIDATES.join(' or ')}`);
  const child = spawn(binary, [`--config-file=${join(dir, 'config.xml')}`], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 10_000) stderr += chunk.toString('utf8');
  });
  const url = `http://127.0.0.1:${http}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      if (!(await waitExit(child, 10_000)) && child.exitCode === null) {
        process.kill(child.pid, 'SIGKILL');
        await waitExit(child, 5_000);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (!(await ping(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      let log = '';
      try {
        log = readFileSync(join(dir, 'log', 'server.err.log'), 'utf8').slice(-2_000);
      } catch {
        // no log yet
      }
      await stop();
      throw new Error(`clickhouse-server did not start (exit ${child.exitCode}): ${stderr.slice(-2_000)}${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, httpPort: http, tcpPort: tcp, dir, pid: child.pid ?? 0, stop };
}
