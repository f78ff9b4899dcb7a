/**
 * The `alerts` section of the configuration: where rules come from, the
 * receivers (every URL and host configurable) and the routing tree, with
 * these defaults: critical → PagerDuty + Slack #incidents + SMS
 * (webhook); warning → Slack #monitoring + e-mail; info → dashboard only.
 */
import { z } from 'zod';
import { parseDuration } from '../util/duration.ts';

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  try {
    return parseDuration(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected a duration like "30s", "5m" or "4h"' });
    return z.NEVER;
  }
});

const common = { send_resolved: z.boolean().default(true) };

export const receiverSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('slack'), url: z.url(), channel: z.string().optional(), ...common }).strict(),
  z
    .object({
      type: z.literal('email'),
      host: z.string().min(1),
      port: z.coerce.number().int().min(1).max(65535).default(25),
      /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
      secure: z.boolean().default(false),
      user: z.string().optional(),
      password: z.string().optional(),
      from: z.string().min(3),
      to: z.array(z.string().min(3)).min(1),
      ...common,
    })
    .strict(),
  z
    .object({
      type: z.literal('pagerduty'),
      routing_key: z.string().min(1),
      url: z.url().default('https://events.pagerduty.com/v2/enqueue'),
      ...common,
    })
    .strict(),
  z
    .object({
      type: z.literal('webhook'),
      url: z.url(),
      /** When set, `X-Shoplens-Signature: sha256=<hex HMAC of the body>`. */
      secret: z.string().optional(),
      headers: z.record(z.string(), z.string()).default({}),
      ...common,
    })
    .strict(),
  /** Prometheus Alertmanager: `url` is its base URL; alerts go to `POST {url}/api/v2/alerts`. */
  z.object({ type: z.literal('alertmanager'), url: z.url(), ...common }).strict(),
]);
export type ReceiverConfig = z.output<typeof receiverSchema>;

export const routeSchema = z
  .object({
    /** Label equality matchers (`severity: critical`, `team: payments`); all must match. Empty matches all. */
    match: z.record(z.string(), z.string()).default({}),
    receivers: z.array(z.string().min(1)).default([]),
    /** Labels that split notifications into groups (besides the receiver). */
    group_by: z.array(z.string()).default(['alertname']),
    group_wait: duration.prefault('10s'),
    group_interval: duration.prefault('1m'),
    repeat_interval: duration.prefault('4h'),
    /** Keep matching later routes after this one. */
    continue: z.boolean().default(false),
  })
  .strict();
export type RouteConfig = z.output<typeof routeSchema>;

export const DEFAULT_ROUTES = [
  { match: { severity: 'critical' }, receivers: ['pagerduty', 'slack-incidents', 'sms'] },
  { match: { severity: 'high' }, receivers: ['slack-incidents', 'email'] },
  { match: { severity: 'warning' }, receivers: ['slack-monitoring', 'email'] },
  { match: { severity: 'info' }, receivers: [] },
];

export const alertsConfigSchema = z
  .object({
    /** Run the evaluator inside the server. */
    enabled: z.boolean().default(true),
    /** YAML rule files (`*.yaml`, `*.yml`). */
    rulesDir: z.string().default('./rules'),
    /** Load the built-in e-commerce rule pack. */
    pack: z.boolean().default(true),
    /** How often the scheduler wakes up to run due rules, dispatch and deliver. */
    tickInterval: duration.prefault('1s'),
    /** Tenants whose data the file rules evaluate (tenants with API rules are added). */
    tenants: z.array(z.string().min(1)).default(['default']),
    /** Base URL of this Shoplens for links in notifications (default: http://<server.host>:<server.port>). */
    externalUrl: z.string().default(''),
    /**
     * Evaluation on ingest: the rules a newly visible batch can change run at once (at most once per
     * `minSpacing` per rule, triggered rounds within `cpuShare` of the time); `enabled: false` leaves
     * only the schedule.
     */
    onIngest: z
      .object({
        enabled: z.boolean().default(true),
        minSpacing: duration.prefault('1s'),
        cpuShare: z.number().gt(0).max(1).default(0.25),
      })
      .strict()
      .prefault({}),
    receivers: z.record(z.string(), receiverSchema).default({}),
    routes: z.array(routeSchema).prefault(DEFAULT_ROUTES),
    outbox: z
      .object({
        /** First retry after this; doubles per attempt up to backoffMax. */
        backoffBase: duration.prefault('1s'),
        backoffMax: duration.prefault('1m'),
        /** A notification not delivered within this long is given up (marked failed). */
        maxAge: duration.prefault('24h'),
        /** Per-delivery timeout. */
        timeout: duration.prefault('10s'),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type AlertsConfig = z.output<typeof alertsConfigSchema>;
