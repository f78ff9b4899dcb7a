/**
 * Prometheus Alertmanager: `POST {url}/api/v2/alerts` with postable alerts.
 * A resolved alert is sent with endsAt set to when it resolved. Annotations
 * are the rule's rendered ones (not the formatting ones, `name.*`,
 * `format.*`), with `summary` always set and `description` listing the
 * alert's labels and values under human names ("Total amount: $2,042.10"),
 * then how long it fired once resolved.
 * https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml
 */
import type { ReceiverConfig } from '../alerts-config.ts';
import type { Alert, Notification } from '../alert-model.ts';
import { isFormatAnnotation } from '../message-format.ts';
import { alertTitle, fieldsOf, postJson, resolvedAfter, summaryOf, type Notifier } from './notifier.ts';

/** Alertmanager label (and annotation) names are [a-zA-Z_][a-zA-Z0-9_]*: dots become underscores. */
function labelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/^[^a-zA-Z_]/, '_');
}

/** The Alertmanager `description` of an alert: its fields one a line, then "Resolved after 12 min." */
export function descriptionOf(alert: Alert): string {
  const lines = fieldsOf(alert).map((f) => `${f.title}: ${f.value}`);
  const after = resolvedAfter(alert);
  if (after) lines.push(`${after.charAt(0).toUpperCase()}${after.slice(1)}.`);
  return lines.join('\n');
}

function annotationsOf(alert: Alert): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(alert.annotations)) if (!isFormatAnnotation(k)) out[labelName(k)] = v;
  out['title'] ??= alertTitle(alert);
  out['summary'] ??= summaryOf(alert);
  out['description'] ??= descriptionOf(alert);
  return out;
}

export function alertmanagerAlerts(notification: Notification): Record<string, unknown>[] {
  return notification.alerts.map((alert) => ({
    labels: Object.fromEntries(Object.entries(alert.labels).map(([k, v]) => [labelName(k), v])),
    annotations: annotationsOf(alert),
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
