/**
 * Query answer + panel → ECharts option. The shape of the answer decides
 * the axes: a timestamp column is the x axis; string columns are
 * categories (the first) and series (the second, or a pivot of a time
 * series); number columns are the values.
 */
import type { EChartsCoreOption } from 'echarts/core';
import { formatValue } from '../format.ts';
import type { Panel, QueryAnswer } from '../types.ts';
import { gauge, heatmap, regionMap } from './chart-options-special.ts';
import {
  baseOption,
  GRID_LINE,
  label,
  legendFor,
  markLine,
  shapeOf,
  TEXT,
  valueAxis,
  type Shape,
} from './chart-style.ts';

export { funnelOption } from './chart-options-special.ts';
export { PALETTE, shapeOf, thresholdColor } from './chart-style.ts';

function timeSeries(panel: Panel, answer: QueryAnswer, s: Shape, narrow: boolean): EChartsCoreOption {
  const kind = panel.type === 'bar' ? 'bar' : 'line';
  const series: { name: string; data: [string, unknown][] }[] = [];
  if (s.strings.length > 0 && s.numbers.length > 0) {
    const g = s.strings[0] as number;
    const v = s.numbers[0] as number;
    const byGroup = new Map<string, [string, unknown][]>();
    for (const r of answer.rows) {
      const key = label(r[g]);
      if (!byGroup.has(key)) byGroup.set(key, []);
      byGroup.get(key)?.push([r[s.time] as string, r[v]]);
    }
    for (const [name, data] of byGroup) series.push({ name, data });
  } else {
    for (const v of s.numbers) {
      series.push({ name: answer.columns[v]?.name ?? '', data: answer.rows.map((r) => [r[s.time] as string, r[v]]) });
    }
  }
  const mark = markLine(panel);
  return {
    ...baseOption(panel, narrow),
    legend: legendFor(series.length, narrow),
    grid: { left: 8, right: 16, top: series.length > 1 || mark ? 28 : 12, bottom: 8, containLabel: true },
    xAxis: {
      type: 'time',
      axisLabel: { color: TEXT, hideOverlap: true },
      axisLine: { lineStyle: { color: GRID_LINE } },
    },
    yAxis: valueAxis(panel, narrow),
    series: series.map((x, i) => ({
      name: x.name,
      type: kind,
      data: x.data,
      showSymbol: false,
      smooth: false,
      ...(panel.stacked ? { stack: 'total' } : {}),
      ...(panel.type === 'area' ? { areaStyle: { opacity: 0.25 } } : {}),
      ...(i === 0 && mark ? { markLine: mark } : {}),
    })),
  };
}

function categories(panel: Panel, answer: QueryAnswer, s: Shape, narrow: boolean): EChartsCoreOption {
  const horizontal = panel.type === 'hbar';
  const c = s.strings[0];
  const cats: string[] = [];
  const series: { name: string; values: Map<string, unknown> }[] = [];
  if (c !== undefined && s.strings.length > 1 && s.numbers.length > 0) {
    // Two keys: the first is the category, the second splits it into series.
    const g = s.strings[1] as number;
    const v = s.numbers[0] as number;
    const byGroup = new Map<string, Map<string, unknown>>();
    for (const r of answer.rows) {
      const cat = label(r[c]);
      if (!cats.includes(cat)) cats.push(cat);
      const name = label(r[g]);
      if (!byGroup.has(name)) byGroup.set(name, new Map());
      byGroup.get(name)?.set(cat, r[v]);
    }
    for (const [name, values] of byGroup) series.push({ name, values });
  } else {
    for (const r of answer.rows) cats.push(c === undefined ? '' : label(r[c]));
    for (const v of s.numbers) {
      series.push({
        name: answer.columns[v]?.name ?? '',
        values: new Map(answer.rows.map((r, i) => [cats[i] as string, r[v]])),
      });
    }
  }
  const catAxis = {
    type: 'category',
    data: horizontal ? [...cats].reverse() : cats,
    axisLabel: {
      color: TEXT,
      interval: 0,
      width: narrow ? 80 : 140,
      overflow: 'truncate',
      rotate: !horizontal && cats.length > 4 ? 30 : 0,
      fontSize: narrow ? 10 : 12,
    },
    axisLine: { lineStyle: { color: GRID_LINE } },
  };
  const mark = markLine(panel, !horizontal);
  const ordered = horizontal ? [...cats].reverse() : cats;
  return {
    ...baseOption(panel, narrow),
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      valueFormatter: (v: unknown) => formatValue(v, panel.unit),
    },
    legend: legendFor(series.length, narrow),
    // Labels of vertical SLO lines sit above the plot, below the legend.
    grid: {
      left: 8,
      right: 24,
      top: (series.length > 1 ? 28 : 12) + (mark && horizontal ? 18 : 0),
      bottom: 8,
      containLabel: true,
    },
    xAxis: horizontal ? valueAxis(panel, narrow) : catAxis,
    yAxis: horizontal ? catAxis : valueAxis(panel, narrow),
    series: series.map((x, i) => ({
      name: x.name,
      type: 'bar',
      data: ordered.map((cat) => x.values.get(cat) ?? null),
      barMaxWidth: 36,
      ...(panel.stacked ? { stack: 'total' } : {}),
      ...(i === 0 && mark ? { markLine: mark } : {}),
    })),
  };
}

function pie(panel: Panel, answer: QueryAnswer, s: Shape, narrow: boolean): EChartsCoreOption {
  const v = s.numbers[0] as number;
  return {
    ...baseOption(panel, narrow),
    tooltip: { trigger: 'item', valueFormatter: (x: unknown) => formatValue(x, panel.unit) },
    legend: { show: false },
    series: [
      {
        type: 'pie',
        // A smaller donut leaves the outside labels room, so they are not cut to "mobil…";
        // two lines (name, share) are narrower than one.
        radius: narrow ? ['30%', '52%'] : ['34%', '58%'],
        itemStyle: { borderColor: '#fff', borderWidth: 2 },
        label: { formatter: '{b}\n{d}%', color: TEXT, fontSize: narrow ? 10 : 11, lineHeight: narrow ? 12 : 14 },
        labelLine: { length: 8, length2: 8 },
        // Slivers (< 6°) get no label of their own (the tooltip names them); overlapping labels are hidden.
        minShowLabelAngle: 6,
        labelLayout: { hideOverlap: true },
        data: answer.rows.map((r) => ({ name: s.strings.map((i) => label(r[i])).join(' / '), value: r[v] })),
      },
    ],
  };
}

function histogram(panel: Panel, answer: QueryAnswer, s: Shape, narrow: boolean): EChartsCoreOption {
  const v = s.numbers[0] as number;
  const values = answer.rows.map((r) => Number(r[v])).filter(Number.isFinite);
  const n = panel.buckets ?? 20;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const width = (max - min) / n || 1;
  const counts = new Array<number>(n).fill(0);
  for (const x of values) counts[Math.min(n - 1, Math.floor((x - min) / width))]! += 1;
  const cats = counts.map((_, i) => formatValue(min + i * width, panel.unit, true));
  return {
    ...baseOption({ ...panel, unit: 'number' }, narrow),
    legend: { show: false },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    tooltip: {
      trigger: 'axis',
      formatter: (p: { dataIndex: number }[]) => {
        const i = p[0]?.dataIndex ?? 0;
        return `${formatValue(min + i * width, panel.unit)} – ${formatValue(min + (i + 1) * width, panel.unit)}<br/><b>${counts[i]}</b>`;
      },
    },
    xAxis: { type: 'category', data: cats, axisLabel: { color: TEXT, hideOverlap: true, fontSize: narrow ? 9 : 11 } },
    yAxis: { type: 'value', splitLine: { lineStyle: { color: GRID_LINE } }, axisLabel: { color: TEXT } },
    series: [{ type: 'bar', data: counts, barCategoryGap: '8%', name: answer.columns[v]?.name }],
  };
}

/** The ECharts option for a query panel; undefined for types drawn as HTML (stat, table). */
export function chartOption(
  panel: Panel,
  answer: QueryAnswer,
  spanMs: number,
  narrow: boolean,
): EChartsCoreOption | undefined {
  const s = shapeOf(answer);
  switch (panel.type) {
    case 'line':
    case 'area':
    case 'bar':
    case 'hbar':
      return s.time >= 0 && panel.type !== 'hbar'
        ? timeSeries(panel, answer, s, narrow)
        : categories(panel, answer, s, narrow);
    case 'pie':
      return pie(panel, answer, s, narrow);
    case 'gauge':
      return gauge(panel, Number(answer.rows[0]?.[s.numbers[0] ?? 0] ?? 0));
    case 'heatmap':
      return heatmap(panel, answer, s, spanMs, narrow);
    case 'map':
      return regionMap(panel, answer, s, narrow);
    case 'histogram':
      return histogram(panel, answer, s, narrow);
    default:
      return undefined;
  }
}
