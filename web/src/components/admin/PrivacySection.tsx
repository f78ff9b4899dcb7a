/**
 * GDPR requests for one customer: export their events as a JSON file, or erase
 * them (every data class but the audit trail) after typing the customer id or
 * e-mail again, because an erasure cannot be undone.
 */
import { useEffect, useState } from 'react';
import { api } from '../../api.ts';

interface ExportAnswer {
  customerIds: string[];
  exportedAt: string;
  count: number;
  truncated: boolean;
  note?: string;
  events: unknown[];
}

interface ErasureAnswer {
  deleted: number;
  byDataClass: Record<string, number>;
  customerIds: string[];
  note?: string;
}

/** A file name that is safe on every system: `shoplens-customer-<id>.json`. */
function exportFileName(id: string): string {
  return `shoplens-customer-${id.replace(/[^A-Za-z0-9._-]+/g, '_') || 'export'}.json`;
}

export function PrivacySection({ onError }: { onError: (message: string) => void }) {
  const [subject, setSubject] = useState({ customerId: '', email: '' });
  const [busy, setBusy] = useState(false);
  const [download, setDownload] = useState<{ url: string; name: string; answer: ExportAnswer } | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState('');
  const [erased, setErased] = useState<ErasureAnswer | null>(null);

  const customerId = subject.customerId.trim();
  const email = subject.email.trim();
  const named = customerId || email;
  const body = { ...(customerId ? { customer_id: customerId } : {}), ...(email ? { email } : {}) };

  // The object URL holds the whole export in memory: let it go with the link.
  useEffect(() => {
    if (!download) return undefined;
    return () => URL.revokeObjectURL(download.url);
  }, [download]);

  const exportEvents = async () => {
    setBusy(true);
    setErased(null);
    onError('');
    try {
      const answer = await api<ExportAnswer>(`/api/v1/privacy/export?${new URLSearchParams(body).toString()}`);
      const blob = new Blob([JSON.stringify(answer, null, 2)], { type: 'application/json' });
      const next = {
        url: URL.createObjectURL(blob),
        name: exportFileName(customerId || answer.customerIds[0] || 'by-email'),
        answer,
      };
      setDownload(next);
      // Start the download at once; the link stays for a second copy.
      const a = document.createElement('a');
      a.href = next.url;
      a.download = next.name;
      a.click();
    } catch (err) {
      onError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const erase = async () => {
    setBusy(true);
    onError('');
    try {
      setErased(await api<ErasureAnswer>('/api/v1/privacy/erasure', { body }));
      setConfirming(false);
      setTyped('');
    } catch (err) {
      onError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="admin-section" aria-labelledby="admin-privacy">
      <h2 id="admin-privacy">Customer data (GDPR)</h2>
      <p className="muted">
        Export or erase every event of one customer in this tenant, found by customer id or e-mail address. The audit
        trail is never erased. E-mail addresses are usually stored masked: prefer the customer id.
      </p>
      <div className="toolbar">
        <input
          aria-label="Customer id"
          placeholder="customer id (cust_42)"
          value={subject.customerId}
          onChange={(e) => {
            setSubject({ ...subject, customerId: e.target.value });
            setConfirming(false);
          }}
        />
        <input
          aria-label="E-mail"
          type="email"
          placeholder="or e-mail address"
          value={subject.email}
          onChange={(e) => {
            setSubject({ ...subject, email: e.target.value });
            setConfirming(false);
          }}
        />
        <button type="button" disabled={!named || busy} onClick={() => void exportEvents()}>
          Export JSON
        </button>
        <button
          type="button"
          className="danger"
          disabled={!named || busy}
          onClick={() => {
            setConfirming(true);
            setErased(null);
          }}
        >
          Erase…
        </button>
      </div>

      {download ? (
        <div className="admin-result" data-testid="export-result">
          Exported <strong>{download.answer.count.toLocaleString()}</strong> events
          {download.answer.customerIds.length ? ` of ${download.answer.customerIds.join(', ')}` : ''}
          {download.answer.truncated ? ' (truncated at the export limit)' : ''}.{' '}
          <a href={download.url} download={download.name}>
            Download {download.name}
          </a>
          {download.answer.note ? <p className="muted">{download.answer.note}</p> : null}
        </div>
      ) : null}

      {confirming ? (
        <form
          className="admin-confirm"
          role="alertdialog"
          aria-label="Confirm erasure"
          onSubmit={(e) => {
            e.preventDefault();
            void erase();
          }}
        >
          <strong>Erase every event of {named}? This cannot be undone.</strong>
          <p className="muted">
            Logs, business and security events of this customer are deleted now; only the audit trail keeps a record of
            the erasure. Type <code>{named}</code> to confirm.
          </p>
          <div className="toolbar">
            <input aria-label="Type to confirm" value={typed} onChange={(e) => setTyped(e.target.value)} />
            <button type="submit" className="danger" disabled={typed.trim() !== named || busy}>
              Erase permanently
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}

      {erased ? (
        <div className="admin-result" data-testid="erasure-result">
          Erased <strong data-testid="erased-count">{erased.deleted.toLocaleString()}</strong> events
          {erased.customerIds.length ? ` of ${erased.customerIds.join(', ')}` : ''}
          {Object.keys(erased.byDataClass).length
            ? ` (${Object.entries(erased.byDataClass)
                .map(([c, n]) => `${c}: ${n}`)
                .join(', ')})`
            : ''}
          .{erased.note ? <p className="muted">{erased.note}</p> : null}
        </div>
      ) : null}
    </section>
  );
}
