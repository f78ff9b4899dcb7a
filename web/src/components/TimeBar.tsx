/** Time range (relative presets or absolute from/to), refresh now, and auto-refresh; all kept in the URL. */
import { useState } from 'react';
import { setSearchParams } from '../router.ts';
import { REFRESH_OPTIONS, RELATIVE_RANGES } from '../time.ts';

export interface TimeBarProps {
  from: string;
  to: string;
  refresh: string;
  onRefresh: () => void;
}

export function TimeBar({ from, to, refresh, onRefresh }: TimeBarProps) {
  const preset = RELATIVE_RANGES.find((r) => r.from === from && to === 'now');
  const [custom, setCustom] = useState(!preset);
  const [absFrom, setAbsFrom] = useState(from);
  const [absTo, setAbsTo] = useState(to);
  return (
    <div className="timebar">
      <select
        aria-label="Time range"
        data-testid="range-select"
        value={custom ? 'custom' : (preset?.from ?? 'custom')}
        onChange={(e) => {
          if (e.target.value === 'custom') {
            setCustom(true);
            return;
          }
          setCustom(false);
          setSearchParams({ from: e.target.value, to: 'now' });
        }}
      >
        {RELATIVE_RANGES.map((r) => (
          <option key={r.from} value={r.from}>
            {r.label}
          </option>
        ))}
        <option value="custom">Absolute…</option>
      </select>
      {custom ? (
        <form
          className="abs-range"
          onSubmit={(e) => {
            e.preventDefault();
            setSearchParams({ from: absFrom, to: absTo });
          }}
        >
          <input
            aria-label="From"
            value={absFrom}
            onChange={(e) => setAbsFrom(e.target.value)}
            placeholder="2026-01-01T00:00"
          />
          <span>→</span>
          <input aria-label="To" value={absTo} onChange={(e) => setAbsTo(e.target.value)} placeholder="now" />
          <button type="submit">Apply</button>
        </form>
      ) : null}
      <button type="button" onClick={onRefresh} title="Refresh now" aria-label="Refresh now">
        ⟳
      </button>
      <select
        aria-label="Auto-refresh"
        value={refresh}
        onChange={(e) => setSearchParams({ refresh: e.target.value }, { replace: true })}
      >
        {REFRESH_OPTIONS.map((r) => (
          <option key={r.value} value={r.value}>
            {r.value ? `Every ${r.label}` : 'Auto-refresh off'}
          </option>
        ))}
      </select>
    </div>
  );
}
