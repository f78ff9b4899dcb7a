/**
 * PagerDuty Events API v2: `trigger` while the group fires, `resolve` when it
 * is over, with the group key as dedup_key so PagerDuty keeps one incident.
 * The summary is the headline and the alerts' summaries; custom_details
 * carry the labels and values under their human names.
 * https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
 */
import type { ReceiverConfig } from '../alerts-config.ts';
import { dataObject } from '../../schema/data-object.ts';
import type { Alert, Notification } from '../alert-model.ts';
import { fieldsOf, postJson, summaryOf, titleOf, type Notifier } from './notifier.ts';

/**
 * Shoplens severity word → PagerDuty's four: P0 critical → critical, P1 high →
 * error, P2 warning → warning, P3 info → info.
 */
export const PD_SEVERITY: Readonly<Record<string, string>> = {
  critical: 'critical',
  high: 'error',
  warning: 'warning',
  info: 'info',
};

/** custom_details of one alert: its fields under their human names ("Total amount": "$2,042.10"). */
function detailsOf(alert: Alert): Record<string, string> {
  const details: Record<string, string> = dataObject();
  for (const f of fieldsOf(alert)) details[f.title] = f.value;
  details['Summary'] = summaryOf(alert);
  details['Started'] = alert.startsAt;
  return details;
}

export function pagerDutyEvent(notification: Notification, routingKey: string): Record<string, unknown> {
  const firing = notification.alerts.filter((a) => a.status === 'firing');
  const first = firing[0] ?? notification.alerts[0];
  const dedupKey = `shoplens-${notification.tenant}-${notification.groupKey}`;
  if (notification.status === 'resolved') {
    return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  }
  const summaries = firing.map(summaryOf).filter((s) => s !== first?.annotations['title']);
  const summary = [titleOf(notification), ...summaries].join(': ');
  const custom =
    firing.length === 1 && first
      ? detailsOf(first)
      : { 'Firing alerts': String(firing.length), alerts: firing.map(detailsOf) };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      // PagerDuty truncates at 1024 characters; cut at a character, not inside a surrogate pair.
      summary: [...summary].slice(0, 1024).join(''),
      source: 'shoplens',
      severity: PD_SEVERITY[first?.labels['severity'] ?? ''] ?? 'error',
      timestamp: first?.startsAt,
      component: first?.labels['service.name'],
      group: first?.labels['alertname'],
      class: first?.labels['team'],
      custom_details: custom,
    },
    links: first ? [{ href: first.link, text: 'Open in Shoplens' }] : [],
  };
}

export const sendPagerDuty: Notifier<Extract<ReceiverConfig, { type: 'pagerduty' }>> = async (
  notification,
  receiver,
  options,
) => {
  await postJson(receiver.url, JSON.stringify(pagerDutyEvent(notification, receiver.routing_key)), options);
};
