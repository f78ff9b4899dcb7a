/**
 * Query answer + panel → ECharts option. The shape of the answer decides
 * the axes: a timestamp column is the x axis; string columns are
 * categories (the first) and series (the second, or a pivot of a time
 * series); number columns are the values.
 */
import type { EChartsCoreOption } from 'echarts/core';
import { formatTime, formatValue } from '../format.ts';
import type { FunnelAnswer, Panel, QueryAnswer } from '../types.ts';
import { REGION_MAP_NAME } from './regions-geo.ts';

export const PALETTE = [
  '#3b82f6',
  '#10b981',
  '#f59e0b',
  '#ef4444',
  '#8b5cf6',
  '#06b6d4',
  '#ec4899',
  '#84cc16',
  '#64748b',
  '#f97316',
];

const TEXT = '#475569';
/**
 * The page's font stack (styles.css). Canvas text takes a real family name; 'inherit' is not
 * one, so labels were drawn in the canvas default and measured for truncation in another font.
 */
const FONT = "Inter, 'Segoe UI', system-ui, -apple-system, sans-serif";
const GRID_LINE = '#e2e8f0';

interface Shape {
  time: number;
  strings: number[];
  numbers: number[];
}

export function shapeOf(answer: QueryAnswer): Shape {
  const time = answer.columns.findIndex((c) => c.type === 'timestamp');
  const strings: number[] = [];
  const numbers: number[] = [];
  answer.columns.forEach((c, i) => {
    if (i === time) return;
    if (c.type === 'integer' || c.type === 'double') numbers.push(i);
    else if (c.type === 'string' || c.type === 'boolean' || c.type === 'string[]') strings.push(i);
  });
  return { time, strings, numbers };
}

const label = (v: unknown) => (v === null || v === undefined || v === '' ? '(none)' : String(v));

function baseOption(panel: Panel, narrow: boolean): Record<string, unknown> {
  return {
    color: PALETTE,
    animation: false,
    textStyle: { color: TEXT, fontFamily: FONT },
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => formatValue(v, panel.unit) },
    grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true },
    legend: { top: 0, type: 'scroll', textStyle: { color: TEXT, fontSize: narrow ? 10 : 12 } },
  };
}

/** One series needs no legend (the panel title names it). */
function legendFor(count: number, narrow: boolean) {
  return { show: count > 1, top: 0, type: 'scroll', textStyle: { color: TEXT, fontSize: narrow ? 10 : 12 } };
}

function valueAxis(panel: Panel, narrow = false) {
  return {
    type: 'value',
    // A phone-width horizontal axis has room for about four labels ("300 ms" is ~40 px).
    ...(narrow ? { splitNumber: 3 } : {}),
    splitLine: { lineStyle: { color: GRID_LINE } },
    axisLabel: { formatter: (v: number) => formatValue(v, panel.unit, true), color: TEXT, hideOverlap: true },
  };
}

function markLine(panel: Panel, horizontal = true) {
  if (!panel.markLines?.length) return undefined;
  return {
    silent: true,
    symbol: 'none',
    lineStyle: { type: 'dashed', color: '#ef4444' },
    label: {
      formatter: (p: { value: number }) => formatValue(p.value, panel.unit),
      color: '#ef4444',
      fontSize: 11,
      // Inside the plot: at the default 'end' a horizontal line's label runs past the right edge
      // and is clipped. A vertical line's label sits above the plot (categories() leaves room).
      position: horizontal ? 'insideEndTop' : 'end',
    },
    // Two SLOs can be a few pixels apart (200 and 500 ms when a 30 s outage sets the scale):
    // neighbouring labels alternate ends (right/left of the plot for horizontal lines, left/right
    // of the line above the plot for vertical ones), so they never print on top of each other.
    data: [...panel.markLines]
      .sort((a, b) => a - b)
      .map((v, i) =>
        horizontal
          ? { yAxis: v, label: { position: i % 2 === 0 ? 'insideEndTop' : 'insideStartTop' } }
          : { xAxis: v, label: { align: i % 2 === 0 ? 'right' : 'left' } },
      ),
  };
}

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

/** Colour of a value against ascending thresholds: red below the first, amber below the second, green above. */
export function thresholdColor(panel: Panel, value: number): string | undefined {
  const t = panel.thresholds;
  if (!t || t.length < 2) return undefined;
  const [low = 0, mid = 0] = t;
  const good = '#10b981';
  const warn = '#f59e0b';
  const bad = '#ef4444';
  if (panel.higherIsWorse) return value >= mid ? bad : value >= low ? warn : good;
  return value < low ? bad : value < mid ? warn : good;
}

function gauge(panel: Panel, value: number): EChartsCoreOption {
  const t = panel.thresholds ?? [];
  const max = panel.unit === 'percent' ? 100 : Math.max(value * 1.5, t[t.length - 1] ?? 0);
  // A percent gauge with thresholds high up (95/98/100) starts lower so the bands are visible.
  const min = panel.unit === 'percent' && (t[0] ?? 0) >= 90 ? 80 : 0;
  const span = max - min;
  const stops: [number, string][] =
    t.length >= 2
      ? panel.higherIsWorse
        ? [
            [((t[0] as number) - min) / span, '#10b981'],
            [((t[1] as number) - min) / span, '#f59e0b'],
            [1, '#ef4444'],
          ]
        : [
            [((t[0] as number) - min) / span, '#ef4444'],
            [((t[1] as number) - min) / span, '#f59e0b'],
            [1, '#10b981'],
          ]
      : [[1, '#3b82f6']];
  return {
    animation: false,
    series: [
      {
        type: 'gauge',
        min,
        max,
        radius: '95%',
        center: ['50%', '60%'],
        startAngle: 200,
        endAngle: -20,
        axisLine: { lineStyle: { width: 14, color: stops } },
        pointer: { width: 5, itemStyle: { color: '#334155' } },
        axisTick: { show: false },
        splitLine: { length: 8, lineStyle: { color: '#fff', width: 2 } },
        splitNumber: 4,
        axisLabel: {
          distance: 18,
          color: TEXT,
          fontSize: 10,
          formatter: (v: number) => formatValue(v, panel.unit, true),
        },
        detail: {
          valueAnimation: false,
          formatter: (v: number) => formatValue(v, panel.unit),
          fontSize: 22,
          offsetCenter: [0, '45%'],
          color: thresholdColor(panel, value) ?? '#0f172a',
        },
        data: [{ value: Math.max(min, value) === value ? value : value }],
      },
    ],
  };
}

function heatmap(panel: Panel, answer: QueryAnswer, s: Shape, spanMs: number, narrow: boolean): EChartsCoreOption {
  const xCol = s.time >= 0 ? s.time : (s.strings[0] as number);
  const yCol = s.time >= 0 ? (s.strings[0] as number) : (s.strings[1] as number);
  const v = s.numbers[0] as number;
  const xs = [...new Set(answer.rows.map((r) => String(r[xCol])))].sort();
  const ys = [...new Set(answer.rows.map((r) => label(r[yCol])))].sort();
  const values = answer.rows.map((r) => Number(r[v]));
  const data = answer.rows.map((r) => [xs.indexOf(String(r[xCol])), ys.indexOf(label(r[yCol])), r[v]]);
  const thresholds = panel.thresholds;
  const visualMap =
    thresholds && thresholds.length >= 2
      ? {
          type: 'piecewise',
          show: !narrow,
          orient: 'horizontal',
          top: 0,
          right: 0,
          itemWidth: 12,
          textStyle: { color: TEXT, fontSize: 10 },
          pieces: [
            { lt: thresholds[0], color: '#ef4444', label: `< ${formatValue(thresholds[0], panel.unit)}` },
            {
              gte: thresholds[0],
              lt: thresholds[1],
              color: '#f59e0b',
              label: `${formatValue(thresholds[0], panel.unit)} – ${formatValue(thresholds[1], panel.unit)}`,
            },
            { gte: thresholds[1], color: '#10b981', label: `≥ ${formatValue(thresholds[1], panel.unit)}` },
          ],
        }
      : {
          type: 'continuous',
          min: 0,
          max: Math.max(1, ...values),
          show: !narrow,
          orient: 'horizontal',
          top: 0,
          right: 0,
          itemHeight: 80,
          itemWidth: 10,
          textStyle: { color: TEXT, fontSize: 10 },
          inRange: { color: ['#eff6ff', '#93c5fd', '#2563eb', '#1e3a8a'] },
        };
  return {
    animation: false,
    textStyle: { fontFamily: FONT },
    tooltip: {
      trigger: 'item',
      formatter: (p: { value: [number, number, unknown] }) =>
        `${ys[p.value[1]] ?? ''}<br/>${xLabel(xs[p.value[0]] ?? '')}: <b>${formatValue(p.value[2], panel.unit)}</b>`,
    },
    grid: { left: 8, right: 12, top: narrow ? 8 : 32, bottom: 8, containLabel: true },
    xAxis: {
      type: 'category',
      data: xs.map(xLabel),
      axisLabel: { color: TEXT, hideOverlap: true },
      splitArea: { show: false },
    },
    yAxis: { type: 'category', data: ys, axisLabel: { color: TEXT, fontSize: narrow ? 9 : 11 } },
    visualMap,
    series: [{ type: 'heatmap', data, itemStyle: { borderColor: '#fff', borderWidth: 1 } }],
  };
  function xLabel(x: string): string {
    return s.time >= 0 ? formatTime(x, spanMs) : x;
  }
}

function regionMap(panel: Panel, answer: QueryAnswer, s: Shape, narrow: boolean): EChartsCoreOption {
  const c = s.strings[0] as number;
  const v = s.numbers[0] as number;
  const values = answer.rows.map((r) => Number(r[v]));
  return {
    animation: false,
    tooltip: {
      trigger: 'item',
      formatter: (p: { name: string; value: number }) =>
        `${p.name}: <b>${Number.isFinite(p.value) ? formatValue(p.value, panel.unit) : 'no data'}</b>`,
    },
    visualMap: {
      type: 'continuous',
      min: 0,
      max: Math.max(1, ...values),
      left: 4,
      bottom: 4,
      itemHeight: 70,
      itemWidth: 10,
      textStyle: { color: TEXT, fontSize: 10 },
      formatter: (x: number) => formatValue(x, panel.unit, true),
      inRange: { color: ['#dbeafe', '#60a5fa', '#1d4ed8'] },
    },
    series: [
      {
        type: 'map',
        map: REGION_MAP_NAME,
        roam: false,
        aspectScale: 1,
        top: 8,
        bottom: 8,
        left: 8,
        right: 8,
        itemStyle: { areaColor: '#f1f5f9', borderColor: '#fff' },
        emphasis: { label: { show: true }, itemStyle: { areaColor: '#fbbf24' } },
        label: {
          show: true,
          fontSize: narrow ? 8 : 10,
          color: '#0f172a',
          // Region labels sit at the points set in regions-geo.ts (apart for neighbours such as
          // EU-WEST / EU-CENTRAL); on a small map a label that still collides is hidden (tooltip).
          formatter: (p: { name: string; value: number }) => (Number.isFinite(p.value) ? p.name : ''),
        },
        labelLayout: { hideOverlap: true },
        data: answer.rows.map((r) => ({ name: label(r[c]), value: r[v] })),
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

export function funnelOption(panel: Panel, answer: FunnelAnswer, narrow: boolean): EChartsCoreOption {
  if (answer.groups.length > 0) {
    const steps = answer.total.steps.map((s) => s.name);
    return {
      ...baseOption({ ...panel, unit: 'percent' }, narrow),
      tooltip: {
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        valueFormatter: (v: unknown) => formatValue(v, 'percent'),
      },
      xAxis: {
        type: 'category',
        data: steps,
        axisLabel: narrow
          ? { color: TEXT, interval: 0, fontSize: 9, rotate: 35, width: 70, overflow: 'truncate' }
          : { color: TEXT, interval: 0, fontSize: 11, width: 80, overflow: 'break', lineHeight: 13 },
      },
      yAxis: {
        type: 'value',
        max: 100,
        axisLabel: { formatter: '{value}%', color: TEXT },
        splitLine: { lineStyle: { color: GRID_LINE } },
      },
      series: answer.groups.map((g) => ({
        name: label(g.group),
        type: 'bar',
        data: g.steps.map((s) => s.conversion),
        barMaxWidth: 24,
      })),
    };
  }
  const steps = answer.total.steps;
  return {
    animation: false,
    color: PALETTE,
    textStyle: { fontFamily: FONT },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (p: { dataIndex: number }[]) => {
        const s = steps[p[0]?.dataIndex ?? 0];
        return s
          ? `<b>${s.name}</b><br/>${s.count.toLocaleString()} sessions<br/>${s.conversion}% of the first step<br/>${s.stepConversion}% of the previous step (−${s.dropOff.toLocaleString()})`
          : '';
      },
    },
    grid: { left: 8, right: narrow ? 90 : 150, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', show: false },
    yAxis: {
      type: 'category',
      inverse: true,
      data: steps.map((s) => s.name),
      axisLabel: { color: TEXT, fontSize: narrow ? 10 : 12 },
      axisLine: { show: false },
      axisTick: { show: false },
    },
    series: [
      {
        type: 'bar',
        data: steps.map((s, i) => ({ value: s.count, itemStyle: { color: PALETTE[i % PALETTE.length] } })),
        barCategoryGap: '25%',
        label: {
          show: true,
          position: 'right',
          color: TEXT,
          fontSize: narrow ? 10 : 12,
          formatter: (p: { dataIndex: number }) => {
            const s = steps[p.dataIndex];
            if (!s) return '';
            if (p.dataIndex === 0) return s.count.toLocaleString();
            // On a phone the drop-off is in the tooltip only, so the label fits.
            return narrow
              ? `${s.count.toLocaleString()} · ${s.stepConversion}%`
              : `${s.count.toLocaleString()} · ${s.stepConversion}% (−${s.dropOff.toLocaleString()})`;
          },
        },
      },
    ],
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
