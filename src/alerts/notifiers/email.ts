/**
 * E-mail over SMTP with nodemailer. Subject and body come from the rule's
 * `email_subject` / `email_body` annotations when it has them (as the fraud
 * rule in rules/ecommerce.yaml does), otherwise from the title and the alerts' summaries.
 */
import nodemailer from 'nodemailer';
import type { ReceiverConfig } from '../alerts-config.ts';
import type { Notification } from '../alert-model.ts';
import { summaryOf, titleOf, type Notifier } from './notifier.ts';

export function emailMessage(notification: Notification): { subject: string; text: string } {
  const first = notification.alerts[0];
  const resolved = notification.status === 'resolved';
  const subject =
    (!resolved && first?.annotations['email_subject']) || (resolved ? `[RESOLVED] ` : '') + titleOf(notification);
  const lines = notification.alerts.map((a) => {
    const body = a.status === 'firing' && a.annotations['email_body'] ? a.annotations['email_body'] : summaryOf(a);
    return `${a.status === 'resolved' ? 'RESOLVED' : 'FIRING'}: ${body}\n  labels: ${Object.entries(a.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}\n  since: ${a.startsAt}${a.endsAt ? `, until ${a.endsAt}` : ''}\n  ${a.link}`;
  });
  return { subject, text: `${lines.join('\n\n')}\n\n-- Shoplens alerting (receiver ${notification.receiver})\n` };
}

export const sendEmail: Notifier<Extract<ReceiverConfig, { type: 'email' }>> = async (
  notification,
  receiver,
  options,
) => {
  const transport = nodemailer.createTransport({
    host: receiver.host,
    port: receiver.port,
    secure: receiver.secure,
    ...(receiver.user ? { auth: { user: receiver.user, pass: receiver.password ?? '' } } : {}),
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  try {
    const { subject, text } = emailMessage(notification);
    await transport.sendMail({
      from: receiver.from,
      to: receiver.to,
      subject,
      text,
      headers: { 'X-Shoplens-Notification-Id': notification.id },
    });
  } finally {
    transport.close();
  }
};
