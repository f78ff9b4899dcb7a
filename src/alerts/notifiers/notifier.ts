/**
 * The notifier contract: one file per channel, each turning a Notification
 * into the channel's wire format. A send resolves when the peer accepted the
 * message and throws otherwise (the outbox retries).
 */
import type { ReceiverConfig } from '../alerts-config.ts';
import type { Alert, Notification } from '../alert-model.ts';

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

/** A one-line title: "[FIRING:2] PaymentSuccessRateCritical (critical)". */
export function titleOf(notification: Notification): string {
  const firing = notification.alerts.filter((a) => a.status === 'firing');
  const first = notification.alerts[0];
  const name = first?.labels['alertname'] ?? 'alert';
  const status = notification.status === 'firing' ? `FIRING:${firing.length}` : 'RESOLVED';
  return `[${status}] ${name} (${first?.labels['severity'] ?? 'unknown'})`;
}

/** The alert's one-line summary (its `summary` annotation, else its name and labels). */
export function summaryOf(alert: Alert): string {
  return alert.annotations['summary'] ?? `${alert.labels['alertname'] ?? 'alert'} ${JSON.stringify(alert.labels)}`;
}
