/**
 * The chart, loaded as its own chunk: ECharts is most of the UI's code, so
 * the shell, the dashboard document and the panel queries do not wait for
 * it to download and compile (index.html preloads it; PanelView runs it
 * as soon as its query is sent).
 */
import { lazy, Suspense } from 'react';
import type { EChartsCoreOption } from 'echarts/core';

export const loadChart = () => import('./Chart.tsx');

const Chart = lazy(() => loadChart().then((m) => ({ default: m.Chart })));

export function LazyChart({ option }: { option: EChartsCoreOption }) {
  return (
    <Suspense fallback={<div className="panel-state">Loading…</div>}>
      <Chart option={option} />
    </Suspense>
  );
}
