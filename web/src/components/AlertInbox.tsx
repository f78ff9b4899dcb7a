/**
 * The in-app inbox (the `inapp` channel): notifications newest first with
 * the unread count, acknowledged one by one or all at once (up to the newest
 * one shown, so one that arrives meanwhile stays unread). Reloads when the
 * live alerts change.
 */
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api.ts';
import { refreshLiveAlerts, useLiveAlerts } from '../live-alerts.ts';
import '../alerts-live.css';

const PAGE = 10;

interface InboxItemView {
  id: string;
  status: 'firing' | 'resolved';
  title: string;
  severity: string;
  priority: string;
  alerts: { fingerprint: string; alertname: string; status: string; summary: string; endsAt?: string }[];
  alertCount: number;
  createdAt: string;
  acknowledged: boolean;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
}

interface InboxAnswer {
  items: InboxItemView[];
  total: number;
  unread: number;
  nextOffset: number | null;
}

export function AlertInbox() {
  const { version } = useLiveAlerts();
  const [answer, setAnswer] = useState<InboxAnswer | null>(null);
  const [offset, setOffset] = useState(0);
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [error, setError] = useState('');

  const load = useCallback(async () => {
    try {
      const qs = new URLSearchParams({ limit: String(PAGE), offset: String(offset), unread: String(unreadOnly) });
      setAnswer(await api<InboxAnswer>(`/api/v1/alerts/inbox?${qs.toString()}`));
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  }, [offset, unreadOnly]);

  useEffect(() => {
    void load();
  }, [load, version]);

  const ack = async (path: string, body?: unknown) => {
    try {
      await api(path, body === undefined ? { method: 'POST' } : { body });
      await load();
      void refreshLiveAlerts();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const items = answer?.items ?? [];
  const newest = offset === 0 ? items[0] : undefined;
  return (
    <section className="alert-inbox" data-testid="alert-inbox">
      <div className="alert-inbox-head">
        <h2>
          Inbox <span data-testid="inbox-unread">{answer ? `(${answer.unread} unread)` : ''}</span>
        </h2>
        <label className="muted alert-inbox-filter">
          <input
            type="checkbox"
            checked={unreadOnly}
            onChange={(e) => {
              setUnreadOnly(e.target.checked);
              setOffset(0);
            }}
          />{' '}
          Unread only
        </label>
        <button
          type="button"
          disabled={!answer || answer.unread === 0}
          onClick={() => void ack('/api/v1/alerts/inbox/ack', { all: true, ...(newest ? { through: newest.id } : {}) })}
        >
          Acknowledge all
        </button>
      </div>
      {error ? (
        <p className="error-text" role="alert">
          {error}
        </p>
      ) : null}
      {answer && items.length === 0 ? (
        <p className="muted">
          {unreadOnly ? 'Nothing unread.' : 'No notifications yet: firing and resolved alerts land here.'}
        </p>
      ) : null}
      <ul className="alert-inbox-list">
        {items.map((item) => (
          <li key={item.id} className={item.acknowledged ? 'acked' : 'unread'} data-testid="inbox-item">
            <div className="alert-inbox-line">
              <span className={`sev-chip sev-${item.status === 'resolved' ? 'resolved' : item.severity}`}>
                {item.status === 'resolved' ? 'resolved' : `${item.priority} ${item.severity}`}
              </span>
              <strong>{item.alerts[0]?.alertname ?? item.title}</strong>
              <span className="muted">{new Date(item.createdAt).toLocaleString()}</span>
              {item.acknowledged ? (
                <span className="muted alert-inbox-ack" title={item.acknowledgedBy}>
                  ✓ acknowledged {item.acknowledgedAt ? new Date(item.acknowledgedAt).toLocaleTimeString() : ''}
                </span>
              ) : (
                <button
                  type="button"
                  className="alert-inbox-ack"
                  onClick={() => void ack(`/api/v1/alerts/inbox/${encodeURIComponent(item.id)}/ack`)}
                >
                  Acknowledge
                </button>
              )}
            </div>
            <ul className="alert-inbox-alerts">
              {item.alerts.slice(0, 3).map((a) => (
                <li key={a.fingerprint}>{a.summary}</li>
              ))}
              {item.alertCount > 3 ? <li className="muted">and {item.alertCount - 3} more</li> : null}
            </ul>
          </li>
        ))}
      </ul>
      {answer && (offset > 0 || answer.nextOffset !== null) ? (
        <div className="toolbar">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Newer
          </button>
          <span className="muted">
            {offset + 1}–{offset + items.length} of {answer.total}
          </span>
          <button
            type="button"
            disabled={answer.nextOffset === null}
            onClick={() => setOffset(answer.nextOffset ?? offset)}
          >
            Older
          </button>
        </div>
      ) : null}
    </section>
  );
}
