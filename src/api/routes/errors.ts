/**
 * `/api/v1/errors`: error groups (issues) with what they cost in users and
 * money, their state, merges and the mean time to resolution
 * (docs/errors.md "API" documents the shapes).
 *
 * - `GET /api/v1/errors` — the groups of a range, sorted and filtered
 * - `GET /api/v1/errors/mttr` — mean time to resolution per service and week
 * - `GET /api/v1/errors/:id` — one group: figures, history, releases, tags, recent events
 * - `POST /api/v1/errors/:id/state` — resolve (optionally in the next release), ignore, reopen
 * - `POST /api/v1/errors/:id/merge` — merge other groups into this one
 * - `POST /api/v1/errors/:id/unmerge` — take fingerprints out of it again
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import {
  ErrorGroupService,
  GroupNotFoundError,
  type ErrorGroupView,
  type SortKey,
  type StateChange,
} from '../../errors/error-group-service.ts';
import { ErrorGrouper } from '../../errors/grouping-rules.ts';
import { maskQueryText } from '../../privacy/query-text.ts';
import { checkQueryLength, parseFilter, resolveTimeRange } from '../../query/index.ts';
import { minorUnitDecimals } from '../../query/money-columns.ts';
import { parseDuration } from '../../util/duration.ts';
import { jsonBody } from '../body.ts';
import { roundTo } from '../money.ts';
import type { AppContext } from '../server.ts';

const SORTS = ['events', 'users', 'revenue', 'lastSeen', 'firstSeen'] as const;
const STATUSES = ['unresolved', 'resolved', 'ignored', 'all'] as const;

const listQuery = z
  .object({
    from: z.string().max(100).optional(),
    to: z.string().max(100).optional(),
    sort: z.enum(SORTS, { error: `expected one of ${SORTS.join(', ')}` }).optional(),
    order: z.enum(['asc', 'desc'], { error: 'expected asc or desc' }).optional(),
    service: z.string().min(1).max(200).optional(),
    release: z.string().min(1).max(200).optional(),
    environment: z.string().min(1).max(200).optional(),
    status: z.enum(STATUSES, { error: `expected one of ${STATUSES.join(', ')}` }).optional(),
    query: z.string().max(65_536).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
    offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
  })
  .strict();

const rangeQuery = z.object({ from: z.string().max(100).optional(), to: z.string().max(100).optional() }).strict();

const stateBody = z.discriminatedUnion(
  'status',
  [
    z.object({ status: z.literal('resolved'), inNextRelease: z.boolean().optional() }).strict(),
    z.object({ status: z.literal('unresolved') }).strict(),
    z
      .object({
        status: z.literal('ignored'),
        /** Until this many more events arrive. */
        untilCount: z.number().int().min(1).max(1_000_000_000).optional(),
        /** For this long ("24h", "7d"). */
        duration: z.string().max(20).optional(),
      })
      .strict(),
  ],
  { error: 'expected "status": "resolved", "unresolved" or "ignored"' },
);

const groupId = z.string().min(1).max(200);
const mergeBody = z.object({ groups: z.array(groupId).min(1).max(100) }).strict();
const unmergeBody = z.object({ fingerprints: z.array(groupId).min(1).max(100) }).strict();

function parsed<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? `"${issue.path.join('.')}"` : where;
  throw new AppError(400, 'request.invalid', `${field}: ${issue?.message ?? 'invalid'}`);
}

/** Revenue figures rounded to each currency's minor unit (the total to cents). */
function rounded<T extends ErrorGroupView>(view: T): T {
  const byCurrency = view.revenueAtRisk.byCurrency.map((c) => ({
    currency: c.currency,
    amount: roundTo(c.amount, minorUnitDecimals(c.currency || undefined)),
  }));
  return { ...view, revenueAtRisk: { total: roundTo(view.revenueAtRisk.total, 2), byCurrency } };
}

export function errorsRoutes(ctx: AppContext): FastifyPluginAsync {
  const service = new ErrorGroupService(ctx.store, new ErrorGrouper(ctx.config.ingest.errorGrouping), {
    timeoutMs: ctx.config.query.timeout,
  });
  const range = (q: { from?: string; to?: string }, defaultFrom = 'now-24h') =>
    resolveTimeRange({ from: q.from ?? defaultFrom, to: q.to }, Date.now());
  const idOf = (request: FastifyRequest) => parsed(groupId, (request.params as { id?: string }).id, 'the group id');
  const notFound = (err: unknown): never => {
    if (err instanceof GroupNotFoundError) throw new AppError(404, 'errors.not_found', err.message);
    throw err;
  };

  return async (app) => {
    app.get('/api/v1/errors', { config: { role: 'read' } }, async (request) => {
      const q = parsed(listQuery, request.query, 'the query string');
      let filter;
      if (q.query !== undefined && q.query.trim() !== '') {
        checkQueryLength(q.query, ctx.config.query.maxLength);
        filter = parseFilter(maskQueryText(q.query, ctx.config.privacy));
      }
      const r = range(q);
      const list = await service.list({
        tenant: request.principal.tenant,
        range: r,
        ...(q.sort ? { sort: q.sort as SortKey } : {}),
        ...(q.order ? { order: q.order } : {}),
        ...(q.service ? { service: q.service } : {}),
        ...(q.release ? { release: q.release } : {}),
        ...(q.environment ? { environment: q.environment } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(filter ? { filter } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
        ...(q.offset ? { offset: q.offset } : {}),
      });
      return {
        groups: list.groups.map(rounded),
        total: list.total,
        range: { from: new Date(r.fromMs).toISOString(), to: new Date(r.toMs).toISOString() },
        stats: { elapsedMs: list.elapsedMs },
      };
    });

    app.get('/api/v1/errors/mttr', { config: { role: 'read' } }, async (request) => {
      const q = parsed(rangeQuery, request.query, 'the query string');
      const r = range(q, 'now-30d');
      return {
        ...(await service.mttr(request.principal.tenant, r)),
        range: { from: new Date(r.fromMs).toISOString(), to: new Date(r.toMs).toISOString() },
      };
    });

    app.get('/api/v1/errors/:id', { config: { role: 'read' } }, async (request) => {
      const id = idOf(request);
      const q = parsed(rangeQuery, request.query, 'the query string');
      const r = range(q, 'now-7d');
      const detail = await service.detail(request.principal.tenant, id, r).catch(notFound);
      return {
        ...rounded(detail),
        range: { from: new Date(r.fromMs).toISOString(), to: new Date(r.toMs).toISOString() },
      };
    });

    app.post('/api/v1/errors/:id/state', { config: { role: 'admin' } }, async (request) => {
      const id = idOf(request);
      const body = jsonBody(request, stateBody);
      let change: StateChange = body;
      if (body.status === 'ignored') {
        let untilMs: number | undefined;
        if (body.duration !== undefined) {
          try {
            untilMs = Date.now() + parseDuration(body.duration);
          } catch (err) {
            throw new AppError(400, 'request.invalid', `"duration": ${(err as Error).message}`);
          }
        }
        change = {
          status: 'ignored',
          ...(body.untilCount === undefined ? {} : { untilCount: body.untilCount }),
          ...(untilMs === undefined ? {} : { untilMs }),
        };
      }
      const p = request.principal;
      const state = await service.setState(p.tenant, id, change, p.actor).catch(notFound);
      return { id: await service.rootOf(p.tenant, id), state };
    });

    app.post('/api/v1/errors/:id/merge', { config: { role: 'admin' } }, async (request) => {
      const id = idOf(request);
      const body = jsonBody(request, mergeBody);
      const p = request.principal;
      const merged = await service.merge(p.tenant, id, body.groups, p.actor).catch(notFound);
      return { id: await service.rootOf(p.tenant, id), merged };
    });

    app.post('/api/v1/errors/:id/unmerge', { config: { role: 'admin' } }, async (request) => {
      const id = idOf(request);
      const body = jsonBody(request, unmergeBody);
      const p = request.principal;
      const unmerged = await service.unmerge(p.tenant, id, body.fingerprints, p.actor).catch(notFound);
      return { id, unmerged };
    });
  };
}
