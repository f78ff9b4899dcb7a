/**
 * The reference, measured live (`npm run bench -- --prometheus-live`):
 * Debian's Prometheus and Alertmanager with their default intervals
 * (scrape_interval 1m, evaluation_interval 1m, group_wait 30s), an exporter
 * and a webhook receiver in this process, on loopback. Each crossing sets
 * one gateway's gauge from 0 to 6 (the rule is `>= 5`, `for` 0); latency is
 * from that change to Alertmanager's webhook. Crossings are spread at random
 * over `spreadSeconds`, each its own alert group, so they sample every phase
 * of the scrape and evaluation cycles in one run of a few minutes instead of
 * one after another.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/alerts/peers.ts';
import { isExecutable } from '../test/helpers/required-tool.ts';
import { Receiver } from './alert-latency.ts';

export const PROMETHEUS_BIN = process.env['SHOPLENS_BENCH_PROMETHEUS'] || '/usr/bin/prometheus';
export const ALERTMANAGER_BIN = process.env['SHOPLENS_BENCH_ALERTMANAGER'] || '/usr/bin/prometheus-alertmanager';

/** Both programs are installed. */
export function prometheusAvailable(): boolean {
  return isExecutable(PROMETHEUS_BIN) && isExecutable(ALERTMANAGER_BIN);
}

async function ready(url: string, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not become ready in 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Seconds from each crossing to Alertmanager's webhook notification. */
export async function runPrometheusLatency(
  options: { crossings: number; spreadSeconds: number },
  log: (line: string) => void,
): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'shoplens-bench-prometheus-'));
  const gauges = new Map<string, number>();
  for (let i = 0; i < options.crossings; i++) gauges.set(`gw-${String(i).padStart(3, '0')}`, 0);
  const exporter: Server = createServer((_req, res) => {
    let body = '# TYPE bench_gateway_failures gauge\n';
    for (const [gateway, value] of gauges) body += `bench_gateway_failures{gateway="${gateway}"} ${value}\n`;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
  });
  await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
  const exporterPort = (exporter.address() as { port: number }).port;
  const receiver = new Receiver('BenchGatewayFailures', 'gateway');
  await receiver.start();
  const [promPort, amPort] = [await freePort(), await freePort()];
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    `route:\n  receiver: hook\n  group_by: [alertname, gateway]\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: http://127.0.0.1:${receiver.port}/hook\n`,
  );
  writeFileSync(
    join(dir, 'rules.yml'),
    'groups:\n  - name: bench\n    rules:\n      - alert: BenchGatewayFailures\n        expr: bench_gateway_failures >= 5\n',
  );
  // No `global:` section: every interval is Prometheus's default.
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `rule_files: [${join(dir, 'rules.yml')}]\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:${amPort}']\nscrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: ['127.0.0.1:${exporterPort}']\n`,
  );
  const alertmanager = spawn(
    ALERTMANAGER_BIN,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'am')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
    ],
    { stdio: 'ignore' },
  );
  const prometheus = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { stdio: 'ignore' },
  );
  const kill = (): void => {
    for (const c of [prometheus, alertmanager]) if (c.exitCode === null) c.kill('SIGKILL');
  };
  process.once('exit', kill);
  try {
    await ready(`http://127.0.0.1:${amPort}/-/ready`, 'Alertmanager');
    await ready(`http://127.0.0.1:${promPort}/-/ready`, 'Prometheus');
    const start = performance.now();
    const at = [...gauges.keys()].map((gateway) => ({ gateway, ms: Math.random() * options.spreadSeconds * 1000 }));
    const crossed = new Map<string, number>();
    for (const { gateway, ms } of at.sort((a, b) => a.ms - b.ms)) {
      const wait = start + ms - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      gauges.set(gateway, 6);
      crossed.set(gateway, performance.now());
    }
    log(
      `prometheus: ${options.crossings} crossings made over ${options.spreadSeconds} s; waiting for the notifications`,
    );
    const latencies: number[] = [];
    for (const [gateway, when] of crossed) {
      const notified = await receiver.firingOf(gateway, 300_000);
      latencies.push((notified - when) / 1000);
    }
    return latencies;
  } finally {
    process.off('exit', kill);
    await Promise.all([stop(prometheus), stop(alertmanager)]);
    exporter.closeAllConnections();
    await new Promise<void>((resolve) => exporter.close(() => resolve()));
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
