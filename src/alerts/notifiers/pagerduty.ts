/**
 * PagerDuty Events API v2: `trigger` while the group fires, `resolve` when it
 * is over, with the group key as dedup_key so PagerDuty keeps one incident.
 * https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
 */
import type { ReceiverConfig } from '../alerts-config.ts';
import type { Notification } from '../alert-model.ts';
import { postJson, summaryOf, titleOf, type Notifier } from './notifier.ts';

const PD_SEVERITY: Record<string, string> = { critical: 'critical', high: 'error', warning: 'warning', info: 'info' };

export function pagerDutyEvent(notification: Notification, routingKey: string): Record<string, unknown> {
  const first = notification.alerts[0];
  const dedupKey = `shoplens-${notification.tenant}-${notification.groupKey}`;
  if (notification.status === 'resolved') {
    return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  }
  const firing = notification.alerts.filter((a) => a.status === 'firing');
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: `${titleOf(notification)}: ${firing.map(summaryOf).join('; ')}`.slice(0, 1024),
      source: 'shoplens',
      severity: PD_SEVERITY[first?.labels['severity'] ?? ''] ?? 'error',
      timestamp: first?.startsAt,
      component: first?.labels['service.name'],
      group: first?.labels['alertname'],
      custom_details: { alerts: firing.map((a) => ({ labels: a.labels, values: a.values })) },
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
