/**
 * The demo's local webhook receiver (`shoplens demo` posts every alert to
 * it, as it would to a team's own webhook): the messages it received, newest
 * first, each as its headline, its alerts' summaries and the JSON body as it
 * arrived. Shown only while a demo runs in this server (the endpoint answers
 * 404 otherwise). Reloads when the live alerts change and every 5 s (the
 * webhook gets a notification a second after the in-app inbox).
 */
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../api.ts';
import { useLiveAlerts } from '../live-alerts.ts';
import '../alerts-live.css';

const SHOWN = 10;

interface WebhookAlert {
  fingerprint?: string;
  status?: string;
  labels?: Record<string, string>;
  summary?: string;
}

interface WebhookMessage {
  id: number;
  receivedAt: string;
  path: string;
  notificationId: string;
  body: { status?: string; title?: string; alerts?: WebhookAlert[] } | null;
}

interface WebhookInboxAnswer {
  url: string;
  messages: WebhookMessage[];
}

/**
 * One of the demo's local inboxes, read again at every change of the live
 * alerts and every 5 s; `absent` once the server says no demo runs (404).
 */
function useDemoInbox<T>(path: string): { answer: T | null; absent: boolean; error: string } {
  const { version } = useLiveAlerts();
  const [answer, setAnswer] = useState<T | null>(null);
  const [absent, setAbsent] = useState(false);
  const [error, setError] = useState('');

  const load = useCallback(async () => {
    try {
      setAnswer(await api<T>(path));
      setError('');
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setAbsent(true);
      else setError((err as Error).message);
    }
  }, [path]);

  useEffect(() => {
    void load();
  }, [load, version]);
  useEffect(() => {
    if (absent) return;
    const timer = setInterval(() => void load(), 5_000);
    return () => clearInterval(timer);
  }, [load, absent]);
  return { answer, absent, error };
}

export function DemoWebhookInbox() {
  const { answer, absent, error } = useDemoInbox<WebhookInboxAnswer>('/api/v1/demo/webhook-inbox');

  if (absent) return null;
  const messages = answer?.messages ?? [];
  return (
    <section className="alert-inbox" data-testid="demo-webhook-inbox">
      <div className="alert-inbox-head">
        <h2>Demo webhook inbox {answer ? `(${messages.length})` : ''}</h2>
      </div>
      <p className="muted">
        What the demo's local webhook receiver got: every alert is posted to{' '}
        <code>{answer?.url ?? 'a local receiver'}</code> as a team's own webhook would receive it.
      </p>
      {error ? (
        <p className="error-text" role="alert">
          {error}
        </p>
      ) : null}
      {answer && messages.length === 0 ? (
        <p className="muted">
          No messages yet: start an incident (<code>POST /api/v1/demo/incidents</code> with{' '}
          <code>
            {'{'}"name": "fraud-burst"{'}'}
          </code>
          ).
        </p>
      ) : null}
      <ul className="alert-inbox-list">
        {messages.slice(0, SHOWN).map((m) => {
          const status = m.body?.status ?? '?';
          const alerts = m.body?.alerts ?? [];
          const severity = alerts[0]?.labels?.['severity'] ?? '';
          return (
            <li key={m.id} data-testid="webhook-message">
              <div className="alert-inbox-line">
                <span className={`sev-chip sev-${status === 'resolved' ? 'resolved' : severity}`}>{status}</span>
                <strong>{m.body?.title ?? alerts[0]?.labels?.['alertname'] ?? 'notification'}</strong>
                <span className="muted">{new Date(m.receivedAt).toLocaleString()}</span>
              </div>
              <ul className="alert-inbox-alerts">
                {alerts.slice(0, 3).map((a, i) => (
                  <li key={a.fingerprint ?? i}>{a.summary ?? a.labels?.['alertname']}</li>
                ))}
                {alerts.length > 3 ? <li className="muted">and {alerts.length - 3} more</li> : null}
              </ul>
              <details className="webhook-body">
                <summary>JSON body</summary>
                <pre>{JSON.stringify(m.body, null, 2)}</pre>
              </details>
            </li>
          );
        })}
      </ul>
      {messages.length > SHOWN ? (
        <p className="muted">
          The newest {SHOWN} of {messages.length} shown.
        </p>
      ) : null}
    </section>
  );
}

interface MailMessage {
  id: number;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  notificationId: string;
}

interface MailInboxAnswer {
  url: string;
  messages: MailMessage[];
}

/**
 * The demo's local e-mail inbox (an SMTP server the demo's e-mail receiver
 * sends every alert to): subject, sender, recipients and the plain-text
 * part as a mail client shows them. Shown only while a demo runs.
 */
export function DemoEmailInbox() {
  const { answer, absent, error } = useDemoInbox<MailInboxAnswer>('/api/v1/demo/email-inbox');

  if (absent) return null;
  const messages = answer?.messages ?? [];
  return (
    <section className="alert-inbox" data-testid="demo-email-inbox">
      <div className="alert-inbox-head">
        <h2>Demo e-mail inbox {answer ? `(${messages.length})` : ''}</h2>
      </div>
      <p className="muted">
        What the demo's local SMTP server got: every alert is e-mailed to it at{' '}
        <code>{answer?.url ?? 'a local server'}</code>.
      </p>
      {error ? (
        <p className="error-text" role="alert">
          {error}
        </p>
      ) : null}
      {answer && messages.length === 0 ? <p className="muted">No e-mails yet.</p> : null}
      <ul className="alert-inbox-list">
        {messages.slice(0, SHOWN).map((m) => (
          <li key={m.id} data-testid="email-message">
            <div className="alert-inbox-line">
              <strong>{m.subject || '(no subject)'}</strong>
              <span className="muted">{new Date(m.receivedAt).toLocaleString()}</span>
            </div>
            <div className="muted">
              From {m.from} to {m.to.join(', ')}
            </div>
            <details className="webhook-body">
              <summary>Message</summary>
              <pre>{m.text}</pre>
            </details>
          </li>
        ))}
      </ul>
      {messages.length > SHOWN ? (
        <p className="muted">
          The newest {SHOWN} of {messages.length} shown.
        </p>
      ) : null}
    </section>
  );
}
