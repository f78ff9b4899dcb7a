/**
 * What every chart of the UI shares: palette, text style, how an answer's columns map to
 * axes (shapeOf), the base option, legends, value axes, SLO lines and threshold colours.
 */
import { formatValue } from '../format.ts';
import type { Panel, QueryAnswer } from '../types.ts';

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

export const TEXT = '#475569';
/**
 * The page's font stack (styles.css). Canvas text takes a real family name; 'inherit' is not
 * one, so labels were drawn in the canvas default and measured for truncation in another font.
 */
export const FONT = "Inter, 'Segoe UI', system-ui, -apple-system, sans-serif";
export const GRID_LINE = '#e2e8f0';

export interface Shape {
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

export const label = (v: unknown) => (v === null || v === undefined || v === '' ? '(none)' : String(v));

export function baseOption(panel: Panel, narrow: boolean): Record<string, unknown> {
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
export function legendFor(count: number, narrow: boolean) {
  return { show: count > 1, top: 0, type: 'scroll', textStyle: { color: TEXT, fontSize: narrow ? 10 : 12 } };
}

export function valueAxis(panel: Panel, narrow = false) {
  return {
    type: 'value',
    // A phone-width horizontal axis has room for about four labels ("300 ms" is ~40 px).
    ...(narrow ? { splitNumber: 3 } : {}),
    splitLine: { lineStyle: { color: GRID_LINE } },
    axisLabel: { formatter: (v: number) => formatValue(v, panel.unit, true), color: TEXT, hideOverlap: true },
  };
}

export function markLine(panel: Panel, horizontal = true) {
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
