/**
 * Generic webhook: the notification as JSON (Alertmanager-webhook-like
 * shape, each alert with its title, summary, fields under human names and,
 * once resolved, how long it fired), optionally signed: `X-Shoplens-Signature: sha256=<hex HMAC-SHA256
 * of the raw body with the shared secret>`.
 */
import { createHmac } from 'node:crypto';
import type { ReceiverConfig } from '../alerts-config.ts';
import type { Notification } from '../alert-model.ts';
import {
  alertTitle,
  fieldsOf,
  firedForMs,
  headlineOf,
  postJson,
  resolvedAfter,
  summaryOf,
  type Notifier,
} from './notifier.ts';

export function webhookPayload(notification: Notification): Record<string, unknown> {
  return {
    version: '1',
    id: notification.id,
    receiver: notification.receiver,
    status: notification.status,
    groupKey: notification.groupKey,
    groupLabels: notification.groupLabels,
    title: headlineOf(notification),
    alerts: notification.alerts.map((alert) => {
      const firedFor = firedForMs(alert);
      return {
        ...alert,
        title: alertTitle(alert),
        summary: summaryOf(alert),
        fields: fieldsOf(alert),
        ...(firedFor === undefined ? {} : { firedForMs: firedFor, resolvedAfter: resolvedAfter(alert) }),
      };
    }),
  };
}

export function signatureOf(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export const sendWebhook: Notifier<Extract<ReceiverConfig, { type: 'webhook' }>> = async (
  notification,
  receiver,
  options,
) => {
  const body = JSON.stringify(webhookPayload(notification));
  const headers: Record<string, string> = { ...receiver.headers, 'x-shoplens-notification-id': notification.id };
  if (receiver.secret) headers['x-shoplens-signature'] = signatureOf(body, receiver.secret);
  await postJson(receiver.url, body, options, headers);
};
