/**
 * Slack incoming webhook, as seed 000 shows it: a headline, then one
 * attachment per alert with the severity's colour, its summary and a short
 * field per label and value under human names ("Total amount: $2,042.10").
 * Colours: Slack's named `danger` (red) for P0 and P1, as the seed's P1
 * fraud alert; `warning` (amber) for P2; blue for P3, which is information,
 * not trouble; `good` (green) once resolved, with how long it fired.
 * https://api.slack.com/reference/messaging/attachments
 */
import type { ReceiverConfig } from '../alerts-config.ts';
import type { Alert, Notification } from '../alert-model.ts';
import { alertTitle, fieldsOf, headlineOf, postJson, resolvedAfter, summaryOf, type Notifier } from './notifier.ts';

/** Attachment colour by severity word (the `severity` label). */
export const SLACK_COLOURS: Readonly<Record<string, string>> = {
  critical: 'danger',
  high: 'danger',
  warning: 'warning',
  info: '#439fe0',
};
export const SLACK_RESOLVED_COLOUR = 'good';

function attachmentOf(alert: Alert, nowMs: number): Record<string, unknown> {
  const resolved = alert.status === 'resolved';
  const after = resolvedAfter(alert);
  const fields = fieldsOf(alert)
    // Values at resolve time are the calm ones: a resolved notice shows the group, not numbers that no longer alarm.
    .filter((f) => !resolved || f.kind === 'label')
    .map((f) => ({ title: f.title, value: f.value, short: true }));
  return {
    color: resolved ? SLACK_RESOLVED_COLOUR : (SLACK_COLOURS[alert.labels['severity'] ?? ''] ?? '#888888'),
    title: resolved ? `Resolved: ${alertTitle(alert)}` : alertTitle(alert),
    title_link: alert.link,
    text: resolved
      ? `${capitalise(after ?? 'resolved')} (fired since ${clock(alert.startsAt, nowMs)})`
      : summaryOf(alert),
    fields,
    footer: `Shoplens · ${alert.labels['priority'] ?? ''} ${alert.labels['severity'] ?? ''} · ${alert.labels['alertname'] ?? ''}`,
    ts: Math.floor(Date.parse(alert.endsAt ?? alert.startsAt) / 1000),
  };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "06:02 UTC" (the day too when it is not today's). */
export function clock(iso: string, nowMs: number): string {
  const d = new Date(iso);
  const time = `${iso.slice(11, 16)} UTC`;
  return d.toISOString().slice(0, 10) === new Date(nowMs).toISOString().slice(0, 10)
    ? time
    : `${iso.slice(0, 10)} ${time}`;
}

export function slackPayload(notification: Notification, channel?: string): Record<string, unknown> {
  return {
    ...(channel ? { channel } : {}),
    text: headlineOf(notification),
    attachments: notification.alerts.map((a) => attachmentOf(a, Date.parse(notification.createdAt))),
  };
}

export const sendSlack: Notifier<Extract<ReceiverConfig, { type: 'slack' }>> = async (
  notification,
  receiver,
  options,
) => {
  await postJson(receiver.url, JSON.stringify(slackPayload(notification, receiver.channel)), options);
};
