/**
 * The storage contract. The embedded DuckDB store and the ClickHouse store
 * implement it; nothing outside `src/store` builds SQL.
 */
import type { StoredEvent } from '../schema/record.ts';
import type { Query, TimeRange } from '../query/ir.ts';
import type { DocumentStore } from './documents.ts';
import type { FunnelRequest, FunnelResult } from './sql/funnel-compiler.ts';
import type { ErrorGroupImpact, ErrorGroupsRequest, ErrorGroupStats } from './sql/error-groups-compiler.ts';
import type { LogRecord } from './segment-log.ts';
import type { VisibleRowsListener } from './visible-rows.ts';
import type { KpiDelta } from './kpis.ts';
import type { ServiceMap, ServiceMapRequest, SpanRecord, SpanView, TraceSearchRequest, TraceSummary } from './spans.ts';

/** Types of result columns, engine-neutral. */
export type ResultType = 'timestamp' | 'string' | 'double' | 'integer' | 'boolean' | 'string[]' | 'json';

export interface ResultColumn {
  readonly name: string;
  readonly type: ResultType;
}

/** A query answer: column-major metadata, row-major values (JSON-ready). */
export interface QueryResult {
  readonly columns: readonly ResultColumn[];
  /** Timestamps are ISO-8601 strings; numbers are numbers; `_source` is an object. */
  readonly rows: readonly (readonly unknown[])[];
  readonly stats: {
    /** Wall time spent in the store, ms. */
    readonly elapsedMs: number;
    /** Events of the tenant inside the time range that the query had to consider. */
    readonly rowsScanned: number;
  };
}

/** What a query runs against: the caller's tenant and an absolute time range. */
export interface QueryRequest {
  readonly query: Query;
  readonly range: TimeRange;
  readonly tenant: string;
  /**
   * Set by the store: hourly rollups hold data inside the range, so a `stats`
   * query they can answer reads raw events and rollups together.
   */
  readonly useRollups?: boolean;
  /**
   * Set by the store: these whole minutes of the range (epoch ms, minute
   * aligned) are in the minute rollups, so a `stats` query they can answer
   * reads them from there and only the rest of the range from raw events.
   */
  readonly minuteRollups?: { readonly fromMs: number; readonly toMs: number };
  /**
   * Set by the store: these whole hours of the range are in the latency
   * histograms, so a query for percentiles of durations reads them from
   * there (within 1 %) and only the rest of the range from raw events.
   */
  readonly latencyRollups?: { readonly fromMs: number; readonly toMs: number };
  /** Data classes the caller may not see (e.g. `audit` for non-admins). */
  readonly excludeDataClasses?: readonly string[];
  /** Cancel the query after this many ms (answers `query.timeout`). */
  readonly timeoutMs?: number;
}

export interface AttributeFieldsRequest {
  readonly tenant: string;
  readonly range: TimeRange;
  /** Dotted attribute names, at most a few dozen. */
  readonly names: readonly string[];
  readonly timeoutMs?: number;
}

export interface AttributeFields {
  /** The names of the request that some event holds. */
  readonly present: ReadonlySet<string>;
  /** Attribute names seen in a sample of the events (filled only when some name is absent). */
  readonly seen: readonly string[];
}

/** SQL and parameters as sent to the engine (for `explain`). */
export interface CompiledSql {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** Read-only facts about an engine that callers may branch on (never on the engine name). */
export interface StoreCapabilities {
  /** Rows can be deleted in place (GDPR erasure, `_bulk` index replacement). */
  readonly supportsDelete: boolean;
  /** The engine enforces TTLs itself (otherwise a retention job deletes). */
  readonly supportsTtl: boolean;
}

/** Whose events a GDPR request is about. */
export interface CustomerMatch {
  /** Matched as customer id or user id. */
  readonly ids: readonly string[];
  /** Matched anywhere in the message or attributes (e.g. an e-mail address, raw and masked). */
  readonly texts: readonly string[];
}

/** What Store.errorGroups answers. */
export interface ErrorGroupsResult {
  /** Most events first. */
  readonly groups: readonly ErrorGroupStats[];
  /** Only groups that cost something, with `impact`. */
  readonly impact: readonly ErrorGroupImpact[];
  /** With `trendBucketMs`, when the store computes them: per group, [bucket start epoch ms, events] (buckets with events). */
  readonly trends?: ReadonlyMap<string, readonly (readonly [number, number])[]>;
  /** Wall time spent in the store, ms. */
  readonly elapsedMs: number;
}

export interface ErasureResult {
  readonly deleted: number;
  readonly byDataClass: Readonly<Record<string, number>>;
  /** Spans deleted besides the events (stores that keep spans). */
  readonly spans?: number;
}

/** Who hears what the ingest log does (the server's /metrics). */
export interface IngestLogObserver {
  /** After each durable write of the log: appends, rows and bytes written together, seconds it took (write + fdatasync). */
  onWrite?(records: number, rows: number, bytes: number, seconds: number): void;
  /** Rows waiting for the log's next write, whenever it changes. */
  onQueue?(rows: number): void;
  /** A segment was loaded into the engine: its rows, and seconds the load took. */
  onLoaded?(segment: { readonly id: number; readonly rows: number; readonly bytes: number }, seconds: number): void;
  onFailed?(segment: { readonly id: number; readonly rows: number }, err: unknown): void;
  /** Acknowledged → visible to queries, seconds, once per append. */
  onVisible?(seconds: number, records: number): void;
  /** Bytes in the log not yet loaded, whenever it changes. */
  onLogBytes?(bytes: number): void;
  /** What a loaded segment adds to the business KPIs (kpis.ts), once it is committed. */
  onKpis?(kpis: readonly KpiDelta[]): void;
}

export interface Store {
  /** `duckdb` or `clickhouse`: for logs and /metrics labels only. */
  readonly engine: string;
  readonly capabilities: StoreCapabilities;
  /** Per-tenant JSON documents: dashboards, rules, alert state, keys (usable once open). */
  readonly documents: DocumentStore;
  /** Opens the store and applies pending migrations. */
  open(): Promise<void>;
  /**
   * Durably commits one batch of events: when the promise resolves the data
   * survives a crash. All or nothing. Visible to queries at once, or (through
   * the ingest log, logged-store.ts) within the refresh interval.
   */
  appendEvents(events: readonly StoredEvent[]): Promise<void>;
  /**
   * Waits until every write acknowledged before the call is visible to
   * queries (Elasticsearch `refresh=wait_for`); `force` makes it visible now
   * instead of at the next refresh interval (`refresh=true`).
   */
  refresh(force?: boolean): Promise<void>;
  /**
   * As appendEvents, for rows already serialised into one NDJSON block (by an
   * ingest worker): stores with an ingest log append the bytes as they are.
   */
  appendRows?(record: LogRecord): Promise<void>;
  /** Event ids of `tenant` among `ids` that are already stored (or acknowledged and about to be). */
  existingEventIds(tenant: string, ids: readonly string[]): Promise<Set<string>>;
  query(request: QueryRequest): Promise<QueryResult>;
  /** The SQL a query compiles to, without running it. */
  explain(request: QueryRequest): CompiledSql;
  /**
   * For the unknown-field warning: of `names` (fields without a typed
   * column), those that some event of `tenant` in `range` holds; and, when
   * some are held by none, a sample of the attribute names events there do
   * hold (for suggestions; empty otherwise).
   */
  attributeFields(request: AttributeFieldsRequest): Promise<AttributeFields>;
  /** An ordered conversion funnel (compiled by src/store/sql/funnel-compiler.ts). */
  funnel(request: FunnelRequest): Promise<FunnelResult>;
  /**
   * Error groups of a time range with their figures, and (with `impact`)
   * what each cost: failed checkouts and revenue at risk (compiled by
   * src/store/sql/error-groups-compiler.ts).
   */
  errorGroups(request: ErrorGroupsRequest): Promise<ErrorGroupsResult>;
  /**
   * GDPR erasure: deletes the customer's events of `tenant` in every data
   * class but `audit`, committed before the promise resolves.
   */
  eraseCustomer(tenant: string, match: CustomerMatch): Promise<ErasureResult>;
  /** GDPR export: the customer's events (as `_source` objects), oldest first, at most `limit`. */
  exportCustomer(tenant: string, match: CustomerMatch, limit: number): Promise<Record<string, unknown>[]>;
  /**
   * Retention: folds the whole hours of each data class before its cutoff
   * (epoch ms) into hourly rollups, deletes those raw events, and deletes
   * rollups older than `rollupCutoffMs`. Answers raw events deleted per class.
   */
  deleteExpired(cutoffs: Readonly<Record<string, number>>, rollupCutoffMs: number): Promise<Record<string, number>>;
  /**
   * Upkeep of the minute rollups that make queries over days fast: folds
   * the minutes up to `nowMs` (minus a short lateness), one slice per call.
   * Call again while `caughtUp` is false. (An engine that maintains them
   * itself answers caught up at once.)
   */
  rollUp(nowMs?: number): Promise<{ readonly untilMs: number; readonly caughtUp: boolean }>;
  /**
   * Throws 429 `ingest.overloaded` (with Retry-After) when the store cannot
   * take more ingest now; called before a request body is read, so that no
   * work is spent on a request that would be refused.
   */
  admit?(): void;
  /**
   * Hears whose rows of which event types became visible, per loaded segment
   * (stores with a log only); answers the function that stops it.
   */
  onVisibleRows?(listener: VisibleRowsListener): () => void;
  /** Sets who hears of ingest log writes and loads (stores with a log only). */
  observe?(observer: IngestLogObserver): void;
  /**
   * Durably commits spans (OTLP traces): when the promise resolves they
   * survive a crash and are visible to trace lookups. All or nothing.
   * Absent: the store keeps no spans (the OTLP traces route answers 501).
   */
  appendSpans?(spans: readonly SpanRecord[]): Promise<void>;
  /** Every span of one trace of `tenant`, earliest first (empty: no such trace). */
  trace?(tenant: string, traceId: string): Promise<SpanView[]>;
  /** Traces that hold a span matching the request, newest first. */
  searchTraces?(request: TraceSearchRequest): Promise<TraceSummary[]>;
  /** Services and the calls between them, from the spans of a range (src/store/spans.ts ServiceMap). */
  serviceMap?(request: ServiceMapRequest): Promise<ServiceMap>;
  /** Throws unless the store can take writes now (for /ready). */
  checkWritable(): Promise<void>;
  close(): Promise<void>;
}
