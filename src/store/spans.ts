/**
 * Spans (OpenTelemetry traces) as the stores keep them, and the shapes of
 * trace lookups and trace search. Engine-neutral: each store implements
 * `Store.appendSpans`, `Store.trace` and `Store.searchTraces` in its own SQL.
 */

/** One span, redacted and ready to store. */
export interface SpanRecord {
  readonly tenant: string;
  /** 32 lowercase hex characters. */
  readonly traceId: string;
  /** 16 lowercase hex characters. */
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  /** Epoch microseconds. */
  readonly startUs: bigint;
  readonly endUs: bigint;
  readonly durationMs: number;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly service: string | null;
  readonly scopeName: string | null;
  readonly resource: Readonly<Record<string, unknown>>;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly events: readonly SpanEventRecord[];
  readonly links: readonly SpanLinkRecord[];
}

export interface SpanEventRecord {
  readonly name: string;
  /** ISO-8601 with microseconds. */
  readonly timestamp: string | null;
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface SpanLinkRecord {
  readonly traceId: string;
  readonly spanId: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

export const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export const STATUS_CODES = ['unset', 'ok', 'error'] as const;

/** A span as the API answers it. */
export interface SpanView {
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
  readonly events: SpanEventRecord[];
  readonly links: SpanLinkRecord[];
}

export interface TraceSearchRequest {
  readonly tenant: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** Traces with a span of this service... */
  readonly service?: string;
  /** ...with this span name (operation)... */
  readonly name?: string;
  /** ...with this status... */
  readonly status?: 'unset' | 'ok' | 'error';
  /** ...lasting at least this long, ms (all the given conditions hold for one span). */
  readonly minDurationMs?: number;
  /** ...with these span (or resource) attribute values, compared as text. */
  readonly attributes?: readonly { readonly name: string; readonly value: string }[];
  readonly limit: number;
}

/** One trace in a search answer. */
export interface TraceSummary {
  readonly traceId: string;
  /** The root span's (or, without one, the earliest span's) service and name. */
  readonly rootService: string | null;
  readonly rootName: string;
  readonly startTime: string;
  readonly durationMs: number;
  readonly spanCount: number;
  readonly services: string[];
  readonly errorCount: number;
  readonly hasError: boolean;
}

/** The service map of a time range: who calls whom, from the spans that start in it. */
export interface ServiceMapRequest {
  readonly tenant: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * Figures of the spans where a service is entered: a span of the service
 * whose parent is in another service, or has none (a root, or a parent not
 * received). Counts are weighted by `sampling.weight` (a sampled span
 * stands for that many); the p95 is over the spans kept.
 */
export interface ServiceFigures {
  readonly requests: number;
  readonly errors: number;
  readonly p95Ms: number;
}

export interface ServiceMapNode extends ServiceFigures {
  readonly service: string;
}

/** Calls from `from` into `to`: the child spans of `to` under a span of `from`. */
export interface ServiceMapEdge extends ServiceFigures {
  readonly from: string;
  readonly to: string;
}

export interface ServiceMap {
  readonly nodes: ServiceMapNode[];
  readonly edges: ServiceMapEdge[];
}
