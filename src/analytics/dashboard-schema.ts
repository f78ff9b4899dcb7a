/**
 * What a dashboard document is: a title, a default time range and a grid of
 * panels, each a query in the query language (or a funnel) and a chart
 * type. The prebuilt dashboards in `dashboards/*.json` and every dashboard
 * stored through `PUT /api/v1/dashboards/{id}` pass this schema.
 */
import { z } from 'zod';

export const DASHBOARD_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Chart types the UI draws (web/src/components/PanelChart.tsx). */
export const PANEL_TYPES = [
  'line',
  'area',
  'bar',
  'hbar',
  'stat',
  'gauge',
  'table',
  'pie',
  'heatmap',
  'map',
  'histogram',
  'funnel',
] as const;

const timeRange = z.object({ from: z.string().min(1).max(100), to: z.string().min(1).max(100) });

const funnelSpec = z.object({
  steps: z
    .array(z.object({ name: z.string().min(1).max(100), filter: z.string().min(1).max(4000) }))
    .min(2)
    .max(10),
  by: z.string().min(1).max(200).optional(),
  key: z.string().min(1).max(200).optional(),
});

/**
 * A dashboard variable: `$name` in a panel query or funnel step stands for
 * the filter of the option the viewer picked (the first one by default),
 * in parentheses. `$interval` and `$intervalMinutes` are the time bucket's.
 */
export const variableSchema = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, 'expected a letter, then up to 31 letters, digits or "_"')
    .refine((n) => n !== 'interval' && n !== 'intervalMinutes', 'is reserved for the time bucket'),
  label: z.string().min(1).max(100),
  options: z
    .array(
      z.object({
        id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, "-" or "_"'),
        label: z.string().min(1).max(100),
        /** A filter in the query language, e.g. `NOT _index:import-*`. */
        filter: z.string().min(1).max(4000),
      }),
    )
    .min(1)
    .max(20)
    .refine((options) => new Set(options.map((o) => o.id)).size === options.length, 'option ids must differ'),
});

export const panelSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, "-" or "_"'),
    title: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    type: z.enum(PANEL_TYPES),
    /** The query in the query language; required unless the panel is a funnel. */
    query: z.string().max(10_000).optional(),
    funnel: funnelSpec.optional(),
    /** Width in grid columns (of 12) and height in rows (of 90 px). */
    w: z.number().int().min(1).max(12).default(6),
    h: z.number().int().min(1).max(12).default(3),
    unit: z.enum(['number', 'currency', 'percent', 'ms', 'bytes', 'rps']).optional(),
    /** Gauge/stat colour steps, ascending, e.g. [95, 98, 100]: red below 95, amber below 98, green above. */
    thresholds: z.array(z.number()).max(10).optional(),
    /** Whether higher values are worse (error rates, latency): flips the threshold colours. */
    higherIsWorse: z.boolean().optional(),
    /** Histogram buckets (default 20). */
    buckets: z.number().int().min(2).max(200).optional(),
    /** Horizontal reference lines (e.g. latency SLOs of 200 and 500 ms). */
    markLines: z.array(z.number()).max(10).optional(),
    /** Stack series (bar, area). */
    stacked: z.boolean().optional(),
    /** A fixed time range for this panel instead of the dashboard's (e.g. `now/d` for "today"). */
    range: timeRange.optional(),
    /** Stat panels: also run the query over this range and show the value as a share of it (DAU / MAU). */
    compare: z.object({ label: z.string().min(1).max(100), range: timeRange }).optional(),
  })
  .refine(
    (p) => (p.type === 'funnel' ? p.funnel !== undefined : typeof p.query === 'string' && p.query.trim() !== ''),
    {
      message: 'a funnel panel needs "funnel" and every other panel needs a non-empty "query"',
    },
  );

export const dashboardSchema = z.object({
  id: z.string().regex(DASHBOARD_ID, 'expected 1-64 lowercase letters, digits, "-" or "_"'),
  title: z.string().min(1).max(200),
  description: z.string().max(4000).optional(),
  /** Default time range when the URL has none, e.g. `{ "from": "now-24h", "to": "now" }`. */
  range: timeRange.optional(),
  /** Filters the viewer picks from (`$source` in panel queries); see dashboard-variables.ts. */
  variables: z.array(variableSchema).max(10).optional(),
  panels: z.array(panelSchema).max(60),
});

/** A dashboard document as stored and exported. */
export type Dashboard = z.output<typeof dashboardSchema>;
export type Panel = z.output<typeof panelSchema>;
export type DashboardVariable = z.output<typeof variableSchema>;
