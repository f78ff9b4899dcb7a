/**
 * Prometheus Alertmanager: `POST {url}/api/v2/alerts` with postable alerts.
 * A resolved alert is sent with endsAt set to when it resolved.
 * https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml
 */
import type { ReceiverConfig } from '../alerts-config.ts';
import type { Notification } from '../alert-model.ts';
import { postJson, type Notifier } from './notifier.ts';

/** Alertmanager label names are [a-zA-Z_][a-zA-Z0-9_]*: dots become underscores. */
function labelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/^[^a-zA-Z_]/, '_');
}

export function alertmanagerAlerts(notification: Notification): Record<string, unknown>[] {
  return notification.alerts.map((alert) => ({
    labels: Object.fromEntries(Object.entries(alert.labels).map(([k, v]) => [labelName(k), v])),
    annotations: alert.annotations,
    startsAt: alert.startsAt,
    ...(alert.endsAt ? { endsAt: alert.endsAt } : {}),
    generatorURL: alert.link,
  }));
}

export const sendAlertmanager: Notifier<Extract<ReceiverConfig, { type: 'alertmanager' }>> = async (
  notification,
  receiver,
  options,
) => {
  const url = new URL('api/v2/alerts', receiver.url.endsWith('/') ? receiver.url : `${receiver.url}/`).toString();
  await postJson(url, JSON.stringify(alertmanagerAlerts(notification)), options);
};
