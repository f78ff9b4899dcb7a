/** Shapes of the API answers and of dashboard documents (see src/analytics/dashboard-schema.ts). */

export type ResultType = 'timestamp' | 'string' | 'double' | 'integer' | 'boolean' | 'string[]' | 'json';

/**
 * Something in a query that ran but probably does not mean what was written, e.g. a field
 * no stored event has (`statsu`): the query matches nothing on it, so the answer says so.
 */
export interface QueryWarning {
  /** Stable code; `query.unknown_field` for a field no event in the range carries. */
  readonly code: 'query.unknown_field' | (string & {});
  /** The field as written in the query. */
  readonly field: string;
  /** Known fields close to it, best first (may be empty). */
  readonly suggestions: readonly string[];
}

/** `POST /api/v1/query`. */
export interface QueryAnswer {
  readonly columns: readonly { readonly name: string; readonly type: ResultType }[];
  readonly rows: readonly (readonly unknown[])[];
  readonly stats: { readonly elapsedMs: number; readonly rowsScanned: number };
  readonly range: { readonly from: string; readonly to: string };
  /** Absent when there is nothing to warn about. */
  readonly warnings?: readonly QueryWarning[];
}

export interface FunnelStepCounts {
  readonly name: string;
  readonly count: number;
  readonly conversion: number;
  readonly stepConversion: number;
  readonly dropOff: number;
}

/** `POST /api/v1/funnel`. */
export interface FunnelAnswer {
  readonly total: { readonly steps: readonly FunnelStepCounts[] };
  readonly groups: readonly { readonly group?: string | null; readonly steps: readonly FunnelStepCounts[] }[];
}

export type PanelType =
  'line' | 'area' | 'bar' | 'hbar' | 'stat' | 'gauge' | 'table' | 'pie' | 'heatmap' | 'map' | 'histogram' | 'funnel';

export const PANEL_TYPES: readonly PanelType[] = [
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
];

export type Unit = 'number' | 'currency' | 'percent' | 'ms' | 'bytes' | 'rps';

export interface TimeRangeSpec {
  from: string;
  to: string;
}

export interface Panel {
  id: string;
  title: string;
  description?: string;
  type: PanelType;
  query?: string;
  funnel?: { steps: { name: string; filter: string }[]; by?: string; key?: string };
  w: number;
  h: number;
  unit?: Unit;
  thresholds?: number[];
  higherIsWorse?: boolean;
  buckets?: number;
  markLines?: number[];
  stacked?: boolean;
  range?: TimeRangeSpec;
  compare?: { label: string; range: TimeRangeSpec };
}

/** A dashboard variable: `$name` in panel queries stands for the chosen option's filter (src/analytics/dashboard-schema.ts). */
export interface DashboardVariable {
  name: string;
  label: string;
  options: { id: string; label: string; filter: string }[];
}

export interface Dashboard {
  id: string;
  title: string;
  description?: string;
  range?: TimeRangeSpec;
  variables?: DashboardVariable[];
  panels: Panel[];
}

export interface DashboardAnswer {
  readonly dashboard: Dashboard;
  readonly meta: { prebuilt: boolean; modified: boolean; version: number; updatedAt?: string };
}

export interface DashboardSummary {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly panels: number;
  readonly prebuilt: boolean;
  readonly modified: boolean;
}
