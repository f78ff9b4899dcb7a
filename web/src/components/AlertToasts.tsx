/**
 * A toast for each P0/P1 alert that starts firing: shown once per alert
 * firing (rule + group + start time, remembered in localStorage, so neither
 * a reload nor another page shows it again), until dismissed. A toast whose
 * alert has resolved meanwhile says so. Silenced alerts get none. On a
 * phone only the newest is shown (two covered a quarter of the screen and
 * the buttons under them), with the count of the others.
 */
import { useEffect, useState } from 'react';
import { navigate, useLocation } from '../router.ts';
import { useLiveAlerts, type LiveAlert } from '../live-alerts.ts';
import { useNarrow } from '../use-narrow.ts';
import '../alerts-live.css';

const SEEN_STORAGE = 'shoplens.alertToastsSeen';
const MAX_SEEN = 300;
const MAX_SHOWN = 3;
const MAX_SHOWN_NARROW = 1;
const URGENT = new Set(['P0', 'P1']);

const keyOf = (a: LiveAlert): string => `${a.fingerprint}|${a.startsAt}`;

function readSeen(): string[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(SEEN_STORAGE) ?? '[]');
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

function writeSeen(keys: readonly string[]): void {
  try {
    localStorage.setItem(SEEN_STORAGE, JSON.stringify(keys.slice(-MAX_SEEN)));
  } catch {
    // Private mode or full storage: toasts may then repeat after a reload, nothing worse.
  }
}

function go(path: string): void {
  navigate(path);
}

export function AlertToasts() {
  const { snapshot } = useLiveAlerts();
  const { path } = useLocation();
  const [toasts, setToasts] = useState<LiveAlert[]>([]);
  const maxShown = useNarrow() ? MAX_SHOWN_NARROW : MAX_SHOWN;

  useEffect(() => {
    if (!snapshot) return;
    const fresh = snapshot.alerts.filter((a) => URGENT.has(a.priority) && !a.silenced);
    const seen = readSeen();
    const seenSet = new Set(seen);
    const added = fresh.filter((a) => !seenSet.has(keyOf(a)));
    if (added.length > 0) {
      writeSeen([...seen, ...added.map(keyOf)]);
      setToasts((shown) => [...added, ...shown]);
    }
  }, [snapshot]);

  if (toasts.length === 0) return null;
  const firing = new Set((snapshot?.alerts ?? []).map(keyOf));
  const dismiss = (key: string) => setToasts((shown) => shown.filter((t) => keyOf(t) !== key));
  const hidden = toasts.length - maxShown;
  return (
    <div className="alert-toasts" aria-live="assertive">
      {toasts.slice(0, maxShown).map((t) => {
        const resolved = !firing.has(keyOf(t));
        return (
          <div
            key={keyOf(t)}
            className={`alert-toast sev-${resolved ? 'resolved' : t.severity}`}
            role="alert"
            data-testid="alert-toast"
          >
            <div className="alert-toast-head">
              <span className={`sev-chip sev-${t.severity}`}>
                {t.priority} {t.severity}
              </span>
              <strong>{t.rule}</strong>
              {resolved ? <span className="muted">resolved</span> : null}
              <button
                type="button"
                className="alert-toast-close"
                aria-label="Dismiss"
                onClick={() => dismiss(keyOf(t))}
              >
                ×
              </button>
            </div>
            <p>{t.summary}</p>
            <div className="alert-toast-links">
              {t.dashboard && path !== `/dashboards/${encodeURIComponent(t.dashboard)}` ? (
                <a
                  href={`/dashboards/${encodeURIComponent(t.dashboard)}`}
                  onClick={(e) => {
                    e.preventDefault();
                    go(`/dashboards/${encodeURIComponent(t.dashboard ?? '')}`);
                  }}
                >
                  Open dashboard
                </a>
              ) : null}
              <a
                href="/alerts"
                onClick={(e) => {
                  e.preventDefault();
                  go('/alerts');
                }}
              >
                Alerts
              </a>
            </div>
          </div>
        );
      })}
      {hidden > 0 ? (
        <button
          type="button"
          className="alert-toast-more"
          onClick={() => setToasts((shown) => shown.slice(0, maxShown))}
        >
          {hidden} more firing: dismiss them
        </button>
      ) : null}
    </div>
  );
}
