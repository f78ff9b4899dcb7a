/**
 * Real peers for the notifier tests, on loopback: an HTTP recorder (Slack,
 * PagerDuty, webhook), a real SMTP server (Debian python3-aiosmtpd) and a
 * real Prometheus Alertmanager (Debian prometheus-alertmanager).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

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

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The SMTP sink: messages as { from, to, data } (data = the whole RFC 5322 message). */
export class SmtpSink {
  readonly messages: { from: string; to: string[]; data: string }[] = [];
  #child: ChildProcess | undefined;
  port = 0;

  static available(): boolean {
    return existsSync('/usr/bin/python3');
  }

  async start(): Promise<this> {
    this.port = await freePort();
    const script = new URL('./smtp_sink.py', import.meta.url).pathname;
    const child = spawn('/usr/bin/python3', [script, String(this.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
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

export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

/** A real Alertmanager with a do-nothing route, clustering off. */
export class AlertmanagerPeer {
  #child: ChildProcess | undefined;
  #dir = '';
  port = 0;

  static available(): boolean {
    return existsSync(ALERTMANAGER_BIN);
  }

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
