/**
 * A banner on a dashboard while alerts of rules that belong to it fire (a
 * rule belongs to the dashboard its `dashboard: /dashboards/<id>` names).
 */
import { navigate } from '../router.ts';
import { topSeverity, useLiveAlerts } from '../live-alerts.ts';
import '../alerts-live.css';

function since(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function DashboardAlertBanner({ dashboardId }: { dashboardId: string }) {
  const { snapshot } = useLiveAlerts();
  const alerts = (snapshot?.alerts ?? []).filter((a) => a.dashboard === dashboardId && !a.silenced);
  if (alerts.length === 0) return null;
  const severity = topSeverity(alerts) ?? 'info';
  return (
    <div className={`alert-banner sev-${severity}`} role="status" data-testid="dashboard-alert-banner">
      <strong className="alert-banner-head">
        {alerts.length === 1 ? '1 alert' : `${alerts.length} alerts`} firing on this dashboard
      </strong>
      <ul>
        {alerts.slice(0, 5).map((a) => (
          <li key={a.fingerprint}>
            <span className={`sev-chip sev-${a.severity}`}>{a.priority}</span> <strong>{a.rule}</strong>{' '}
            <span className="alert-banner-summary">{a.summary}</span>{' '}
            <span className="muted">since {since(a.startsAt)}</span>
          </li>
        ))}
      </ul>
      {alerts.length > 5 ? <span className="muted">and {alerts.length - 5} more · </span> : null}
      <a
        href="/alerts"
        onClick={(e) => {
          e.preventDefault();
          navigate('/alerts');
        }}
      >
        Open Alerts
      </a>
    </div>
  );
}
