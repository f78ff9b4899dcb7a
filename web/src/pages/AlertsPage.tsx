/**
 * Alerts: firing and pending alerts (each linking to Explore or its dashboard
 * with the query and time window), the rules with their last evaluation and
 * values, a history timeline per rule, silences, and notification delivery
 * problems, and the in-app inbox. Reloads when the live alerts change (and every 10 s).
 */
import { Fragment, useCallback, useEffect, useState } from 'react';
import { api } from '../api.ts';
import { AlertInbox } from '../components/AlertInbox.tsx';
import { DemoEmailInbox, DemoWebhookInbox } from '../components/DemoWebhookInbox.tsx';
import { DocsLink } from '../components/DocsLink.tsx';
import { RuleEditor, type RuleEditTarget } from '../components/alerts/RuleEditor.tsx';
import { useLiveAlerts } from '../live-alerts.ts';

interface AlertView {
  fingerprint: string;
  state: 'pending' | 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  values: Record<string, unknown>;
  startsAt: string;
  endsAt?: string;
  link: string;
  flapping: boolean;
  silencedBy: string | null;
}

interface RuleView {
  name: string;
  severity: string;
  severityLabel: string;
  source: { kind: string; path?: string };
  spec: { condition: string; window: number; every: number } & Record<string, unknown>;
  lastEvaluatedAt: string | null;
  lastError: string | null;
  lastSamples: { labels: Record<string, string>; values: Record<string, unknown>; active: boolean }[];
  firing: number;
  pending: number;
}

interface HistoryItem {
  from: string;
  to: string;
  atMs: number;
  groupLabels: Record<string, string>;
}

interface SilenceView {
  id: string;
  matchers: { name: string; op: string; value: string }[];
  startsAt: string;
  endsAt: string;
  comment: string;
  active: boolean;
  expired: boolean;
}

interface NotificationView {
  id: string;
  receiver: string;
  status: string;
  alerts: string[];
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

const SEVERITY_COLOUR: Record<string, string> = {
  critical: '#d00000',
  high: '#e67700',
  warning: '#c99700',
  info: '#1c7ed6',
};

function Severity({ word, priority }: { word: string; priority?: string }) {
  return (
    <span style={{ color: SEVERITY_COLOUR[word] ?? 'inherit', fontWeight: 600 }}>
      {priority ? `${priority} ` : ''}
      {word}
    </span>
  );
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

function valueText(values: Record<string, unknown>): string {
  return Object.entries(values)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'boolean')
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Math.round(v * 1000) / 1000 : String(v)}`)
    .join(' ');
}

function when(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

function RuleHistory({ name }: { name: string }) {
  const [items, setItems] = useState<HistoryItem[] | null>(null);
  useEffect(() => {
    api<{ history: HistoryItem[] }>(`/api/v1/alerts/rules/${encodeURIComponent(name)}/history?limit=50`).then(
      (r) => setItems(r.history),
      () => setItems([]),
    );
  }, [name]);
  if (items === null) return <p className="muted">Loading…</p>;
  if (items.length === 0) return <p className="muted">No transitions yet.</p>;
  return (
    <ol className="muted" data-testid={`history-${name}`}>
      {[...items]
        .sort((a, b) => b.atMs - a.atMs)
        .map((h) => (
          <li key={`${h.atMs}-${h.to}-${labelText(h.groupLabels)}`}>
            {new Date(h.atMs).toLocaleString()}: {h.from} → <strong>{h.to}</strong> {labelText(h.groupLabels)}
          </li>
        ))}
    </ol>
  );
}

export function AlertsPage() {
  const [alerts, setAlerts] = useState<AlertView[]>([]);
  const [rules, setRules] = useState<RuleView[]>([]);
  const [silences, setSilences] = useState<SilenceView[]>([]);
  const [pending, setPending] = useState<NotificationView[]>([]);
  const [error, setError] = useState('');
  const [openRule, setOpenRule] = useState('');
  const [form, setForm] = useState({ name: 'alertname', value: '', hours: '2', comment: '' });
  const [editing, setEditing] = useState<RuleEditTarget | null>(null);
  const live = useLiveAlerts();

  const load = useCallback(async () => {
    try {
      const [a, r, s, n] = await Promise.all([
        api<{ alerts: AlertView[] }>('/api/v1/alerts'),
        api<{ rules: RuleView[] }>('/api/v1/alerts/rules'),
        api<{ silences: SilenceView[] }>('/api/v1/alerts/silences'),
        api<{ pending: NotificationView[] }>('/api/v1/alerts/notifications'),
      ]);
      setAlerts(a.alerts);
      setRules(r.rules);
      setSilences(s.silences);
      setPending(n.pending);
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  }, []);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 10_000);
    return () => clearInterval(timer);
  }, [load]);
  // An alert fired, resolved or was silenced: show it now rather than at the next 10 s refresh.
  useEffect(() => {
    if (live.version > 0) void load();
  }, [load, live.version]);

  const addSilence = async () => {
    try {
      await api('/api/v1/alerts/silences', {
        body: {
          matchers: [{ name: form.name, value: form.value }],
          endsAt: `now+${Number(form.hours) || 1}h`,
          comment: form.comment,
        },
      });
      setForm({ ...form, value: '', comment: '' });
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const editRule = (r: RuleView) => {
    const origin = r.source.kind === 'pack' ? 'the rule pack' : (r.source.path ?? 'a rule file');
    setEditing({ mode: r.source.kind === 'api' ? 'edit' : 'copy', spec: { ...r.spec, name: r.name }, origin });
    requestAnimationFrame(() => document.querySelector('[data-testid=rule-editor]')?.scrollIntoView());
  };

  const deleteRule = async (name: string) => {
    try {
      await api(`/api/v1/alerts/rules/${encodeURIComponent(name)}`, { method: 'DELETE' });
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const expire = async (id: string) => {
    try {
      await api(`/api/v1/alerts/silences/${id}`, { method: 'DELETE' });
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const active = alerts.filter((a) => a.state !== 'resolved');
  return (
    <div className="page alerts-page">
      <div className="page-head">
        <div>
          <h1>Alerts</h1>
          <DocsLink topic="alerting.md" label="Rules, routing and silences" />
        </div>
        <div className="actions">
          <button type="button" onClick={() => void load()}>
            Refresh
          </button>
        </div>
      </div>
      {error ? (
        <p className="error-text" role="alert">
          {error}
        </p>
      ) : null}

      <h2>Firing and pending ({active.length})</h2>
      {active.length === 0 ? <p className="page-message">Nothing is firing.</p> : null}
      <div className="table-wrap">
        <table className="result-table alerts-table" data-testid="alerts-table" hidden={active.length === 0}>
          <thead>
            <tr>
              <th>State</th>
              <th>Severity</th>
              <th>Rule</th>
              <th>Labels</th>
              <th>Summary</th>
              <th>Since</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {active.map((a) => (
              <tr key={a.fingerprint}>
                <td data-label="State">
                  {a.state}
                  {a.flapping ? ' (flapping)' : ''}
                  {a.silencedBy ? ' (silenced)' : ''}
                </td>
                <td data-label="Severity" className="nowrap">
                  <Severity word={a.labels['severity'] ?? ''} priority={a.labels['priority']} />
                </td>
                <td data-label="Rule">{a.labels['alertname']}</td>
                <td data-label="Labels" className="labels">
                  {labelText(Object.fromEntries(Object.entries(a.labels).filter(([k]) => k.includes('.'))))}
                </td>
                <td data-label="Summary" className="wide">
                  {a.annotations['summary'] ?? valueText(a.values)}
                </td>
                <td data-label="Since">{when(a.startsAt)}</td>
                <td data-label="Open" className="nowrap">
                  <a href={a.link}>{a.link.includes('/explore') ? 'Explore ↗' : 'Dashboard ↗'}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <AlertInbox />
      <DemoWebhookInbox />
      <DemoEmailInbox />

      <h2>Rules ({rules.length})</h2>
      <div className="table-wrap">
        <table className="result-table alerts-table" data-testid="rules-table">
          <thead>
            <tr>
              <th>Rule</th>
              <th>Severity</th>
              <th>Condition</th>
              <th>Last evaluation</th>
              <th>Last values</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <Fragment key={r.name}>
                <tr className="expandable" onClick={() => setOpenRule(openRule === r.name ? '' : r.name)}>
                  <td data-label="Rule">
                    <span>
                      {r.name} <span className="muted">({r.source.kind})</span>
                    </span>
                  </td>
                  <td data-label="Severity" className="nowrap">
                    <Severity word={r.severityLabel} priority={r.severity} />
                  </td>
                  <td data-label="Condition">
                    <code>{r.spec.condition}</code>
                  </td>
                  <td data-label="Evaluated">
                    {r.lastError ? <span className="error-text">{r.lastError}</span> : when(r.lastEvaluatedAt)}
                  </td>
                  <td data-label="Last values" className="wide">
                    <div>
                      {r.lastSamples.slice(0, 3).map((s) => (
                        <div key={labelText(s.labels)}>
                          {labelText(s.labels)} {valueText(s.values)}
                        </div>
                      ))}
                    </div>
                  </td>
                  <td data-label="State" className="rule-state">
                    {r.firing > 0 ? `${r.firing} firing` : r.pending > 0 ? `${r.pending} pending` : 'ok'}
                    <button
                      type="button"
                      title={r.source.kind === 'api' ? undefined : 'Read-only here: edit a copy'}
                      onClick={(e) => {
                        e.stopPropagation();
                        editRule(r);
                      }}
                    >
                      {r.source.kind === 'api' ? 'Edit' : 'Copy to edit'}
                    </button>
                    {r.source.kind === 'api' ? (
                      <button
                        type="button"
                        onClick={(e) => {
                          e.stopPropagation();
                          void deleteRule(r.name);
                        }}
                      >
                        Delete
                      </button>
                    ) : null}
                  </td>
                </tr>
                {openRule === r.name ? (
                  <tr>
                    <td colSpan={6}>
                      <RuleHistory name={r.name} />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>

      <RuleEditor
        key={editing ? `${editing.mode}-${String(editing.spec?.['name'])}` : 'new'}
        target={editing}
        onSaved={async () => {
          setEditing(null);
          await load();
        }}
        onCancel={() => setEditing(null)}
      />

      <h2>Silences</h2>
      <div className="toolbar">
        <input
          aria-label="Label"
          value={form.name}
          onChange={(e) => setForm({ ...form, name: e.target.value })}
          placeholder="label"
        />
        <span>=</span>
        <input
          aria-label="Value"
          value={form.value}
          onChange={(e) => setForm({ ...form, value: e.target.value })}
          placeholder="value"
        />
        <input
          aria-label="Hours"
          value={form.hours}
          size={3}
          onChange={(e) => setForm({ ...form, hours: e.target.value })}
        />
        <span>hours</span>
        <input
          aria-label="Comment"
          value={form.comment}
          onChange={(e) => setForm({ ...form, comment: e.target.value })}
          className="grow"
          placeholder="why (maintenance, known issue…)"
        />
        <button type="button" onClick={() => void addSilence()} disabled={!form.value || !form.comment}>
          Silence
        </button>
      </div>
      <ul>
        {silences
          .filter((s) => !s.expired)
          .map((s) => (
            <li key={s.id}>
              {s.matchers.map((m) => `${m.name}${m.op}${m.value}`).join(', ')} — {s.comment} ({when(s.startsAt)} →{' '}
              {when(s.endsAt)}){s.active ? '' : ' (scheduled)'}{' '}
              <button type="button" onClick={() => void expire(s.id)}>
                Expire
              </button>
            </li>
          ))}
      </ul>

      {pending.length > 0 ? (
        <>
          <h2>Notifications waiting for delivery ({pending.length})</h2>
          <ul>
            {pending.map((n) => (
              <li key={n.id} className="error-text">
                {n.receiver}: {n.alerts.join(', ')} ({n.status}), {n.attempts} attempts — {n.lastError ?? 'queued'}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}
