/** Placeholder until the alerting work lands its page here (this file is theirs to overwrite). */
export function AlertsPage() {
  return (
    <div className="page">
      <h1>Alerts</h1>
      <p className="page-message">Alert rules, firing alerts and silences will appear here.</p>
    </div>
  );
}
