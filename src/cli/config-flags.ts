/** Configuration for CLI commands: defaults < file < environment < the flags given. */
import { existsSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { receiverSchema, routeSchema, withInAppRoute } from '../alerts/alerts-config.ts';
import { loadConfig, type Config } from '../config.ts';

/** The config file read when --config is not given, if it exists. */
export const DEFAULT_CONFIG_FILE = 'shoplens.yaml';

export interface ServerFlags {
  readonly config?: string;
  readonly port?: number;
  readonly host?: string;
  readonly dataDir?: string;
  /** `keys` or `none` (the demo defaults to none). */
  readonly auth?: 'keys' | 'none';
  /** `--grpc-port`: otlp.grpc.port. */
  readonly grpcPort?: number;
  /** `--no-grpc` gives false: otlp.grpc.enabled = false (true, commander's default, changes nothing). */
  readonly grpc?: boolean;
}

export function configFromFlags(options: ServerFlags): Config {
  const file = options.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const server: Record<string, unknown> = {};
  if (options.port !== undefined) server['port'] = options.port;
  if (options.host !== undefined) server['host'] = options.host;
  const flags: Record<string, unknown> = {};
  if (Object.keys(server).length > 0) flags['server'] = server;
  if (options.dataDir !== undefined) flags['dataDir'] = options.dataDir;
  if (options.auth !== undefined) flags['auth'] = options.auth;
  const grpc: Record<string, unknown> = {};
  if (options.grpcPort !== undefined) grpc['port'] = options.grpcPort;
  if (options.grpc === false) grpc['enabled'] = false;
  if (Object.keys(grpc).length > 0) flags['otlp'] = { grpc };
  return loadConfig({ ...(file ? { file } : {}), flags });
}

/**
 * The demo's server config: every alert routed to the in-app inbox as well
 * (see withInAppRoute), so the first incident a newcomer injects shows in
 * the UI even when a config file routes alerts elsewhere.
 */
export function demoServerConfig(config: Config, sinks: DemoSinks = {}): Config {
  const alerts = withInAppRoute(config.alerts);
  const receivers: Record<string, ReturnType<typeof receiverSchema.parse>> = {};
  if (sinks.webhookUrl)
    receivers[DEMO_WEBHOOK_RECEIVER] = receiverSchema.parse({ type: 'webhook', url: sinks.webhookUrl });
  if (sinks.smtp)
    receivers[DEMO_EMAIL_RECEIVER] = receiverSchema.parse({
      type: 'email',
      host: sinks.smtp.host,
      port: sinks.smtp.port,
      from: 'Shoplens demo <alerts@shoplens.localhost>',
      to: ['On-call <oncall@shop.localhost>'],
    });
  if (Object.keys(receivers).length === 0) return Object.freeze({ ...config, alerts });
  // And to the demo's local webhook receiver and e-mail inbox (demo-*-sink.ts), right after the in-app inbox.
  const route = routeSchema.parse({ match: {}, receivers: Object.keys(receivers), continue: true });
  const inbox = alerts.routes.findIndex((r) => r.receivers.some((name) => alerts.receivers[name]?.type === 'inapp'));
  const routes = [...alerts.routes];
  routes.splice(inbox + 1, 0, route);
  return Object.freeze({ ...config, alerts: { ...alerts, receivers: { ...alerts.receivers, ...receivers }, routes } });
}

/** The demo's local sinks (src/cli/demo-webhook-sink.ts, demo-mail-sink.ts). */
export interface DemoSinks {
  readonly webhookUrl?: string;
  readonly smtp?: { readonly host: string; readonly port: number };
}

/** The demo's local e-mail inbox's receiver name in the alerts config. */
export const DEMO_EMAIL_RECEIVER = 'demo-email';

/** The demo's local webhook receiver's name in the alerts config. */
export const DEMO_WEBHOOK_RECEIVER = 'demo-webhook';

/** Commander parser for --port. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

/** Commander parser for --url: an http(s) URL, without a trailing slash. */
export function parseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    return url.toString().replace(/\/$/, '');
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL, e.g. http://127.0.0.1:8080');
  }
}
