/**
 * Edit mode of one panel: title, chart type, size, query (or funnel JSON), remove; the
 * warnings of the panel's last answer, whose suggestions fix the query in place.
 */
import { useState } from 'react';
import { QueryWarnings } from '../components/QueryWarnings.tsx';
import { PANEL_TYPES, type Panel, type PanelType, type QueryWarning } from '../types.ts';
import { replaceField } from './explore-query.ts';

export function PanelEditor({
  panel,
  warnings,
  onChange,
}: {
  panel: Panel;
  warnings?: readonly QueryWarning[];
  onChange: (p: Panel | null) => void;
}) {
  const [query, setQuery] = useState(panel.funnel ? JSON.stringify(panel.funnel, null, 1) : (panel.query ?? ''));
  const [error, setError] = useState('');
  const apply = () => {
    if (panel.type !== 'funnel') return onChange({ ...panel, query });
    try {
      onChange({ ...panel, funnel: JSON.parse(query) as Panel['funnel'] });
      setError('');
    } catch {
      setError('The funnel must be JSON: {"steps":[{"name":…,"filter":…}],"by":…}');
    }
  };
  const size = (key: 'w' | 'h', delta: number, max: number) =>
    onChange({ ...panel, [key]: Math.min(max, Math.max(1, panel[key] + delta)) });
  return (
    <div className="panel-editor" data-testid="panel-editor">
      <div className="editor-row">
        <input
          aria-label="Panel title"
          value={panel.title}
          onChange={(e) => onChange({ ...panel, title: e.target.value })}
        />
        <select
          aria-label="Chart type"
          value={panel.type}
          onChange={(e) => onChange({ ...panel, type: e.target.value as PanelType })}
        >
          {PANEL_TYPES.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </div>
      <div className="editor-row">
        <span className="muted">Width</span>
        <button type="button" onClick={() => size('w', -1, 12)} aria-label="Narrower">
          −
        </button>
        <span>{panel.w}</span>
        <button type="button" onClick={() => size('w', 1, 12)} aria-label="Wider">
          +
        </button>
        <span className="muted">Height</span>
        <button type="button" onClick={() => size('h', -1, 12)} aria-label="Shorter">
          −
        </button>
        <span>{panel.h}</span>
        <button type="button" onClick={() => size('h', 1, 12)} aria-label="Taller">
          +
        </button>
        <button type="button" className="danger" onClick={() => onChange(null)}>
          Remove
        </button>
      </div>
      <textarea
        aria-label="Panel query"
        value={query}
        rows={3}
        spellCheck={false}
        onChange={(e) => setQuery(e.target.value)}
        onBlur={apply}
      />
      {error ? <p className="error-text">{error}</p> : null}
      {panel.type === 'funnel' ? null : (
        <QueryWarnings
          warnings={warnings}
          onReplace={(field, suggestion) => {
            const fixed = replaceField(query, field, suggestion);
            setQuery(fixed);
            onChange({ ...panel, query: fixed });
          }}
        />
      )}
    </div>
  );
}
