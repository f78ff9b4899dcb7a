/**
 * One dashboard panel: runs its query (or funnel) for the dashboard's range
 * and draws it. Loading, empty and error states stay inside the panel, so
 * one failing query never breaks the page.
 */
import { useEffect, useMemo, useState } from 'react';
import { runFunnel, runQuery } from '../api.ts';
import { formatValue } from '../format.ts';
import { autoInterval, expandQuery, resolveTime } from '../time.ts';
import type { FunnelAnswer, Panel, QueryAnswer, QueryWarning } from '../types.ts';
import { LazyChart as Chart, loadChart } from './LazyChart.tsx';
import { chartOption, funnelOption, shapeOf, thresholdColor } from './chart-options.ts';
import { ResultTable } from './ResultTable.tsx';

type State =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'query'; answer: QueryAnswer; compare?: QueryAnswer }
  | { kind: 'funnel'; answer: FunnelAnswer };

export interface PanelViewProps {
  panel: Panel;
  from: string;
  to: string;
  /** Changes on refresh (manual or automatic), to run the query again. */
  tick: number;
  narrow: boolean;
  /** Told the warnings of each answer (the panel editor shows them); [] when there are none. */
  onWarnings?: (warnings: readonly QueryWarning[]) => void;
}

export function PanelView({ panel, from, to, tick, narrow, onWarnings }: PanelViewProps) {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const range = panel.range ?? { from, to };
  const interval = autoInterval(range.from, range.to);
  const query = panel.query ? expandQuery(panel.query, interval) : '';
  const funnelKey = JSON.stringify(panel.funnel ?? null);
  const compareKey = JSON.stringify(panel.compare ?? null);

  useEffect(() => {
    let live = true;
    setState((s) => (s.kind === 'error' ? { kind: 'loading' } : s));
    const work: Promise<State> = panel.funnel
      ? runFunnel(panel.funnel, range.from, range.to).then((answer) => ({ kind: 'funnel', answer }))
      : Promise.all([
          runQuery(query, range.from, range.to),
          panel.compare ? runQuery(query, panel.compare.range.from, panel.compare.range.to) : undefined,
        ]).then(([answer, compare]) => ({ kind: 'query', answer, ...(compare ? { compare } : {}) }));
    // With the queries on their way, run the chart code while the server answers.
    void loadChart();
    work.then(
      (next) => live && setState(next),
      (err: Error) => live && setState({ kind: 'error', message: err.message }),
    );
    return () => {
      live = false;
    };
  }, [query, range.from, range.to, tick, funnelKey, compareKey]);

  useEffect(() => {
    if (state.kind === 'query' || state.kind === 'error')
      onWarnings?.(state.kind === 'query' ? (state.answer.warnings ?? []) : []);
  }, [state]);

  const spanMs = resolveTime(range.to) - resolveTime(range.from);
  const option = useMemo(() => {
    if (state.kind === 'funnel') return funnelOption(panel, state.answer, narrow);
    if (state.kind === 'query' && state.answer.rows.length > 0) return chartOption(panel, state.answer, spanMs, narrow);
    return undefined;
  }, [state, panel, spanMs, narrow]);

  if (state.kind === 'loading') return <div className="panel-state">Loading…</div>;
  if (state.kind === 'error') {
    return (
      <div className="panel-state panel-error" role="alert" data-testid="panel-error">
        {state.message}
      </div>
    );
  }
  if (state.kind === 'funnel') {
    if ((state.answer.total.steps[0]?.count ?? 0) === 0) return <Empty />;
    return <Chart option={option!} />;
  }
  const { answer } = state;
  if (answer.rows.length === 0) return <Empty />;
  if (panel.type === 'table') return <ResultTable answer={answer} unit={panel.unit} />;
  if (panel.type === 'stat') return <Stat panel={panel} answer={answer} compare={state.compare} />;
  if (!option) return <Empty />;
  return <Chart option={option} />;
}

function Empty() {
  return (
    <div className="panel-state" data-testid="panel-empty">
      No data in this time range
    </div>
  );
}

/**
 * A stat panel. With `compare` the share of the compared value is the point of the panel
 * (DAU / MAU: "78.6 % of 30-day actives"), so the share is the big number and both counts
 * stand under it; without it, the first number is big and the others under it.
 */
function Stat({ panel, answer, compare }: { panel: Panel; answer: QueryAnswer; compare?: QueryAnswer }) {
  const { numbers } = shapeOf(answer);
  const row = answer.rows[0] ?? [];
  const main = Number(row[numbers[0] ?? 0]);
  const others = numbers.slice(1);
  const base = compare ? Number(compare.rows[0]?.[numbers[0] ?? 0]) : undefined;
  const share = base !== undefined && Number.isFinite(base) && base > 0 ? (main * 100) / base : undefined;
  const big = share ?? main;
  return (
    <div className="stat" data-testid="stat">
      <div className="stat-value" data-testid="stat-value" style={{ color: thresholdColor(panel, big) }}>
        {share !== undefined ? formatValue(share, 'percent') : formatValue(main, panel.unit)}
      </div>
      {share !== undefined ? (
        <>
          <div className="stat-label">{panel.compare?.label}</div>
          <div className="stat-sub" data-testid="stat-counts">
            {formatValue(main, panel.unit)} of {formatValue(base, panel.unit)}
          </div>
        </>
      ) : null}
      {others.map((i) => (
        <div className="stat-sub" key={i}>
          {answer.columns[i]?.name}: {formatValue(row[i])}
        </div>
      ))}
    </div>
  );
}
