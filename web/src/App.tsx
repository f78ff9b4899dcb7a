/**
 * The app shell: navigation, the page for the current path, and the API
 * key prompt. Pages are listed once in ROUTES; adding a page is one line
 * here (and one in NAV to show it in the menu).
 */
import { useEffect, useState, type ReactNode } from 'react';
import { UNAUTHORIZED_EVENT } from './api.ts';
import { AlertBadge } from './components/AlertBadge.tsx';
import { AlertToasts } from './components/AlertToasts.tsx';
import { ApiKeyPrompt } from './components/ApiKeyPrompt.tsx';
import { AdminPage } from './pages/AdminPage.tsx';
import { AlertsPage } from './pages/AlertsPage.tsx';
import { DashboardList } from './pages/DashboardList.tsx';
import { DashboardPage } from './pages/DashboardPage.tsx';
import { ErrorGroupPage } from './pages/ErrorGroupPage.tsx';
import { ErrorsPage } from './pages/ErrorsPage.tsx';
import { ExplorePage } from './pages/ExplorePage.tsx';
import { TracePage } from './pages/TracePage.tsx';
import { TracesPage } from './pages/TracesPage.tsx';
import { navigate, useLocation } from './router.ts';

interface Route {
  /** Matches the path; the groups are passed to the page. */
  readonly pattern: RegExp;
  readonly render: (params: string[]) => ReactNode;
}

const ROUTES: readonly Route[] = [
  { pattern: /^\/(?:dashboards\/?)?$/, render: () => <DashboardList /> },
  {
    pattern: /^\/dashboards\/([^/]+)$/,
    render: ([id]) => <DashboardPage key={id} id={decodeURIComponent(id ?? '')} />,
  },
  { pattern: /^\/explore$/, render: () => <ExplorePage /> },
  { pattern: /^\/errors\/?$/, render: () => <ErrorsPage /> },
  {
    pattern: /^\/errors\/([^/]+)$/,
    render: ([id]) => <ErrorGroupPage key={id} id={decodeURIComponent(id ?? '')} />,
  },
  { pattern: /^\/traces\/?$/, render: () => <TracesPage /> },
  {
    pattern: /^\/traces\/([^/]+)$/,
    render: ([id]) => <TracePage key={id} id={decodeURIComponent(id ?? '')} />,
  },
  { pattern: /^\/alerts$/, render: () => <AlertsPage /> },
  { pattern: /^\/admin$/, render: () => <AdminPage /> },
];

const NAV = [
  { href: '/dashboards', label: 'Dashboards', match: /^\/(dashboards|$)/ },
  { href: '/explore', label: 'Explore', match: /^\/explore/ },
  { href: '/errors', label: 'Errors', match: /^\/errors/ },
  { href: '/traces', label: 'Traces', match: /^\/traces/ },
  { href: '/alerts', label: 'Alerts', match: /^\/alerts/ },
  { href: '/admin', label: 'Admin', match: /^\/admin/ },
];

export function App() {
  const { path } = useLocation();
  const [askKey, setAskKey] = useState(false);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const onUnauthorized = () => setAskKey(true);
    window.addEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
  }, []);

  let page: ReactNode = <p className="page-message">No page at {path}.</p>;
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (m) {
      page = route.render(m.slice(1));
      break;
    }
  }

  return (
    <div className="app">
      <header className="topbar">
        <a
          className="brand"
          href="/dashboards"
          onClick={(e) => {
            e.preventDefault();
            navigate('/dashboards');
          }}
        >
          <img src="/favicon.svg" alt="" width={22} height={22} /> Shoplens
        </a>
        <nav>
          {NAV.map((n) => (
            <a
              key={n.href}
              href={n.href}
              className={n.match.test(path) ? 'active' : undefined}
              onClick={(e) => {
                e.preventDefault();
                navigate(n.href);
              }}
            >
              {n.label}
              {n.href === '/alerts' ? <AlertBadge /> : null}
            </a>
          ))}
        </nav>
      </header>
      <main key={generation}>{page}</main>
      <AlertToasts />
      {askKey ? (
        <ApiKeyPrompt
          onDone={() => {
            setAskKey(false);
            setGeneration((g) => g + 1);
          }}
        />
      ) : null}
    </div>
  );
}
