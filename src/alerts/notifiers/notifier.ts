/**
 * The notifier contract: one file per channel, each turning a Notification
 * into the channel's wire format. A send resolves when the peer accepted the
 * message and throws otherwise (the outbox retries).
 */
import type { ReceiverConfig } from '../alerts-config.ts';
import type { Alert, AlertField, Notification } from '../alert-model.ts';
import { humanize } from '../message-format.ts';
import { formatElapsed, formatValue } from '../templates.ts';

export interface SendOptions {
  /** Abort the delivery after this many ms. */
  readonly timeoutMs: number;
}

export type Notifier<C extends ReceiverConfig = ReceiverConfig> = (
  notification: Notification,
  receiver: C,
  options: SendOptions,
) => Promise<void>;

/** POSTs JSON; throws with the status and the start of the answer on a non-2xx. */
export async function postJson(
  url: string,
  body: string,
  options: SendOptions,
  headers: Record<string, string> = {},
): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  const text = await response.text().catch(() => '');
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 200)}`);
}

/** The rule's `title` annotation, else its name, with the group's label values: "StripeDown (stripe)". */
export function alertTitle(alert: Alert): string {
  const title = alert.annotations['title'] ?? alert.labels['alertname'] ?? 'alert';
  const groupValues = fieldsOf(alert)
    .filter((f) => f.kind === 'label')
    .map((f) => f.value);
  return groupValues.length > 0 && !alert.annotations['title'] ? `${title} (${groupValues.join(', ')})` : title;
}

/** How long the alert fired, from startsAt to endsAt; undefined while it fires. */
export function firedForMs(alert: Alert): number | undefined {
  if (alert.status !== 'resolved' || !alert.endsAt) return undefined;
  return Math.max(0, Date.parse(alert.endsAt) - Date.parse(alert.startsAt));
}

/** "resolved after 12 min", or undefined while it fires. */
export function resolvedAfter(alert: Alert): string | undefined {
  const ms = firedForMs(alert);
  return ms === undefined ? undefined : `resolved after ${formatElapsed(ms)}`;
}

/**
 * The message's headline: "🚨 P1 High-risk transaction pattern detected",
 * "🚨 P0 StripeDown (stripe) and 2 more", "✅ [RESOLVED] P0 StripeDown (stripe): resolved after 12 min".
 */
export function headlineOf(notification: Notification): string {
  const firing = notification.alerts.filter((a) => a.status === 'firing');
  const shown = firing[0] ?? notification.alerts[0];
  if (!shown) return 'Shoplens alert';
  const priority = shown.labels['priority'] ?? shown.labels['severity'] ?? '';
  // A title that brings its own emoji ("🚨 High-risk ...") keeps one: the headline's.
  const title = alertTitle(shown).replace(/^\p{Extended_Pictographic}\uFE0F?\s*/u, '');
  const more = notification.alerts.length - 1;
  const others = more > 0 ? ` and ${more} more` : '';
  if (notification.status === 'firing') return `🚨 ${priority} ${title}${others}`;
  const after = notification.alerts.length === 1 ? `: ${resolvedAfter(shown) ?? 'resolved'}` : '';
  return `✅ [RESOLVED] ${priority} ${title}${others}${after}`;
}

/** The headline without its emoji (e-mail subjects, PagerDuty summaries). */
export function titleOf(notification: Notification): string {
  return headlineOf(notification).replace(/^\S+ /, '');
}

/** The alert's one-line summary (its `summary` annotation, else its title). */
export function summaryOf(alert: Alert): string {
  return alert.annotations['summary'] ?? alertTitle(alert);
}

/** The alert's labels and values as people read them (older queued alerts: names and numbers as they are). */
export function fieldsOf(alert: Alert): readonly AlertField[] {
  if (alert.fields) return alert.fields;
  return Object.entries(alert.values)
    .filter(([, v]) => typeof v === 'number')
    .map(([name, v]) => ({ name, title: humanize(name), value: formatValue(v), kind: 'number' }));
}

/** The value fields only ("Total amount: $2,042.10"), one per line. */
export function valueLines(alert: Alert): string[] {
  return fieldsOf(alert)
    .filter((f) => f.kind !== 'label')
    .map((f) => `${f.title}: ${f.value}`);
}

/** The label fields only ("Gateway: stripe"). */
export function labelLines(alert: Alert): string[] {
  return fieldsOf(alert)
    .filter((f) => f.kind === 'label')
    .map((f) => `${f.title}: ${f.value}`);
}
