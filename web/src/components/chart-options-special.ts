/**
 * The charts that are not plain axes of series: gauge, heatmap, region map and funnel.
 */
import type { EChartsCoreOption } from 'echarts/core';
import { formatTime, formatValue } from '../format.ts';
import type { FunnelAnswer, Panel, QueryAnswer } from '../types.ts';
import { baseOption, FONT, GRID_LINE, label, PALETTE, TEXT, thresholdColor, type Shape } from './chart-style.ts';
import { REGION_MAP_NAME } from './regions-geo.ts';

export function gauge(panel: Panel, value: number): EChartsCoreOption {
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

export function heatmap(
  panel: Panel,
  answer: QueryAnswer,
  s: Shape,
  spanMs: number,
  narrow: boolean,
): EChartsCoreOption {
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

export function regionMap(panel: Panel, answer: QueryAnswer, s: Shape, narrow: boolean): EChartsCoreOption {
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
