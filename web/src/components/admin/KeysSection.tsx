/**
 * API keys of this tenant: create one (its text is shown once, to copy), list
 * them without their text, and revoke one after a confirmation.
 */
import { useState } from 'react';
import { api, apiKey } from '../../api.ts';

/** A key as `GET /api/v1/keys` lists it: never its text. */
export interface KeyView {
  id: string;
  name: string;
  tenant: string;
  role: 'ingest' | 'read' | 'admin';
  operator: boolean;
  createdAt: string;
  createdBy: string;
  revokedAt?: string;
}

const ROLES = ['read', 'ingest', 'admin'] as const;

function when(iso: string): string {
  return new Date(iso).toLocaleString();
}

/** The new key's text, once, with a copy button. */
function NewKeyBox({
  created,
  onDismiss,
}: {
  created: { key: string; name: string; note: string };
  onDismiss: () => void;
}) {
  const [copied, setCopied] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied('Copied.');
    } catch {
      setCopied('Copying is blocked here: select the key and copy it by hand.');
    }
  };
  return (
    <div className="admin-newkey" role="status" data-testid="new-key">
      <strong>Copy it now, it will not be shown again.</strong>
      <p className="muted">
        Key “{created.name}”. {created.note}
      </p>
      <div className="toolbar">
        <input
          className="admin-keytext"
          readOnly
          value={created.key}
          aria-label="New API key"
          data-testid="new-key-text"
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" className="primary" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" onClick={onDismiss}>
          Done
        </button>
      </div>
      {copied ? <p className="muted">{copied}</p> : null}
    </div>
  );
}

export function KeysSection({
  keys,
  onChanged,
  onError,
}: {
  keys: KeyView[];
  onChanged: () => Promise<void>;
  onError: (message: string) => void;
}) {
  const [draft, setDraft] = useState<{ name: string; role: (typeof ROLES)[number] }>({ name: '', role: 'read' });
  const [created, setCreated] = useState<{ key: string; name: string; note: string } | null>(null);
  const [confirming, setConfirming] = useState('');
  const [busy, setBusy] = useState(false);
  // The key this browser uses (`slk_<id>_<secret>`): revoking it locks this page out.
  const ownId = /^slk_([A-Za-z0-9]+)_/.exec(apiKey())?.[1] ?? '';

  const create = async () => {
    setBusy(true);
    try {
      const answer = await api<{ key: string; name: string; note: string }>('/api/v1/keys', {
        body: { role: draft.role, ...(draft.name.trim() ? { name: draft.name.trim() } : {}) },
      });
      setCreated({ key: answer.key, name: answer.name, note: answer.note });
      setDraft({ ...draft, name: '' });
      await onChanged();
    } catch (err) {
      onError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (id: string) => {
    setBusy(true);
    try {
      await api(`/api/v1/keys/${encodeURIComponent(id)}`, { method: 'DELETE' });
      setConfirming('');
      await onChanged();
    } catch (err) {
      onError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="admin-section" aria-labelledby="admin-keys">
      <h2 id="admin-keys">API keys</h2>
      <p className="muted">
        A key has one role: ingest (send data), read (query, dashboards, alerts) or admin (everything). Only its id is
        listed; the key text is shown once, when it is created.
      </p>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <input
          aria-label="Key name"
          placeholder="name (e.g. fluent-bit on web-1)"
          size={30}
          value={draft.name}
          onChange={(e) => setDraft({ ...draft, name: e.target.value })}
        />
        <select
          aria-label="Key role"
          value={draft.role}
          onChange={(e) => setDraft({ ...draft, role: e.target.value as (typeof ROLES)[number] })}
        >
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
        <button type="submit" className="primary" disabled={busy}>
          Create key
        </button>
      </form>
      {created ? <NewKeyBox created={created} onDismiss={() => setCreated(null)} /> : null}
      <div className="table-wrap">
        <table className="result-table" data-testid="keys-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Id</th>
              <th>Role</th>
              <th>Created</th>
              <th>Created by</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} data-key-id={k.id}>
                <td>
                  {k.name}
                  {k.id === ownId ? <span className="muted"> (this browser's key)</span> : null}
                </td>
                <td>
                  <code>{k.id}</code>
                </td>
                <td>
                  {k.role}
                  {k.operator ? ' (operator)' : ''}
                </td>
                <td>{when(k.createdAt)}</td>
                <td>{k.createdBy}</td>
                <td data-testid="key-status">
                  {k.revokedAt ? <span className="muted">revoked {when(k.revokedAt)}</span> : 'active'}
                </td>
                <td>
                  {k.revokedAt ? null : confirming === k.id ? (
                    <span className="actions">
                      <button type="button" className="danger" disabled={busy} onClick={() => void revoke(k.id)}>
                        Yes, revoke
                      </button>
                      <button type="button" onClick={() => setConfirming('')}>
                        Cancel
                      </button>
                    </span>
                  ) : (
                    <button type="button" className="danger" onClick={() => setConfirming(k.id)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
