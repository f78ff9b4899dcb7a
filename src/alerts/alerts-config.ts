/**
 * The `alerts` section of the configuration: where rules come from, the
 * receivers (every URL and host configurable) and the routing tree, with
 * these defaults: every alert → the in-app inbox (built in, receiver
 * `inapp`); critical → PagerDuty + Slack #incidents + SMS (webhook);
 * warning → Slack #monitoring + e-mail; info → the in-app inbox only.
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
  /** The in-app inbox (notifiers/inapp.ts): stored per tenant, shown in the UI, acknowledged there. */
  z.object({ type: z.literal('inapp'), ...common }).strict(),
]);
export type ReceiverConfig = z.output<typeof receiverSchema>;

export const routeSchema = z
  .object({
    /** Label equality matchers (`severity: critical`, `team: payments`); all must match. Empty matches all. */
    match: z.record(z.string(), z.string()).default({}),
    receivers: z.array(z.string().min(1)).default([]),
    /** Labels that split notifications into groups (besides the receiver). */
    group_by: z.array(z.string()).default(['alertname']),
    /** How long the first alert of a new group waits for others of its group, to go out in one notification. */
    group_wait: duration.prefault('1s'),
    group_interval: duration.prefault('1m'),
    repeat_interval: duration.prefault('4h'),
    /** Keep matching later routes after this one. */
    continue: z.boolean().default(false),
  })
  .strict();
export type RouteConfig = z.output<typeof routeSchema>;

/** The built-in receiver every default route set starts with; configured receivers may replace it. */
export const INAPP_RECEIVER = 'inapp';

export const DEFAULT_ROUTES: z.input<typeof routeSchema>[] = [
  // Every alert, whatever its severity, also goes to the in-app inbox, at once (no group_wait), and is
  // repeated there once a day at most while it keeps firing.
  {
    match: {},
    receivers: [INAPP_RECEIVER],
    continue: true,
    group_wait: '0s',
    group_interval: '30s',
    repeat_interval: '24h',
  },
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
    /** Named receivers; `inapp` (the in-app inbox) is always there unless a receiver of that name is configured. */
    receivers: z
      .record(z.string(), receiverSchema)
      .default({})
      .transform((receivers) =>
        INAPP_RECEIVER in receivers
          ? receivers
          : { [INAPP_RECEIVER]: { type: 'inapp' as const, send_resolved: true }, ...receivers },
      ),
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

/**
 * The alerts config with the in-app inbox routed for every alert: unchanged
 * when a route already names an `inapp` receiver, else with the default
 * catch-all inbox route first (and the receiver, if a config replaced it).
 * The demo uses it, so the first incident is caught in the UI whatever a
 * config file routes elsewhere.
 */
export function withInAppRoute(alerts: AlertsConfig): AlertsConfig {
  const isInApp = (name: string) => alerts.receivers[name]?.type === 'inapp';
  if (alerts.routes.some((route) => route.receivers.some(isInApp))) return alerts;
  const name = Object.keys(alerts.receivers).find(isInApp) ?? INAPP_RECEIVER;
  const route = routeSchema.parse({ ...DEFAULT_ROUTES[0], receivers: [name] });
  const receivers = isInApp(name)
    ? alerts.receivers
    : { ...alerts.receivers, [name]: { type: 'inapp' as const, send_resolved: true } };
  return { ...alerts, receivers, routes: [route, ...alerts.routes] };
}
