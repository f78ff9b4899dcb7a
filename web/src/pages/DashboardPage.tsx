/**
 * One dashboard: its panels for the range in the URL, auto-refresh, drill
 * down to Explore; edit mode (add, remove, resize, change query and type),
 * duplicate, export, delete / restore default.
 */
import { useEffect, useState } from 'react';
import { clearQueryCache } from '../api.ts';
import { DashboardAlertBanner } from '../components/DashboardAlertBanner.tsx';
import { PanelView } from '../components/PanelView.tsx';
import {
  copyId,
  deleteDashboard,
  exportDashboard,
  getDashboard,
  listDashboards,
  saveDashboard,
} from '../dashboard-io.ts';
import { navigate, setSearchParams, useLocation } from '../router.ts';
import { autoInterval, durationMs, expandQuery } from '../time.ts';
import { TimeBar } from '../components/TimeBar.tsx';
import type { Dashboard, DashboardAnswer, Panel, QueryWarning } from '../types.ts';
import { PanelEditor } from './PanelEditor.tsx';
import { chosenVariables, expandPanel, variableParam } from '../dashboard-variables.ts';
import { useNarrow } from '../use-narrow.ts';

export function DashboardPage({ id }: { id: string }) {
  const { search } = useLocation();
  const [loaded, setLoaded] = useState<DashboardAnswer | null>(null);
  const [draft, setDraft] = useState<Dashboard | null>(null);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  /** The last answer's warnings per panel (`<id>-<index>`), for the panel editors. */
  const [warnings, setWarnings] = useState<Record<string, readonly QueryWarning[]>>({});
  const narrow = useNarrow();

  useEffect(() => {
    getDashboard(id).then(
      (d) => {
        setLoaded(d);
        if (search.get('edit') === '1') setDraft(structuredClone(d.dashboard));
      },
      (err: Error) => setError(err.message),
    );
  }, [id]);

  const from = search.get('from') ?? loaded?.dashboard.range?.from ?? 'now-1h';
  const to = search.get('to') ?? loaded?.dashboard.range?.to ?? 'now';
  const refresh = search.get('refresh') ?? '';

  useEffect(() => {
    const every = durationMs(refresh);
    if (!every) return;
    const timer = setInterval(() => {
      clearQueryCache();
      setTick((t) => t + 1);
    }, every);
    return () => clearInterval(timer);
  }, [refresh]);

  if (error) return <p className="page-message error-text">{error}</p>;
  if (!loaded) return <p className="page-message">Loading…</p>;
  const dashboard = draft ?? loaded.dashboard;
  const editing = draft !== null;
  const chosen = chosenVariables(dashboard, search);

  const save = async () => {
    if (!draft) return;
    try {
      const saved = await saveDashboard(draft);
      setLoaded(saved);
      setDraft(null);
      setError('');
      setSearchParams({ edit: undefined }, { replace: true });
    } catch (err) {
      alert((err as Error).message);
    }
  };
  const duplicate = async () => {
    const taken = (await listDashboards()).dashboards.map((d) => d.id);
    const copy = { ...structuredClone(dashboard), id: copyId(dashboard.id, taken), title: `${dashboard.title} (copy)` };
    await saveDashboard(copy);
    navigate(`/dashboards/${copy.id}`);
  };
  const remove = async () => {
    const restoring = loaded.meta.prebuilt;
    if (!confirm(restoring ? 'Discard your edits and restore the default dashboard?' : `Delete "${dashboard.title}"?`))
      return;
    await deleteDashboard(dashboard.id);
    if (restoring) setLoaded(await getDashboard(dashboard.id));
    else navigate('/dashboards');
  };
  const updatePanel = (i: number, p: Panel | null) => {
    if (!draft) return;
    const panels = [...draft.panels];
    if (p) panels[i] = p;
    else panels.splice(i, 1);
    setDraft({ ...draft, panels });
  };
  const explore = (shown: Panel) => {
    const p = expandPanel(shown, dashboard, chosen);
    const range = p.range ?? { from, to };
    const q = p.query
      ? expandQuery(p.query, autoInterval(range.from, range.to))
      : (p.funnel?.steps.map((s) => `(${s.filter})`).join(' OR ') ?? '');
    navigate(`/explore?${new URLSearchParams({ q, from: range.from, to: range.to }).toString()}`);
  };

  return (
    <div className="page">
      <div className="page-head">
        <div>
          {editing ? (
            <input
              className="title-input"
              aria-label="Dashboard title"
              value={dashboard.title}
              onChange={(e) => setDraft({ ...dashboard, title: e.target.value })}
            />
          ) : (
            <h1>{dashboard.title}</h1>
          )}
          {dashboard.description && !narrow ? <p className="muted">{dashboard.description}</p> : null}
        </div>
        <TimeBar
          key={`${from}|${to}`}
          from={from}
          to={to}
          refresh={refresh}
          onRefresh={() => {
            clearQueryCache();
            setTick((t) => t + 1);
          }}
        />
      </div>
      <DashboardAlertBanner dashboardId={id} />
      <div className="toolbar">
        {editing ? (
          <>
            <button type="button" className="primary" onClick={save}>
              Save
            </button>
            <button
              type="button"
              onClick={() => setDraft({ ...dashboard, panels: [...dashboard.panels, newPanel(dashboard)] })}
            >
              Add panel
            </button>
            <button type="button" onClick={() => setDraft(null)}>
              Cancel
            </button>
          </>
        ) : (
          <>
            {(dashboard.variables ?? []).map((v) => (
              <label key={v.name} className="variable">
                {v.label}{' '}
                <select
                  aria-label={v.label}
                  value={chosen[v.name] ?? v.options[0]?.id ?? ''}
                  onChange={(e) => setSearchParams({ [variableParam(v.name)]: e.target.value })}
                >
                  {v.options.map((o) => (
                    <option key={o.id} value={o.id}>
                      {o.label}
                    </option>
                  ))}
                </select>
              </label>
            ))}
            <button type="button" onClick={() => setDraft(structuredClone(dashboard))}>
              Edit
            </button>
            <button type="button" onClick={duplicate}>
              Duplicate
            </button>
            <button type="button" onClick={() => exportDashboard(dashboard)}>
              Export JSON
            </button>
            {loaded.meta.prebuilt && !loaded.meta.modified ? null : (
              <button type="button" className="danger" onClick={remove}>
                {loaded.meta.prebuilt ? 'Restore default' : 'Delete'}
              </button>
            )}
          </>
        )}
      </div>
      {dashboard.panels.length === 0 ? (
        <p className="page-message">
          This dashboard has no panels yet{editing ? '' : ': choose Edit, then Add panel'}.
        </p>
      ) : null}
      <div className="grid">
        {dashboard.panels.map((p, i) => (
          <section
            key={`${p.id}-${i}`}
            className="panel"
            data-testid="panel"
            data-panel-id={p.id}
            style={{ gridColumn: `span ${narrow ? 12 : p.w}`, gridRow: `span ${p.h}` }}
          >
            <header className="panel-head">
              <h3 title={p.description ?? p.title}>{p.title}</h3>
              <button type="button" className="link" onClick={() => explore(p)} title="Open this query in Explore">
                Explore ↗
              </button>
            </header>
            {editing ? (
              <PanelEditor panel={p} warnings={warnings[`${p.id}-${i}`]} onChange={(next) => updatePanel(i, next)} />
            ) : null}
            <div className="panel-body">
              <PanelView
                panel={expandPanel(p, dashboard, chosen)}
                from={from}
                to={to}
                tick={tick}
                narrow={narrow}
                onWarnings={(w) =>
                  setWarnings((prev) =>
                    (prev[`${p.id}-${i}`]?.length ?? 0) === 0 && w.length === 0
                      ? prev
                      : { ...prev, [`${p.id}-${i}`]: w },
                  )
                }
              />
            </div>
          </section>
        ))}
      </div>
    </div>
  );
}

function newPanel(d: Dashboard): Panel {
  let n = d.panels.length + 1;
  while (d.panels.some((p) => p.id === `panel-${n}`)) n++;
  return {
    id: `panel-${n}`,
    title: 'Events over time',
    type: 'bar',
    query: '* | stats count() as events by bin(@timestamp, $interval)',
    w: 6,
    h: 3,
  };
}
