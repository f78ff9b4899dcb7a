/**
 * Creates and edits alert rules stored through the API (PUT
 * /api/v1/alerts/rules/{name}), with a preview of when the draft would have
 * fired. Pack and file rules are read-only: the editor opens a copy of one,
 * which saved under the same name replaces it (deleting the copy brings the
 * original back) or under a new name runs beside it. A 400 from the server
 * names the field; that input is marked.
 */
import { useState, type CSSProperties, type ReactNode } from 'react';
import { api } from '../../api.ts';
import { useNarrow } from '../../use-narrow.ts';
import { RulePreview } from './RulePreview.tsx';
import { draftOf, EMPTY_DRAFT, fieldOfError, specOf, type RuleDraft, type RuleSpec } from './rule-draft.ts';

/** What the editor opens: a new rule, an API rule to edit, or a pack/file rule to copy. */
export interface RuleEditTarget {
  readonly mode: 'new' | 'edit' | 'copy';
  readonly spec?: RuleSpec;
  /** Where a copied rule comes from ("the rule pack", a file path). */
  readonly origin?: string;
}

const GRID: CSSProperties = {
  display: 'grid',
  gridTemplateColumns: 'repeat(auto-fill, minmax(150px, 1fr))',
  gap: '8px 12px',
  alignItems: 'end',
};
const WIDE: CSSProperties = { gridColumn: '1 / -1' };

function Field({
  label,
  wide,
  span,
  children,
}: {
  label: string;
  wide?: boolean;
  /** Columns taken on a wide screen (one column on a phone). */
  span?: number;
  children: ReactNode;
}) {
  const narrow = useNarrow();
  const columns = wide ? WIDE : span && !narrow ? { gridColumn: `span ${span}` } : {};
  return (
    <label style={{ display: 'flex', flexDirection: 'column', gap: 2, ...columns }}>
      <span className="muted" style={{ fontSize: 12 }}>
        {label}
      </span>
      {children}
    </label>
  );
}

export function RuleEditor({
  target,
  onSaved,
  onCancel,
}: {
  target: RuleEditTarget | null;
  onSaved: (name: string) => Promise<void> | void;
  onCancel: () => void;
}) {
  const mode = target?.mode ?? 'new';
  const [draft, setDraft] = useState<RuleDraft>(() => (target?.spec ? draftOf(target.spec) : EMPTY_DRAFT));
  const [error, setError] = useState('');
  const [saving, setSaving] = useState(false);
  const invalid = fieldOfError(error);
  const original = String(target?.spec?.['name'] ?? '');

  const set = (key: keyof RuleDraft) => (e: { target: { value: string } }) =>
    setDraft({ ...draft, [key]: e.target.value });
  const mark = (key: string) => (invalid === key ? { 'aria-invalid': true as const } : {});

  const save = async () => {
    setSaving(true);
    try {
      const spec = specOf(draft);
      await api(`/api/v1/alerts/rules/${encodeURIComponent(draft.name)}`, { method: 'PUT', body: spec });
      setError('');
      if (mode === 'new') setDraft(EMPTY_DRAFT);
      await onSaved(draft.name);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSaving(false);
    }
  };

  const heading = mode === 'edit' ? `Edit rule ${original}` : mode === 'copy' ? `Copy of ${original}` : 'New rule';
  const ready = draft.name !== '' && draft.query !== '' && draft.condition !== '';
  return (
    <section className="rule-editor" data-testid="rule-editor" aria-label={heading} style={{ marginTop: 24 }}>
      <h3>{heading}</h3>
      {mode === 'copy' ? (
        <p className="muted" data-testid="copy-note">
          {original} comes from {target?.origin ?? 'a rule file'} and is read-only here. Saving creates an editable
          rule: under the same name it replaces the original (delete it to go back to the original); under a new name
          both run.
        </p>
      ) : null}
      <div style={GRID} data-testid="rule-form">
        <Field label="Name" span={2}>
          <input
            aria-label="Rule name"
            placeholder="NoOrders"
            value={draft.name}
            readOnly={mode === 'edit'}
            onChange={set('name')}
            {...mark('name')}
          />
        </Field>
        <Field label="Severity">
          <select aria-label="Rule severity" value={draft.severity} onChange={set('severity')} {...mark('severity')}>
            {['P0', 'P1', 'P2', 'P3'].map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </Field>
        <Field label="Window">
          <input aria-label="Rule window" value={draft.window} onChange={set('window')} {...mark('window')} />
        </Field>
        <Field label="For (before firing)">
          <input aria-label="Rule for" value={draft.for} onChange={set('for')} {...mark('for')} />
        </Field>
        <Field label="Every">
          <input aria-label="Rule every" value={draft.every} onChange={set('every')} {...mark('every')} />
        </Field>
        <Field label="Query (its stats values are what the condition uses)" wide>
          <textarea
            aria-label="Rule query"
            rows={Math.min(6, Math.max(2, Math.ceil(draft.query.length / 50)))}
            placeholder="event.type:order_completed | stats count() as orders"
            value={draft.query}
            onChange={set('query')}
            {...mark('query')}
          />
        </Field>
        <Field label="Condition" span={3}>
          <input
            aria-label="Rule condition"
            placeholder="orders < 1"
            value={draft.condition}
            onChange={set('condition')}
            {...mark('condition')}
          />
        </Field>
        <Field label="Group by (comma separated)" span={2}>
          <input
            aria-label="Rule group by"
            placeholder="service.name"
            value={draft.groupBy}
            onChange={set('groupBy')}
            {...mark('group_by')}
          />
        </Field>
        <Field label="Summary (template)" wide>
          <input
            aria-label="Rule summary"
            placeholder="optional, e.g. {{ value.orders }} orders in 5 minutes"
            value={draft.summary}
            onChange={set('summary')}
            {...mark('annotations')}
          />
        </Field>
      </div>
      <details style={{ margin: '8px 0' }}>
        <summary className="muted">
          Other settings (JSON: labels, annotations, baseline, spike, absent, dashboard)
        </summary>
        <textarea
          aria-label="Other settings"
          rows={6}
          style={{ width: '100%', fontFamily: 'monospace' }}
          value={draft.more}
          onChange={set('more')}
        />
      </details>
      {error ? (
        <p className="error-text" role="alert">
          {error}
        </p>
      ) : null}
      <div className="toolbar">
        <button type="button" className="primary" disabled={!ready || saving} onClick={() => void save()}>
          {mode === 'edit' ? 'Save changes' : 'Save rule'}
        </button>
        {mode !== 'new' ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
      <RulePreview spec={() => ({ ...specOf(draft), name: draft.name || 'Preview' })} disabled={!ready} />
    </section>
  );
}
