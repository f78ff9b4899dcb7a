/**
 * The in-app inbox of alert notifications, per tenant (src/alerts/inbox.ts):
 * - `GET /api/v1/alerts/inbox?limit=20&offset=0&unread=true`: newest first, with `total`, `unread`, `nextOffset`.
 * - `POST /api/v1/alerts/inbox/{id}/ack`: acknowledges one item (again: keeps the first acknowledgement).
 * - `POST /api/v1/alerts/inbox/ack` `{"ids": [...]}` or `{"all": true, "through": "<id>"}`: several, or
 *   every unread one (optionally only that item and older ones: what the user has seen).
 * Acknowledging needs the `read` role: it records who has seen a notification and changes no configuration.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AlertEngine } from '../../alerts/alert-engine.ts';
import { acknowledgeMany, acknowledgeOne, listInbox } from '../../alerts/inbox.ts';
import { AppError } from '../../errors.ts';
import { jsonBody } from '../body.ts';
import type { AppContext } from '../server.ts';

const MAX_PAGE = 100;
const MAX_IDS = 500;

const inboxId = z.string().min(1, 'expected an inbox item id').max(200, 'expected an inbox item id');

const ackBody = z.union(
  [
    z.object({ ids: z.array(inboxId).min(1, 'expected at least one id').max(MAX_IDS) }).strict(),
    z.object({ all: z.literal(true), through: inboxId.optional() }).strict(),
  ],
  { error: 'expected {"ids": ["<id>", ...]} or {"all": true} (optionally with "through": "<id>")' },
);

/** A non-negative integer query parameter; a clear 400 naming it otherwise. */
function intParam(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const text = Array.isArray(value) ? undefined : String(value);
  const n = text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new AppError(
      400,
      'request.invalid',
      `"${name}": expected an integer from ${min} to ${max}, got "${String(value)}"`,
    );
  }
  return n;
}

function boolParam(value: unknown, name: string): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new AppError(400, 'request.invalid', `"${name}": expected true or false, got "${String(value)}"`);
}

export function alertInboxRoutes(ctx: AppContext, engine: AlertEngine): FastifyPluginAsync {
  const docs = ctx.store.documents;
  return async (app) => {
    app.get<{ Querystring: Record<string, unknown> }>(
      '/api/v1/alerts/inbox',
      { config: { role: 'read' } },
      async (request) => {
        const q = request.query;
        return listInbox(docs, request.principal.tenant, {
          limit: intParam(q['limit'], 'limit', 20, 1, MAX_PAGE),
          offset: intParam(q['offset'], 'offset', 0, 0, 100_000),
          unreadOnly: boolParam(q['unread'], 'unread'),
        });
      },
    );

    app.post<{ Params: { id: string } }>(
      '/api/v1/alerts/inbox/:id/ack',
      { config: { role: 'read' } },
      async (request) => {
        const { tenant, actor } = request.principal;
        return acknowledgeOne(docs, tenant, request.params.id, actor, engine.now());
      },
    );

    app.post('/api/v1/alerts/inbox/ack', { config: { role: 'read' } }, async (request) => {
      const body = jsonBody(request, ackBody);
      const { tenant, actor } = request.principal;
      const which =
        'ids' in body ? { ids: body.ids } : { all: true as const, ...(body.through ? { through: body.through } : {}) };
      return acknowledgeMany(docs, tenant, which, actor, engine.now());
    });
  };
}
