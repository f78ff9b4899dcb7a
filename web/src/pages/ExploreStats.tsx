/**
 * A stats result in Explore: shown as a table or charted (line, bar, pie) with the same
 * chart code as dashboard panels, and saved as a panel on a new or existing dashboard
 * through the dashboard API (the server validates the panel as it does any edit).
 */
import { useEffect, useMemo, useState } from 'react';
import { LazyChart as Chart } from '../components/LazyChart.tsx';
import { chartOption } from '../components/chart-options.ts';
import { ResultTable } from '../components/ResultTable.tsx';
import { getDashboard, listDashboards, saveDashboard } from '../dashboard-io.ts';
import { navigate, setSearchParams } from '../router.ts';
import { resolveTime } from '../time.ts';
import type { Dashboard, DashboardSummary, Panel, QueryAnswer } from '../types.ts';
import { panelQuery, viewProblem, type StatsView } from './explore-query.ts';

export type { StatsView };

const VIEWS: readonly StatsView[] = ['table', 'line', 'bar', 'pie'];

export function StatsResult(props: {
  query: string;
  answer: QueryAnswer;
  from: string;
  to: string;
  view: StatsView;
  narrow: boolean;
}) {
  const { query, answer, from, to, narrow } = props;
  const view = viewProblem(props.view, answer) === '' ? props.view : 'table';
  const [saving, setSaving] = useState(false);
  const option = useMemo(() => {
    if (view === 'table') return undefined;
    const panel: Panel = { id: 'explore', title: '', type: view, w: 12, h: 3 };
    return chartOption(panel, answer, resolveTime(to) - resolveTime(from), narrow);
  }, [view, answer, from, to, narrow]);

  return (
    <div className="stats-result">
      <div className="toolbar stats-toolbar">
        <div className="segmented" role="group" aria-label="Show the result as">
          {VIEWS.map((v) => {
            const problem = viewProblem(v, answer);
            return (
              <button
                key={v}
                type="button"
                data-testid={`view-${v}`}
                aria-pressed={view === v}
                disabled={problem !== ''}
                title={problem || `Show as ${v === 'table' ? 'a table' : `a ${v} chart`}`}
                onClick={() => setSearchParams({ view: v === 'table' ? undefined : v }, { replace: true })}
              >
                {v[0]?.toUpperCase()}
                {v.slice(1)}
              </button>
            );
          })}
        </div>
        <button type="button" data-testid="save-panel" aria-expanded={saving} onClick={() => setSaving(!saving)}>
          Save as panel…
        </button>
      </div>
      {saving ? <SavePanelForm query={query} type={view} onClose={() => setSaving(false)} /> : null}
      {option ? (
        <div className="explore-chart" data-testid="explore-chart">
          <Chart option={option} />
        </div>
      ) : (
        <ResultTable answer={answer} />
      )}
    </div>
  );
}

const NEW = '';

function SavePanelForm({ query, type, onClose }: { query: string; type: StatsView; onClose: () => void }) {
  const [dashboards, setDashboards] = useState<DashboardSummary[] | null>(null);
  const [target, setTarget] = useState(NEW);
  const [dashboardTitle, setDashboardTitle] = useState('My dashboard');
  const [title, setTitle] = useState(() => defaultTitle(query));
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    listDashboards().then(
      (r) => setDashboards(r.dashboards),
      (err: Error) => setError(err.message),
    );
  }, []);

  const save = async () => {
    setBusy(true);
    setError('');
    try {
      const taken = (dashboards ?? []).map((d) => d.id);
      const base: Dashboard =
        target === NEW
          ? { id: freeId(slug(dashboardTitle), taken), title: dashboardTitle.trim(), panels: [] }
          : (await getDashboard(target)).dashboard;
      const ids = base.panels.map((p) => p.id);
      const panel: Panel = {
        id: freeId(slug(title) || 'panel', ids),
        title: title.trim(),
        type,
        query: panelQuery(query),
        w: type === 'pie' ? 4 : 6,
        h: 3,
      };
      const saved = await saveDashboard({ ...base, panels: [...base.panels, panel] });
      navigate(`/dashboards/${encodeURIComponent(saved.dashboard.id)}`);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  return (
    <form
      className="save-panel"
      data-testid="save-panel-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label>
        <span className="muted">Panel title</span>
        <input aria-label="Panel title" value={title} required onChange={(e) => setTitle(e.target.value)} />
      </label>
      <label>
        <span className="muted">Dashboard</span>
        <select aria-label="Dashboard" value={target} onChange={(e) => setTarget(e.target.value)}>
          <option value={NEW}>New dashboard…</option>
          {(dashboards ?? []).map((d) => (
            <option key={d.id} value={d.id}>
              {d.title}
            </option>
          ))}
        </select>
      </label>
      {target === NEW ? (
        <label>
          <span className="muted">New dashboard's title</span>
          <input
            aria-label="New dashboard title"
            value={dashboardTitle}
            required
            onChange={(e) => setDashboardTitle(e.target.value)}
          />
        </label>
      ) : null}
      <div className="toolbar">
        <button type="submit" className="primary" disabled={busy || dashboards === null}>
          Save panel
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
      <p className="muted">
        Shown as {type === 'table' ? 'a table' : `a ${type} chart`} over the dashboard's time range
        {panelQuery(query) === query ? '' : '; its time buckets follow the range ($interval)'}.
      </p>
      {error ? (
        <p className="error-text" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}

/** "payments by transaction.gateway" from "… | stats count() as payments by transaction.gateway | …". */
function defaultTitle(query: string): string {
  const stats = (/\|\s*stats\s+([^|]+)/.exec(query)?.[1]?.trim() ?? 'Query result')
    // "count() as payments by x" reads better as "payments by x".
    .replace(/\b\w+\([^)]*\)\s+as\s+/gi, '');
  const bin = /bin\(\s*@timestamp[^)]*\)/;
  if (!bin.test(stats)) return stats.slice(0, 120);
  const rest = stats
    .replace(/\s*,\s*bin\(\s*@timestamp[^)]*\)/, '')
    .replace(/\bby\s+bin\(\s*@timestamp[^)]*\)\s*,?\s*/, 'by ')
    .replace(/\s+by\s*$/, '');
  return `${rest} over time`.slice(0, 120);
}

/** A dashboard or panel id from a title: lowercase letters, digits and "-". */
function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
}

function freeId(base: string, taken: readonly string[]): string {
  const id = base || 'dashboard';
  if (!taken.includes(id)) return id;
  for (let i = 2; ; i++) if (!taken.includes(`${id}-${i}`)) return `${id}-${i}`;
}
