/**
 * E-mail over SMTP with nodemailer, plain text and HTML with the same
 * content: per alert its summary (the rule's `email_body` annotation when it
 * has one, as the fraud rule in rules/ecommerce.yaml does), its labels and
 * values under human names, when it started and, once resolved, how long it
 * fired. The subject is the rule's `email_subject` annotation while firing,
 * else the headline ("P1 High-risk transaction pattern detected").
 */
import type { ReceiverConfig } from '../alerts-config.ts';
import type { Alert, Notification } from '../alert-model.ts';
import { fieldsOf, alertTitle, resolvedAfter, summaryOf, titleOf, type Notifier } from './notifier.ts';

export interface EmailMessage {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

function bodyOf(alert: Alert): string {
  return alert.status === 'firing' && alert.annotations['email_body']
    ? alert.annotations['email_body']
    : summaryOf(alert);
}

function statusOf(alert: Alert): string {
  return alert.status === 'resolved' ? `RESOLVED (${resolvedAfter(alert) ?? 'resolved'})` : 'FIRING';
}

function timesOf(alert: Alert): string {
  return `Started ${alert.startsAt}${alert.endsAt ? `, resolved ${alert.endsAt}` : ''}`;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const SEVERITY_COLOURS: Readonly<Record<string, string>> = {
  critical: '#d00000',
  high: '#d00000',
  warning: '#daa038',
  info: '#439fe0',
};

function textOf(notification: Notification): string {
  const blocks = notification.alerts.map((a) => {
    const fields = fieldsOf(a).map((f) => `  ${f.title}: ${f.value}`);
    return [`${statusOf(a)}: ${alertTitle(a)}`, `  ${bodyOf(a)}`, ...fields, `  ${timesOf(a)}`, `  ${a.link}`].join(
      '\n',
    );
  });
  return `${blocks.join('\n\n')}\n\n-- Shoplens alerting (receiver ${notification.receiver})\n`;
}

function htmlOf(notification: Notification, subject: string): string {
  const blocks = notification.alerts.map((a) => {
    const colour = a.status === 'resolved' ? '#2eb886' : (SEVERITY_COLOURS[a.labels['severity'] ?? ''] ?? '#888888');
    const rows = fieldsOf(a)
      .map(
        (f) =>
          `<tr><th align="left" style="padding:2px 12px 2px 0">${escapeHtml(f.title)}</th><td>${escapeHtml(f.value)}</td></tr>`,
      )
      .join('');
    return (
      `<div style="border-left:4px solid ${colour};padding:4px 12px;margin:12px 0">` +
      `<p style="margin:0"><strong>${escapeHtml(statusOf(a))}: ${escapeHtml(alertTitle(a))}</strong></p>` +
      `<p>${escapeHtml(bodyOf(a))}</p>` +
      `<table>${rows}</table>` +
      `<p style="color:#666">${escapeHtml(timesOf(a))} · <a href="${escapeHtml(a.link)}">Open in Shoplens</a></p></div>`
    );
  });
  return (
    `<!doctype html><html><body style="font-family:sans-serif">` +
    `<h2 style="font-size:16px">${escapeHtml(subject)}</h2>${blocks.join('')}` +
    `<p style="color:#666">Shoplens alerting (receiver ${escapeHtml(notification.receiver)})</p></body></html>`
  );
}

export function emailMessage(notification: Notification): EmailMessage {
  const first = notification.alerts.find((a) => a.status === 'firing') ?? notification.alerts[0];
  const resolved = notification.status === 'resolved';
  const subject = (!resolved && first?.annotations['email_subject']) || titleOf(notification);
  return { subject, text: textOf(notification), html: htmlOf(notification, subject) };
}

export const sendEmail: Notifier<Extract<ReceiverConfig, { type: 'email' }>> = async (
  notification,
  receiver,
  options,
) => {
  // Loaded at the first e-mail, not at every server start (4 MB of heap an idle server need not hold).
  const { default: nodemailer } = await import('nodemailer');
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
    const { subject, text, html } = emailMessage(notification);
    await transport.sendMail({
      from: receiver.from,
      to: receiver.to,
      subject,
      text,
      html,
      headers: { 'X-Shoplens-Notification-Id': notification.id },
    });
  } finally {
    transport.close();
  }
};
