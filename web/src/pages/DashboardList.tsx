/** The dashboards: prebuilt and the tenant's own; create, import. */
import { useEffect, useRef, useState } from 'react';
import { importDashboard, listDashboards, saveDashboard } from '../dashboard-io.ts';
import { navigate } from '../router.ts';
import type { DashboardSummary } from '../types.ts';
import { DocsLink } from '../components/DocsLink.tsx';

export function DashboardList() {
  const [items, setItems] = useState<DashboardSummary[] | null>(null);
  const [error, setError] = useState('');
  const file = useRef<HTMLInputElement>(null);

  useEffect(() => {
    listDashboards().then(
      (r) => setItems(r.dashboards),
      (err: Error) => setError(err.message),
    );
  }, []);

  const create = async () => {
    const title = prompt('Title of the new dashboard');
    if (!title) return;
    const id =
      title
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 60) || 'dashboard';
    try {
      await saveDashboard({ id, title, range: { from: 'now-1h', to: 'now' }, panels: [] });
      navigate(`/dashboards/${id}?edit=1`);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Dashboards</h1>
          <DocsLink topic="web-ui.md" label="Dashboards and panels" />
        </div>
        <div className="actions">
          <button type="button" onClick={create}>
            New dashboard
          </button>
          <button type="button" onClick={() => file.current?.click()}>
            Import JSON…
          </button>
          <input
            ref={file}
            type="file"
            accept="application/json,.json"
            data-testid="import-file"
            hidden
            onChange={async (e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (!f) return;
              try {
                const saved = await importDashboard(f);
                navigate(`/dashboards/${saved.dashboard.id}`);
              } catch (err) {
                setError((err as Error).message);
              }
            }}
          />
        </div>
      </div>
      {error ? (
        <p className="error-text" role="alert">
          {error}
        </p>
      ) : null}
      {items === null && !error ? <p className="page-message">Loading…</p> : null}
      <div className="card-grid">
        {(items ?? []).map((d) => (
          <a
            key={d.id}
            className="card"
            href={`/dashboards/${d.id}`}
            onClick={(e) => {
              e.preventDefault();
              navigate(`/dashboards/${d.id}`);
            }}
          >
            <h2>{d.title}</h2>
            <p>{d.description}</p>
            <span className="muted">
              {d.panels} panels{d.prebuilt ? ' · prebuilt' : ''}
              {d.prebuilt && d.modified ? ' · edited' : ''}
            </span>
          </a>
        ))}
      </div>
    </div>
  );
}
