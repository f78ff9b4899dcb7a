/**
 * The count of firing alerts (silenced ones left out) on the top bar's
 * Alerts link, in the colour of the most urgent one; nothing when none fires.
 */
import { topSeverity, useLiveAlerts } from '../live-alerts.ts';
import '../alerts-live.css';

export function AlertBadge() {
  const { snapshot } = useLiveAlerts();
  const total = snapshot?.firing.total ?? 0;
  if (total === 0) return null;
  const severity = topSeverity(snapshot?.alerts ?? []) ?? 'info';
  const label = `${total} alert${total === 1 ? '' : 's'} firing`;
  return (
    <span className={`alert-badge sev-${severity}`} data-testid="alert-badge" aria-label={label} title={label}>
      {total > 99 ? '99+' : total}
    </span>
  );
}
