/** Retention: how long each data class is kept, the last run's report, and "run now". */
import { useState } from 'react';
import { api } from '../../api.ts';

/** `POST /api/v1/retention/run`'s report (also `lastRun` of `GET /api/v1/retention`). */
export interface RetentionReport {
  ranAt: string;
  tookMs: number;
  deleted: number;
  classes: Record<string, { keep: string; before: string; deleted: number }>;
}

/** `GET /api/v1/retention`. */
export interface RetentionView {
  policy: Record<string, string>;
  lastRun: RetentionReport | null;
}

export function RetentionSection({
  retention,
  onChanged,
  onError,
}: {
  retention: RetentionView;
  onChanged: () => Promise<void>;
  onError: (message: string) => void;
}) {
  const [running, setRunning] = useState(false);
  const { policy, lastRun } = retention;

  const run = async () => {
    setRunning(true);
    try {
      await api<RetentionReport>('/api/v1/retention/run', { method: 'POST', body: {} });
      await onChanged();
    } catch (err) {
      onError((err as Error).message);
    } finally {
      setRunning(false);
    }
  };

  return (
    <section className="admin-section" aria-labelledby="admin-retention">
      <h2 id="admin-retention">Retention</h2>
      <p className="muted">
        Expired events are deleted every hour; whole hours are folded into hourly rollups first, so long-range charts
        keep their numbers.
      </p>
      <div className="table-wrap">
        <table className="result-table" data-testid="retention-table">
          <thead>
            <tr>
              <th>Data class</th>
              <th>Kept</th>
              <th>Last run: deleted before</th>
              <th className="num">Deleted</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(policy).map(([dataClass, keep]) => {
              const ran = lastRun?.classes[dataClass];
              return (
                <tr key={dataClass}>
                  <td>{dataClass}</td>
                  <td>{keep}</td>
                  <td>{ran ? new Date(ran.before).toLocaleString() : '—'}</td>
                  <td className="num">{ran ? ran.deleted.toLocaleString() : '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div className="toolbar admin-row">
        <button type="button" onClick={() => void run()} disabled={running}>
          {running ? 'Running…' : 'Run retention now'}
        </button>
        <span className="muted" data-testid="retention-last-run">
          {lastRun
            ? `Last run ${new Date(lastRun.ranAt).toLocaleString()}: ${lastRun.deleted.toLocaleString()} expired events deleted in ${lastRun.tookMs} ms.`
            : 'Not run yet since the server started.'}
        </span>
      </div>
    </section>
  );
}
