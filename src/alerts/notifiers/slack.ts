/**
 * Slack incoming webhook: one attachment per alert with the severity's
 * colour (red for critical, green once resolved), a field per numeric value
 * and a link back to the alert.
 */
import type { ReceiverConfig } from '../alerts-config.ts';
import type { Notification } from '../alert-model.ts';
import { formatValue } from '../templates.ts';
import { postJson, summaryOf, titleOf, type Notifier } from './notifier.ts';

const COLOURS: Record<string, string> = { critical: '#d00000', high: '#ff8c00', warning: '#f2c744', info: '#439fe0' };

export function slackPayload(notification: Notification, channel?: string): Record<string, unknown> {
  return {
    ...(channel ? { channel } : {}),
    text: `🚨 ${titleOf(notification)}`,
    attachments: notification.alerts.map((alert) => ({
      color: alert.status === 'resolved' ? '#2eb886' : (COLOURS[alert.labels['severity'] ?? ''] ?? '#888888'),
      title:
        alert.annotations['title'] ??
        `${alert.status === 'resolved' ? 'Resolved' : 'Firing'}: ${alert.labels['alertname']}`,
      title_link: alert.link,
      text: summaryOf(alert),
      fields: Object.entries(alert.values)
        .filter(([, v]) => typeof v === 'number')
        .map(([name, v]) => ({ title: name, value: formatValue(v), short: true })),
      footer: `Shoplens · ${alert.labels['priority'] ?? ''} · since ${alert.startsAt}`,
    })),
  };
}

export const sendSlack: Notifier<Extract<ReceiverConfig, { type: 'slack' }>> = async (
  notification,
  receiver,
  options,
) => {
  await postJson(receiver.url, JSON.stringify(slackPayload(notification, receiver.channel)), options);
};
