/**
 * What the Errors pages read from `/api/v1/errors` (src/errors/error-group-types.ts,
 * docs/errors.md "API"), and the helpers both pages share: money at risk as text,
 * the sparkline and trend chart options, and links to Explore.
 */
import { FONT, GRID_LINE, TEXT } from '../components/chart-style.ts';
import { formatMoney, formatValue } from '../format.ts';

export type GroupStatus = 'unresolved' | 'resolved' | 'ignored';

export interface RevenueAtRisk {
  readonly total: number;
  readonly byCurrency: readonly { readonly currency: string; readonly amount: number }[];
}

export interface GroupStateView {
  readonly resolvedAtMs?: number;
  readonly resolvedInRelease?: string;
  readonly ignoredAtMs?: number;
  readonly ignoreUntilCount?: number;
  readonly ignoreUntilMs?: number;
  readonly regressedAtMs?: number;
  readonly regressions?: number;
  readonly firstSeenMs?: number;
  readonly mergedInto?: string;
}

export interface Trend {
  readonly bucketMs: number;
  readonly fromMs: number;
  readonly counts: readonly number[];
}

export interface ErrorGroupView {
  readonly id: string;
  readonly title: string;
  readonly type: string;
  readonly message: string;
  readonly level: string | null;
  readonly status: GroupStatus;
  readonly regressed: boolean;
  readonly isNew: boolean;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly events: number;
  readonly users: number;
  readonly customers: number;
  readonly sessions: number;
  readonly failedCheckouts: number;
  readonly revenueAtRisk: RevenueAtRisk;
  readonly services: readonly string[];
  readonly environments: readonly string[];
  readonly fingerprints: readonly string[];
  readonly state: GroupStateView;
  readonly trend?: Trend;
  readonly url: string;
}

export interface ErrorGroupList {
  readonly groups: readonly ErrorGroupView[];
  readonly total: number;
  readonly range: { readonly from: string; readonly to: string };
  readonly stats: { readonly elapsedMs: number };
}

export interface SampleFrame {
  readonly file?: string | null;
  readonly function?: string | null;
  readonly module?: string | null;
  readonly line?: number | null;
  readonly column?: number | null;
  readonly inApp: boolean;
}

export interface Breadcrumb {
  readonly timestamp: string | null;
  readonly category: string | null;
  readonly level: string | null;
  readonly message: string;
  readonly data: Record<string, unknown> | null;
}

export interface ErrorSample {
  readonly timestamp: string;
  readonly eventId: string | null;
  readonly type: string;
  readonly message: string;
  readonly level: string | null;
  readonly service: string | null;
  readonly release: string | null;
  readonly environment: string | null;
  readonly user: { readonly id: string | null; readonly email: string | null; readonly username: string | null };
  readonly customerId: string | null;
  readonly sessionId: string | null;
  readonly orderId: string | null;
  readonly traceId: string | null;
  readonly tags: Readonly<Record<string, string>>;
  readonly handled: boolean | null;
  readonly frames: readonly SampleFrame[];
  readonly stacktrace: string | null;
  readonly breadcrumbsFrom: 'client' | 'events' | 'none';
  readonly breadcrumbs: readonly Breadcrumb[];
}

export interface ErrorGroupDetail extends ErrorGroupView {
  readonly history: readonly {
    readonly atMs: number;
    readonly action: string;
    readonly by: string;
    readonly detail?: string;
  }[];
  readonly releases: readonly { readonly release: string; readonly count: number }[];
  readonly tags: readonly {
    readonly field: string;
    readonly values: readonly { readonly value: string; readonly count: number }[];
  }[];
  readonly samples: readonly ErrorSample[];
  readonly range: { readonly from: string; readonly to: string };
}

export interface MttrFigure {
  readonly resolutions: number;
  readonly meanMs: number | null;
}

export interface MttrAnswer {
  readonly overall: MttrFigure;
  readonly byService: readonly (MttrFigure & { readonly service: string })[];
  readonly byWeek: readonly (MttrFigure & { readonly week: string })[];
}

export const SORTS = [
  { value: 'events', label: 'Events' },
  { value: 'users', label: 'Users' },
  { value: 'revenue', label: 'Revenue at risk' },
  { value: 'lastSeen', label: 'Last seen' },
] as const;
export type Sort = (typeof SORTS)[number]['value'];

export const STATUSES = [
  { value: 'unresolved', label: 'Unresolved' },
  { value: 'resolved', label: 'Resolved' },
  { value: 'ignored', label: 'Ignored' },
  { value: 'all', label: 'All states' },
] as const;

/**
 * Money at risk as text: each currency's amount (`$1,204 + €671.3`), or `–` when nothing is
 * at risk. Attempts whose events name no currency are shown as a bare number beside named ones.
 */
export function revenueText(r: RevenueAtRisk, short = false): string {
  const parts = r.byCurrency.filter((c) => c.amount > 0);
  if (parts.length === 0) return r.total > 0 ? formatMoney(r.total, '', short) : '–';
  return parts
    .map((c) =>
      c.currency === '' && parts.length > 1
        ? formatValue(c.amount, 'number', short)
        : formatMoney(c.amount, c.currency, short),
    )
    .join(' + ');
}

/** The query language filter for a group's events: its fingerprints (more than one after a merge). */
export function fingerprintFilter(fingerprints: readonly string[]): string {
  const quoted = fingerprints.map((f) => `error.fingerprint:"${f.replace(/["\\]/g, '\\$&')}"`);
  return quoted.length === 1 ? (quoted[0] as string) : `(${quoted.join(' OR ')})`;
}

/** Explore with a query over a range (the page's own URL parameters). */
export function exploreHref(query: string, from: string, to: string): string {
  return `/explore?${new URLSearchParams({ q: query, from, to }).toString()}`;
}

/** The page of one trace; `at` (an instant of it) finds its events when no spans were received. */
export function traceHref(traceId: string, atIso: string): string {
  const at = Number.isNaN(Date.parse(atIso)) ? '' : `?${new URLSearchParams({ at: atIso }).toString()}`;
  return `/traces/${encodeURIComponent(traceId.toLowerCase())}${at}`;
}

/** A sparkline: the counts as a small filled line, no axes; the tooltip names each bucket. */
export function sparklineOption(trend: Trend): Record<string, unknown> {
  const data = trend.counts.map((c, i) => [trend.fromMs + i * trend.bucketMs, c]);
  return {
    animation: false,
    grid: { left: 1, right: 1, top: 2, bottom: 1 },
    xAxis: { type: 'time', show: false },
    yAxis: { type: 'value', show: false, min: 0 },
    tooltip: {
      trigger: 'axis',
      confine: true,
      textStyle: { fontFamily: FONT, fontSize: 11 },
      formatter: (params: { value: [number, number] }[]) => {
        const [t, c] = params[0]?.value ?? [0, 0];
        return `${new Date(t).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })}: ${c}`;
      },
    },
    series: [
      {
        type: 'line',
        data,
        showSymbol: false,
        lineStyle: { width: 1.5, color: '#ef4444' },
        areaStyle: { color: 'rgba(239, 68, 68, 0.15)' },
      },
    ],
  };
}

/** The group page's trend: events per bucket as bars on a time axis. */
export function trendOption(trend: Trend, narrow: boolean): Record<string, unknown> {
  const data = trend.counts.map((c, i) => [trend.fromMs + i * trend.bucketMs + trend.bucketMs / 2, c]);
  return {
    animation: false,
    textStyle: { color: TEXT, fontFamily: FONT },
    grid: { left: 8, right: 16, top: 12, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis' },
    xAxis: {
      type: 'time',
      axisLabel: { color: TEXT, hideOverlap: true },
      ...(narrow ? { splitNumber: 3 } : {}),
    },
    yAxis: {
      type: 'value',
      minInterval: 1,
      splitLine: { lineStyle: { color: GRID_LINE } },
      axisLabel: { color: TEXT },
    },
    series: [{ type: 'bar', name: 'Events', data, itemStyle: { color: '#ef4444' }, barMaxWidth: 16 }],
  };
}

export function statusLabel(g: Pick<ErrorGroupView, 'status' | 'regressed' | 'state'>): string {
  if (g.status === 'unresolved') return g.regressed ? 'Regressed' : 'Unresolved';
  if (g.status === 'resolved') return g.state.resolvedInRelease ? 'Resolved (next release)' : 'Resolved';
  if (g.state.ignoreUntilCount) return `Ignored (${g.state.ignoreUntilCount} more)`;
  if (g.state.ignoreUntilMs) return `Ignored until ${new Date(g.state.ignoreUntilMs).toLocaleString()}`;
  return 'Ignored';
}
