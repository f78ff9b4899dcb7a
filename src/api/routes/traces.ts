/**
 * Traces out (spans sent to `POST /v1/traces`):
 *
 * - `GET /api/v1/traces/:traceId`: every span of the trace with its parent
 *   and children, the services it touched, its duration and error count.
 * - `GET /api/v1/traces?service=&name=&status=&minDuration=&from=&to=&limit=`:
 *   traces holding a span that matches every given condition, newest first,
 *   each with its root operation, services, span count, duration and error mark.
 *   `attribute=order.id:ORD-123` (repeatable) asks for a span with that attribute value.
 * - `GET /api/v1/service-map?from=&to=`: the services (nodes) and the calls
 *   between them (edges, from a parent span's service to its child's), each
 *   with requests, errors, p95 duration, rate per second and error rate, from
 *   the spans where a service is entered (weighted by `sampling.weight`).
 *
 * The trace view also lists the events with the trace's id (log lines sent
 * to /v1/logs, and NDJSON events with a `trace_id`), oldest first.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { SpanView } from '../../store/spans.ts';
import { runQuery } from '../../store/query-service.ts';
import { parseDuration } from '../../util/duration.ts';
import type { AppContext } from '../server.ts';

const TRACE_ID = /^[0-9a-f]{32}$/;
const DEFAULT_RANGE_MS = 60 * 60 * 1000;

/** An instant: ISO-8601, epoch ms, `now`, or `now-15m`. */
function instant(value: string, field: string, nowMs: number): number {
  const v = value.trim();
  if (v === 'now') return nowMs;
  const rel = /^now-(.+)$/.exec(v);
  if (rel) {
    try {
      return nowMs - parseDuration(rel[1] as string);
    } catch {
      /* falls through to the error */
    }
  } else if (/^\d+$/.test(v)) return Number(v);
  else {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  throw new AppError(400, 'request.invalid', `"${field}": expected an ISO-8601 time, epoch ms, "now" or "now-15m"`);
}

const rangeQuery = z.object({
  from: z.string().max(64).optional(),
  to: z.string().max(64).optional(),
});

const searchQuery = z.object({
  service: z.string().min(1).max(256).optional(),
  name: z.string().min(1).max(1024).optional(),
  status: z.enum(['unset', 'ok', 'error']).optional(),
  minDuration: z.string().max(32).optional(),
  from: z.string().max(64).optional(),
  to: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  attribute: z.union([z.string(), z.array(z.string())]).optional(),
});

/** Most events listed beside a trace. */
const MAX_TRACE_EVENTS = 200;
/** Events of a trace are looked for this long before its first span and after its last, ms. */
const EVENT_SLACK_MS = 60 * 60 * 1000;
const EVENT_FIELDS = ['@timestamp', 'event.type', 'service.name', 'log.level', 'message', 'span_id', 'event.id'];

/** `name:value` pairs of the `attribute` parameter. */
function attributeFilters(value: string | string[] | undefined): { name: string; value: string }[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  if (list.length > 8) throw new AppError(400, 'request.invalid', '"attribute": at most 8 attribute conditions');
  return list.map((item) => {
    const at = item.indexOf(':');
    if (at <= 0 || at > 256) {
      throw new AppError(400, 'request.invalid', '"attribute": expected name:value, such as order.id:ORD-123456');
    }
    return { name: item.slice(0, at), value: item.slice(at + 1) };
  });
}

/** Spans with their depth and children, in depth-first order (children by start time). */
function withTree(spans: SpanView[]): (SpanView & { depth: number; childSpanIds: string[] })[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const children = new Map<string, SpanView[]>();
  const roots: SpanView[] = [];
  for (const s of spans) {
    if (s.parentSpanId && byId.has(s.parentSpanId)) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else roots.push(s);
  }
  const out: (SpanView & { depth: number; childSpanIds: string[] })[] = [];
  const seen = new Set<string>();
  const visit = (s: SpanView, depth: number): void => {
    if (seen.has(s.spanId)) return;
    seen.add(s.spanId);
    const kids = children.get(s.spanId) ?? [];
    out.push({ ...s, depth, childSpanIds: kids.map((k) => k.spanId) });
    for (const k of kids) visit(k, depth + 1);
  };
  for (const r of roots) visit(r, 0);
  return out;
}

export function tracesRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/v1/traces/:traceId', { config: { role: 'read' } }, async (request) => {
      const traceId = String((request.params as { traceId?: string }).traceId ?? '').toLowerCase();
      if (!TRACE_ID.test(traceId)) {
        throw new AppError(400, 'traces.invalid_id', 'A trace id is 32 hex characters');
      }
      if (!ctx.store.trace) throw new AppError(501, 'store.no_spans', 'This store does not keep spans (traces)');
      const spans = await ctx.store.trace(request.principal.tenant, traceId);
      if (spans.length === 0) throw new AppError(404, 'traces.not_found', `No trace ${traceId}`);
      const tree = withTree(spans);
      const startMs = Math.min(...spans.map((s) => Date.parse(s.startTime)));
      const endMs = Math.max(...spans.map((s) => Date.parse(s.endTime)));
      const linked = await runQuery(ctx.store, {
        query: `trace_id:"${traceId}" | sort @timestamp asc | limit ${MAX_TRACE_EVENTS} | fields ${EVENT_FIELDS.join(', ')}`,
        from: new Date(startMs - EVENT_SLACK_MS).toISOString(),
        to: new Date(endMs + EVENT_SLACK_MS).toISOString(),
        tenant: request.principal.tenant,
        auditAccess: false,
        timeoutMs: ctx.config.query.timeout,
      });
      const names = linked.columns.map((c) => c.name);
      const events = linked.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i] ?? null])));
      return {
        traceId,
        startTime: new Date(startMs).toISOString(),
        durationMs: endMs - startMs,
        spanCount: spans.length,
        services: [...new Set(spans.map((s) => s.service).filter((s): s is string => s !== null))].sort(),
        errorCount: spans.filter((s) => s.status.code === 'error').length,
        rootSpanIds: tree.filter((s) => s.depth === 0).map((s) => s.spanId),
        spans: tree,
        events,
      };
    });

    app.get('/api/v1/service-map', { config: { role: 'read' } }, async (request) => {
      const parsed = rangeQuery.safeParse(request.query);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new AppError(
          400,
          'request.invalid',
          `"${issue?.path.join('.') ?? 'query'}": ${issue?.message ?? 'invalid'}`,
        );
      }
      if (!ctx.store.serviceMap) throw new AppError(501, 'store.no_spans', 'This store does not keep spans (traces)');
      const now = Date.now();
      const toMs = parsed.data.to ? instant(parsed.data.to, 'to', now) : now;
      const fromMs = parsed.data.from ? instant(parsed.data.from, 'from', now) : toMs - DEFAULT_RANGE_MS;
      if (fromMs >= toMs) throw new AppError(400, 'request.invalid', '"from" must be before "to"');
      const map = await ctx.store.serviceMap({ tenant: request.principal.tenant, fromMs, toMs });
      const seconds = (toMs - fromMs) / 1000;
      const rates = <T extends { requests: number; errors: number }>(f: T) => ({
        ...f,
        ratePerSec: f.requests / seconds,
        errorRate: f.requests > 0 ? f.errors / f.requests : 0,
      });
      return {
        from: new Date(fromMs).toISOString(),
        to: new Date(toMs).toISOString(),
        nodes: map.nodes.map(rates),
        edges: map.edges.map(rates),
      };
    });

    app.get('/api/v1/traces', { config: { role: 'read' } }, async (request) => {
      const parsed = searchQuery.safeParse(request.query);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new AppError(
          400,
          'request.invalid',
          `"${issue?.path.join('.') ?? 'query'}": ${issue?.message ?? 'invalid'}`,
        );
      }
      const q = parsed.data;
      if (!ctx.store.searchTraces) throw new AppError(501, 'store.no_spans', 'This store does not keep spans (traces)');
      const now = Date.now();
      const toMs = q.to ? instant(q.to, 'to', now) : now;
      const fromMs = q.from ? instant(q.from, 'from', now) : toMs - DEFAULT_RANGE_MS;
      let minDurationMs: number | undefined;
      if (q.minDuration !== undefined) {
        try {
          minDurationMs = /^\d+(\.\d+)?$/.test(q.minDuration) ? Number(q.minDuration) : parseDuration(q.minDuration);
        } catch {
          throw new AppError(
            400,
            'request.invalid',
            '"minDuration": expected a duration such as "250ms" or milliseconds',
          );
        }
      }
      const traces = await ctx.store.searchTraces({
        tenant: request.principal.tenant,
        fromMs,
        toMs,
        limit: q.limit ?? 100,
        ...(q.service !== undefined ? { service: q.service } : {}),
        ...(q.name !== undefined ? { name: q.name } : {}),
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(minDurationMs !== undefined ? { minDurationMs } : {}),
        attributes: attributeFilters(q.attribute),
      });
      return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), traces };
    });
  };
}
