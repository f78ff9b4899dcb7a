/** The spans table of the embedded store (migration 8): writes, trace lookup, trace search and the service map. */
import duckdb from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import {
  SPAN_KINDS,
  STATUS_CODES,
  type ServiceMap,
  type ServiceMapEdge,
  type ServiceMapNode,
  type ServiceMapRequest,
  type SpanRecord,
  type SpanView,
  type TraceSearchRequest,
  type TraceSummary,
} from '../spans.ts';

const { timestampValue } = duckdb;

/**
 * Appends spans in the caller's transaction (DuckDB's appender, row by row
 * in the table's column order: about thirty times faster than a
 * parameterised INSERT of the same rows).
 */
export async function insertSpans(c: DuckDBConnection, spans: readonly SpanRecord[]): Promise<void> {
  const appender = await c.createAppender('spans');
  const text = (v: string | null): void => (v === null ? appender.appendNull() : appender.appendVarchar(v));
  // The spans of one resource share its object: its JSON is made once.
  let resource: unknown;
  let resourceJson = '';
  try {
    for (const s of spans) {
      if (s.resource !== resource) {
        resource = s.resource;
        resourceJson = JSON.stringify(s.resource);
      }
      appender.appendVarchar(s.tenant);
      appender.appendVarchar(s.traceId);
      appender.appendVarchar(s.spanId);
      appender.appendVarchar(s.parentSpanId);
      appender.appendVarchar(s.name);
      appender.appendTinyInt(s.kind);
      appender.appendTimestamp(timestampValue(s.startUs));
      appender.appendTimestamp(timestampValue(s.endUs));
      appender.appendDouble(s.durationMs);
      appender.appendTinyInt(s.statusCode);
      text(s.statusMessage === '' ? null : s.statusMessage);
      text(s.service);
      text(s.scopeName);
      appender.appendVarchar(resourceJson);
      appender.appendVarchar(JSON.stringify(s.attributes));
      appender.appendVarchar(JSON.stringify(s.events));
      appender.appendVarchar(JSON.stringify(s.links));
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

const ISO = `'%Y-%m-%dT%H:%M:%S.%fZ'`;

function parse(v: unknown): unknown {
  if (typeof v !== 'string') return v ?? null;
  try {
    return JSON.parse(v);
  } catch {
    return null;
  }
}

/** Every span of one trace of `tenant`, earliest first. */
export async function readTrace(c: DuckDBConnection, tenant: string, traceId: string): Promise<SpanView[]> {
  // `trace_id = $1` and nothing else, so that the index answers it (see migration 8); tenant and order after.
  const reader = await c.runAndReadAll(
    `SELECT tenant, trace_id, span_id, parent_span_id, name, kind, strftime(start_ts, ${ISO}) AS start_time,
       strftime(end_ts, ${ISO}) AS end_time, duration_ms, status_code, status_message, service, scope_name,
       resource_attributes::VARCHAR AS resource, attributes::VARCHAR AS attributes, events::VARCHAR AS events,
       links::VARCHAR AS links
     FROM spans WHERE trace_id = $1`,
    [traceId],
  );
  const rows = reader
    .getRowObjectsJson()
    .filter((r) => r['tenant'] === tenant)
    .sort((a, b) =>
      a['start_time'] === b['start_time']
        ? String(a['span_id']).localeCompare(String(b['span_id']))
        : String(a['start_time']) < String(b['start_time'])
          ? -1
          : 1,
    );
  return rows.map((r) => ({
    traceId: String(r['trace_id']),
    spanId: String(r['span_id']),
    parentSpanId: r['parent_span_id'] === '' ? null : String(r['parent_span_id']),
    name: String(r['name']),
    kind: SPAN_KINDS[Number(r['kind'])] ?? 'unspecified',
    startTime: String(r['start_time']),
    endTime: String(r['end_time']),
    durationMs: Number(r['duration_ms']),
    status: {
      code: STATUS_CODES[Number(r['status_code'])] ?? 'unset',
      message: r['status_message'] === null ? null : String(r['status_message']),
    },
    service: r['service'] === null ? null : String(r['service']),
    scope: r['scope_name'] === null ? null : String(r['scope_name']),
    resource: (parse(r['resource']) ?? {}) as Record<string, unknown>,
    attributes: (parse(r['attributes']) ?? {}) as Record<string, unknown>,
    events: (parse(r['events']) ?? []) as SpanView['events'],
    links: (parse(r['links']) ?? []) as SpanView['links'],
  }));
}

/** Traces with a span that matches every given condition, newest first. */
export async function searchTraces(c: DuckDBConnection, request: TraceSearchRequest): Promise<TraceSummary[]> {
  const params: DuckDBValue[] = [
    request.tenant,
    BigInt(Math.floor(request.fromMs * 1000)),
    BigInt(Math.ceil(request.toMs * 1000)),
  ];
  const where = ['tenant = $1', 'start_ts >= make_timestamp($2::BIGINT)', 'start_ts < make_timestamp($3::BIGINT)'];
  const add = (sql: (p: string) => string, value: DuckDBValue): void => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (request.service !== undefined) add((p) => `service = ${p}`, request.service);
  if (request.name !== undefined) add((p) => `name = ${p}`, request.name);
  if (request.status !== undefined) add((p) => `status_code = ${p}`, STATUS_CODES.indexOf(request.status));
  if (request.minDurationMs !== undefined) add((p) => `duration_ms >= ${p}`, request.minDurationMs);
  for (const a of request.attributes ?? []) {
    // The path names the key whole ("order.id" is one key, not a nested path).
    params.push(`$."${a.name.replace(/["\\]/g, '')}"`);
    const path = `$${params.length}`;
    add(
      (p) =>
        `coalesce(json_extract_string(attributes, ${path}), json_extract_string(resource_attributes, ${path})) = ${p}`,
      a.value,
    );
  }
  params.push(request.limit);
  const reader = await c.runAndReadAll(
    `WITH matched AS (
       SELECT trace_id, max(start_ts) AS last_start FROM spans WHERE ${where.join(' AND ')}
       GROUP BY trace_id ORDER BY last_start DESC LIMIT $${params.length}
     )
     SELECT s.trace_id,
       arg_min(s.service, [CASE WHEN s.parent_span_id = '' THEN 0 ELSE 1 END, epoch_us(s.start_ts)]) AS root_service,
       arg_min(s.name, [CASE WHEN s.parent_span_id = '' THEN 0 ELSE 1 END, epoch_us(s.start_ts)]) AS root_name,
       strftime(min(s.start_ts), ${ISO}) AS start_time,
       (epoch_us(max(s.end_ts)) - epoch_us(min(s.start_ts))) / 1000.0 AS duration_ms,
       count(*) AS span_count,
       list_sort(list(DISTINCT s.service) FILTER (WHERE s.service IS NOT NULL)) AS services,
       count(*) FILTER (WHERE s.status_code = 2) AS error_count
     FROM spans s JOIN matched m ON s.trace_id = m.trace_id
     WHERE s.tenant = $1
     GROUP BY s.trace_id
     ORDER BY min(s.start_ts) DESC`,
    params,
  );
  return reader.getRowObjectsJson().map((r) => ({
    traceId: String(r['trace_id']),
    rootService: r['root_service'] === null ? null : String(r['root_service']),
    rootName: String(r['root_name']),
    startTime: String(r['start_time']),
    durationMs: Number(r['duration_ms']),
    spanCount: Number(r['span_count']),
    services: ((r['services'] as unknown[] | null) ?? []).map(String),
    errorCount: Number(r['error_count']),
    hasError: Number(r['error_count']) > 0,
  }));
}

/**
 * The service map: each span where a service is entered (its parent is in another service, or absent) counts
 * for that service, and, when the parent is there, for the edge from the parent's service. A client span
 * without a child (a database, a payment gateway's API, a service that sends no spans) counts for its peer
 * (`peer.service`, else `db.system`, else `server.address`) and the edge to it. One pass over the
 * range's spans joined to their parents (same trace).
 */
export async function serviceMap(c: DuckDBConnection, request: ServiceMapRequest): Promise<ServiceMap> {
  const reader = await c.runAndReadAll(
    `WITH s AS (
       SELECT trace_id, span_id, parent_span_id, service, kind, attributes, status_code, duration_ms,
         coalesce(TRY_CAST(json_extract_string(attributes, '$."sampling.weight"') AS DOUBLE), 1) AS w
       FROM spans
       WHERE tenant = $1 AND start_ts >= make_timestamp($2::BIGINT) AND start_ts < make_timestamp($3::BIGINT)
     ),
     entries AS (
       SELECT p.service AS caller, c.service AS callee, c.status_code, c.duration_ms, c.w
       FROM s c LEFT JOIN s p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id AND c.parent_span_id <> ''
       WHERE c.service IS NOT NULL AND (p.service IS NULL OR p.service <> c.service)
       UNION ALL
       -- A call out of the instrumented services (a client span with no child span): to its peer.
       SELECT c.service, coalesce(json_extract_string(c.attributes, '$."peer.service"'),
           json_extract_string(c.attributes, '$."db.system"'), json_extract_string(c.attributes, '$."server.address"')),
         c.status_code, c.duration_ms, c.w
       FROM s c
       WHERE c.kind = ${SPAN_KINDS.indexOf('client')} AND c.service IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM s k WHERE k.trace_id = c.trace_id AND k.parent_span_id = c.span_id)
     )
     SELECT grouping(caller) AS node, caller, callee,
       sum(w) AS requests, coalesce(sum(w) FILTER (WHERE status_code = 2), 0) AS errors,
       quantile_cont(duration_ms, 0.95) AS p95
     FROM entries
     WHERE callee IS NOT NULL
     GROUP BY GROUPING SETS ((callee), (caller, callee))
     ORDER BY callee, caller`,
    [request.tenant, BigInt(Math.floor(request.fromMs * 1000)), BigInt(Math.ceil(request.toMs * 1000))],
  );
  const nodes: ServiceMapNode[] = [];
  const edges: ServiceMapEdge[] = [];
  for (const r of reader.getRowObjectsJson()) {
    const figures = {
      requests: Number(r['requests']),
      errors: Number(r['errors']),
      p95Ms: Math.round(Number(r['p95']) * 1000) / 1000,
    };
    const to = String(r['callee']);
    if (Number(r['node']) === 1) nodes.push({ service: to, ...figures });
    else if (r['caller'] !== null) edges.push({ from: String(r['caller']), to, ...figures });
  }
  return { nodes, edges };
}
