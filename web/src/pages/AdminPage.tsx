/**
 * Admin: API keys, retention, GDPR export and erasure, and a link to the audit
 * trail in Explore. Every route behind it needs the admin role; with a lower
 * key the page says so instead of showing forms that would fail.
 */
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, UNAUTHORIZED_EVENT } from '../api.ts';
import { KeysSection, type KeyView } from '../components/admin/KeysSection.tsx';
import { PrivacySection } from '../components/admin/PrivacySection.tsx';
import { RetentionSection, type RetentionView } from '../components/admin/RetentionSection.tsx';
import { navigate } from '../router.ts';
import { DocsLink } from '../components/DocsLink.tsx';

/** The audit trail of the last 7 days in Explore (only admins see `data_class:audit`). */
export const AUDIT_TRAIL_URL = `/explore?${new URLSearchParams({
  q: 'data_class:audit | fields @timestamp, user.id, event.action, message',
  from: 'now-7d',
  to: 'now',
}).toString()}`;

type Load =
  | { kind: 'loading' }
  | { kind: 'forbidden'; message: string }
  | { kind: 'failed'; message: string }
  | { kind: 'ok'; keys: KeyView[]; retention: RetentionView };

export function AdminPage() {
  const [state, setState] = useState<Load>({ kind: 'loading' });
  const [error, setError] = useState('');

  const load = useCallback(async () => {
    try {
      const [k, r] = await Promise.all([
        api<{ keys: KeyView[] }>('/api/v1/keys'),
        api<RetentionView>('/api/v1/retention'),
      ]);
      setState({ kind: 'ok', keys: k.keys, retention: r });
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) setState({ kind: 'forbidden', message: err.message });
      else setState({ kind: 'failed', message: (err as Error).message });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const reload = async () => {
    setError('');
    await load();
  };

  return (
    <div className="page admin">
      <div className="page-head">
        <div>
          <h1>Admin</h1>
          <p className="muted">API keys, retention and customer data requests for this tenant.</p>
          <DocsLink topic="security.md" label="Security and privacy" />
        </div>
        {state.kind === 'ok' ? (
          <div className="actions">
            <a
              className="admin-link"
              href={AUDIT_TRAIL_URL}
              onClick={(e) => {
                e.preventDefault();
                navigate(AUDIT_TRAIL_URL);
              }}
            >
              View the audit trail ↗
            </a>
          </div>
        ) : null}
      </div>

      {state.kind === 'loading' ? <p className="page-message">Loading…</p> : null}
      {state.kind === 'forbidden' ? (
        <div className="admin-forbidden" role="alert" data-testid="admin-forbidden">
          <strong>This page needs an API key with the admin role.</strong>
          <p>The server answered: {state.message}</p>
          <p>
            <button type="button" onClick={() => window.dispatchEvent(new Event(UNAUTHORIZED_EVENT))}>
              Use another key
            </button>
          </p>
        </div>
      ) : null}
      {state.kind === 'failed' ? (
        <p className="error-text" role="alert">
          {state.message}
        </p>
      ) : null}

      {error ? (
        <p className="error-text" role="alert" data-testid="admin-error">
          {error}
        </p>
      ) : null}

      {state.kind === 'ok' ? (
        <>
          <KeysSection keys={state.keys} onChanged={reload} onError={setError} />
          <RetentionSection retention={state.retention} onChanged={reload} onError={setError} />
          <PrivacySection onError={setError} />
        </>
      ) : null}
    </div>
  );
}
