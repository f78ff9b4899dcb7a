/**
 * Real peers for the tests, on loopback: an HTTP recorder (Slack, PagerDuty,
 * webhook), a real SMTP server (Debian python3-aiosmtpd), a real Prometheus
 * Alertmanager (Debian prometheus-alertmanager), and promtool (Debian
 * prometheus) for the /metrics format. `requirePeers` is the one check of
 * whether they are installed: a failure in CI, a loud skip elsewhere.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { isExecutable, missingTool } from '../helpers/required-tool.ts';

/** The Python that runs smtp_sink.py; `SHOPLENS_TEST_PYTHON` overrides it. */
export const PYTHON = process.env['SHOPLENS_TEST_PYTHON'] || '/usr/bin/python3';
/** `SHOPLENS_TEST_ALERTMANAGER` overrides the Alertmanager binary. */
export const ALERTMANAGER_BIN = process.env['SHOPLENS_TEST_ALERTMANAGER'] || '/usr/bin/prometheus-alertmanager';
/** `SHOPLENS_TEST_PROMETHEUS` overrides the Prometheus server binary. */
export const PROMETHEUS_BIN = process.env['SHOPLENS_TEST_PROMETHEUS'] || '/usr/bin/prometheus';

/** promtool: `SHOPLENS_TEST_PROMTOOL`, else the first on PATH, else /usr/bin/promtool; undefined when none. */
export function promtoolPath(): string | undefined {
  const override = process.env['SHOPLENS_TEST_PROMTOOL'];
  if (override) return isExecutable(override) ? override : undefined;
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), '/usr/bin'];
  return dirs.map((d) => join(d, 'promtool')).find(isExecutable);
}

/** The programs the tests drive for real, each with what is missing and its Debian package. */
const PEERS = {
  smtp: () =>
    isExecutable(PYTHON) && spawnSync(PYTHON, ['-c', 'import aiosmtpd'], { stdio: 'ignore' }).status === 0
      ? undefined
      : {
          missing: `the SMTP server (${PYTHON} with the aiosmtpd module)`,
          package: 'python3-aiosmtpd',
        },
  alertmanager: () =>
    isExecutable(ALERTMANAGER_BIN)
      ? undefined
      : { missing: `${ALERTMANAGER_BIN} (Alertmanager)`, package: 'prometheus-alertmanager' },
  promtool: () => (promtoolPath() ? undefined : { missing: 'promtool (on PATH or /usr/bin)', package: 'prometheus' }),
  prometheus: () =>
    isExecutable(PROMETHEUS_BIN) ? undefined : { missing: `${PROMETHEUS_BIN} (Prometheus)`, package: 'prometheus' },
} as const;

/**
 * True when every named peer is installed. Otherwise, in CI, throws naming
 * each missing one and how to install it (the suite fails); elsewhere says
 * loudly that `what` is skipped and answers false.
 */
export function requirePeers(what: string, names: readonly (keyof typeof PEERS)[]): boolean {
  const missing = names.map((n) => PEERS[n]()).filter((m) => m !== undefined);
  if (missing.length === 0) return true;
  return missingTool(
    what,
    missing.map((m) => m.missing),
    missing.map((m) => m.package),
  );
}

export interface Recorded {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly json: any;
}

/** An HTTP server that records every POST and answers `status` (200 by default). */
export class HttpRecorder {
  readonly received: Recorded[] = [];
  status = 200;
  #server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        if (this.status < 300) {
          let json: unknown;
          try {
            json = JSON.parse(raw);
          } catch {
            json = undefined;
          }
          this.received.push({ path: req.url ?? '/', headers: req.headers, raw, json });
        }
        res.writeHead(this.status, { 'content-type': 'application/json' }).end('{"status":"success"}');
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
    return this;
  }

  url(path = '/'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  on(path: string): Recorded[] {
    return this.received.filter((r) => r.path === path);
  }
}

/** The kernel's ephemeral port range (bind to port 0 and outgoing connections take ports from it). */
function ephemeralPorts(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high) return [low, high];
  } catch {
    // not Linux
  }
  return [32768, 60999];
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
 * A port that is free now and that nobody else is likely to take before the
 * caller listens on it, for a peer that must be started on a port known in
 * advance (or stopped and started again on the same one). The port is drawn
 * at random below the kernel's ephemeral range: the test servers of the files
 * running in parallel (port 0) and every outgoing connection take ports from
 * that range, so a port from it could be gone again a moment later.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralPorts();
  const low = 10_000;
  const high = Math.max(low + 1000, ephemeralLow - 1);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${low}-${high} after 100 tries`);
}

/** A message the SMTP sink received: `data` is the whole RFC 5322 message, the rest as Python's parser decodes it. */
export interface SmtpMessage {
  readonly from: string;
  readonly to: string[];
  readonly data: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** The SMTP sink: the messages received, in order. */
export class SmtpSink {
  readonly messages: SmtpMessage[] = [];
  #child: ChildProcess | undefined;
  port = 0;

  async start(): Promise<this> {
    this.port = await freePort();
    const script = new URL('./smtp_sink.py', import.meta.url).pathname;
    const child = spawn(PYTHON, [script, String(this.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`smtp sink exited ${code}: ${stderr}`)));
      lines.on('line', (line) => {
        if (line === 'READY') resolve();
        else this.messages.push(JSON.parse(line));
      });
    });
    return this;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}

/** A real Alertmanager with a do-nothing route, clustering off. */
export class AlertmanagerPeer {
  #child: ChildProcess | undefined;
  #dir = '';
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await freePort();
    this.#dir = mkdtempSync(join(tmpdir(), 'shoplens-test-am-'));
    const config = join(this.#dir, 'alertmanager.yml');
    writeFileSync(config, "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
    this.#child = spawn(
      ALERTMANAGER_BIN,
      [
        `--config.file=${config}`,
        `--storage.path=${join(this.#dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--cluster.listen-address=',
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const r = await fetch(`${this.url}/-/ready`);
        if (r.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('Alertmanager did not become ready in 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    return this;
  }

  async alerts(): Promise<any[]> {
    return (await (
      await fetch(`${this.url}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`)
    ).json()) as any[];
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** A real Prometheus server scraping `targets` (host:port) every second, its TSDB in a temp dir. */
export class PrometheusPeer {
  #child: ChildProcess | undefined;
  #dir = '';
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(targets: readonly string[]): Promise<this> {
    this.port = await freePort();
    this.#dir = mkdtempSync(join(tmpdir(), 'shoplens-test-prom-'));
    const config = join(this.#dir, 'prometheus.yml');
    writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: shoplens\n    static_configs:\n      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]\n`,
    );
    this.#child = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(this.#dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const r = await fetch(`${this.url}/-/ready`);
        if (r.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('Prometheus did not become ready in 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    return this;
  }

  /** An instant PromQL query: the vector's samples as labels and value (at `time`, epoch s, if given). */
  async query(promql: string, time?: number): Promise<{ labels: Record<string, string>; value: number }[]> {
    const params = new URLSearchParams({ query: promql, ...(time === undefined ? {} : { time: String(time) }) });
    const r = await fetch(`${this.url}/api/v1/query?${params}`);
    const body = (await r.json()) as any;
    if (body.status !== 'success') throw new Error(`PromQL ${promql}: ${JSON.stringify(body)}`);
    return (body.data.result as any[]).map((s) => ({ labels: s.metric, value: Number(s.value[1]) }));
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }
}
