/**
 * Traces in the UI: the answers of the traces API (src/api/routes/traces.ts),
 * service colours, span durations for people, and the critical path of a
 * trace (pure functions, so the e2e test and the pages agree on them).
 */

export interface SpanEvent {
  readonly name: string;
  readonly timestamp: string | null;
  readonly attributes: Record<string, unknown>;
}

export interface SpanLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly attributes: Record<string, unknown>;
}

export interface TraceSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | null;
  readonly name: string;
  readonly kind: string;
  readonly startTime: string;
  readonly endTime: string;
  readonly durationMs: number;
  readonly status: { readonly code: string; readonly message: string | null };
  readonly service: string | null;
  readonly scope: string | null;
  readonly resource: Record<string, unknown>;
  readonly attributes: Record<string, unknown>;
  readonly events: SpanEvent[];
  readonly links: SpanLink[];
  readonly depth: number;
  readonly childSpanIds: string[];
}

/** `GET /api/v1/traces/:traceId`. */
export interface TraceAnswer {
  readonly traceId: string;
  readonly startTime: string;
  readonly durationMs: number;
  readonly spanCount: number;
  readonly services: string[];
  readonly errorCount: number;
  readonly rootSpanIds: string[];
  /** Depth-first, children by start time. */
  readonly spans: TraceSpan[];
  /** Events (log lines, business events) with the trace's id, oldest first. */
  readonly events: Record<string, unknown>[];
}

export interface TraceSummary {
  readonly traceId: string;
  readonly rootService: string | null;
  readonly rootName: string;
  readonly startTime: string;
  readonly durationMs: number;
  readonly spanCount: number;
  readonly services: string[];
  readonly errorCount: number;
  readonly hasError: boolean;
}

/** `GET /api/v1/traces?…`. */
export interface TraceSearchAnswer {
  readonly from: string;
  readonly to: string;
  readonly traces: TraceSummary[];
}

export const TRACE_ID = /^[0-9a-f]{32}$/i;

/** The page of a trace. */
export function traceUrl(traceId: string): string {
  return `/traces/${encodeURIComponent(traceId.toLowerCase())}`;
}

/** Explore with the events of a trace, oldest first, an hour either side of `atIso`. */
export function traceExploreUrl(traceId: string, atIso: string, durationMs = 0): string {
  const t = Date.parse(atIso);
  const from = Number.isNaN(t) ? 'now-24h' : new Date(t - 3_600_000).toISOString();
  const to = Number.isNaN(t) ? 'now' : new Date(t + durationMs + 3_600_000).toISOString();
  const q = `trace_id:"${traceId.replace(/["\\]/g, '\\$&')}" | sort @timestamp asc`;
  return `/explore?${new URLSearchParams({ q, from, to }).toString()}`;
}

/** Distinct, readable colours; a service keeps its colour within a trace (by its place in the sorted list). */
const PALETTE = [
  '#2563eb',
  '#16a34a',
  '#9333ea',
  '#ea580c',
  '#0891b2',
  '#ca8a04',
  '#db2777',
  '#4f46e5',
  '#65a30d',
  '#0d9488',
  '#7c3aed',
  '#b45309',
];

export function serviceColours(services: readonly string[]): Map<string, string> {
  const sorted = [...new Set(services)].sort();
  return new Map(sorted.map((s, i) => [s, PALETTE[i % PALETTE.length] as string]));
}

/** A span duration: `850 µs`, `12.4 ms`, `340 ms`, `2.35 s`, `3 min 5 s`. */
export function formatSpanDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 10) return `${Number(ms.toFixed(2))} ms`;
  if (ms < 100) return `${Number(ms.toFixed(1))} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(2))} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/**
 * The critical path: from each root, the chain of spans that ends last —
 * at every span, the child that finishes latest (ties: the longer one),
 * down to a leaf. It is the chain that decided when the trace ended; for a
 * trace with several roots, the path under the root that ends last.
 */
export function criticalPath(spans: readonly TraceSpan[]): Set<string> {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const end = (s: TraceSpan) => Date.parse(s.endTime);
  const roots = spans.filter((s) => s.depth === 0);
  const later = (a: TraceSpan, b: TraceSpan) =>
    end(b) > end(a) || (end(b) === end(a) && b.durationMs > a.durationMs) ? b : a;
  const path = new Set<string>();
  if (roots.length === 0) return path;
  let at: TraceSpan | undefined = roots.reduce(later);
  while (at && !path.has(at.spanId)) {
    path.add(at.spanId);
    const kids: TraceSpan[] = at.childSpanIds.map((id) => byId.get(id)).filter((k): k is TraceSpan => k !== undefined);
    at = kids.length > 0 ? kids.reduce(later) : undefined;
  }
  return path;
}

/** The exception events of a span, with their type, message and stack trace. */
export function exceptions(span: TraceSpan): { type: string; message: string; stacktrace: string }[] {
  return span.events
    .filter((e) => e.name === 'exception')
    .map((e) => ({
      type: String(e.attributes['exception.type'] ?? ''),
      message: String(e.attributes['exception.message'] ?? ''),
      stacktrace: String(e.attributes['exception.stacktrace'] ?? ''),
    }));
}

/** An attribute value as text: strings as they are, everything else as JSON. */
export function attributeText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return JSON.stringify(value);
}
