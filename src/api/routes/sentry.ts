/**
 * Sentry's ingestion endpoints, for unmodified Sentry SDKs configured with a
 * DSN `http://<Shoplens ingest key>@<host>/<project id>` (the key CLI prints
 * one: `shoplens keys create --role ingest --project 1`):
 *
 * - `POST /api/{project}/envelope/`: an envelope of items (src/ingest/sentry-envelope.ts)
 * - `POST /api/{project}/store/`: one event as JSON (legacy SDKs)
 *
 * The key comes as `X-Sentry-Auth: Sentry sentry_key=…` or `?sentry_key=…`
 * (src/api/keys.ts); a key made for a project only sends to that project.
 * Bodies may be gzip, deflate or brotli. Over a rate limit or under
 * back-pressure the answer is 429 with `Retry-After` and
 * `X-Sentry-Rate-Limits`, which the SDKs honour instead of retrying at once.
 *
 * Browser SDKs send from the shop's own pages, so these routes answer CORS
 * as Sentry's Relay does (relay-server/src/middlewares/cors.rs): any origin,
 * POST, the headers SDKs send, the rate-limit headers readable by the page,
 * and a preflight (`OPTIONS`) that needs no key. Only these routes: the rest
 * of the API stays same-origin.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';
import { decodeBody } from '../../ingest/body.ts';
import { ingestEnvelope, ingestStoreEvent } from '../../ingest/sentry-envelope.ts';
import { SENTRY_PROJECT } from '../keys.ts';
import { applyRefresh, refreshMode } from '../refresh.ts';
import type { AppContext } from '../server.ts';

/** What a page may send (Relay's list) and read of the answers. */
const CORS_ALLOW_HEADERS = [
  'x-sentry-auth',
  'x-requested-with',
  'x-forwarded-for',
  'origin',
  'referer',
  'accept',
  'content-type',
  'authentication',
  'authorization',
  'content-encoding',
  'transfer-encoding',
].join(', ');
const CORS_EXPOSE_HEADERS = 'x-sentry-error, x-sentry-rate-limits, retry-after';
const CORS_MAX_AGE_SECONDS = 3600;

const PATHS = {
  envelope: ['/api/:projectId/envelope/', '/api/:projectId/envelope'],
  store: ['/api/:projectId/store/', '/api/:projectId/store'],
} as const;

export function sentryRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    // Sentry SDKs read their back-off from this header (retry_after:categories:scope), all categories here.
    app.addHook('onSend', async (_request, reply, payload) => {
      if (reply.statusCode === 429) {
        const retry = Number(reply.getHeader('retry-after') ?? 1);
        reply.header('X-Sentry-Rate-Limits', `${Number.isFinite(retry) && retry > 0 ? retry : 1}::key`);
      }
      // Every answer of these routes, refusals included: a page's SDK must read a 401, 413 or 429 too.
      reply.header('Access-Control-Allow-Origin', '*');
      reply.header('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
      return payload;
    });

    // The preflight a browser sends before a POST with X-Sentry-Auth or an envelope content type.
    // No key: a browser never sends credentials on a preflight.
    const preflight = async (_request: FastifyRequest, reply: FastifyReply) => {
      reply
        .header('Access-Control-Allow-Methods', 'POST')
        .header('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS)
        .header('Access-Control-Max-Age', String(CORS_MAX_AGE_SECONDS))
        .header('Vary', 'origin, access-control-request-method, access-control-request-headers')
        .code(200)
        .send();
    };
    for (const path of [...PATHS.envelope, ...PATHS.store]) {
      app.options(path, { config: { role: 'public' } }, preflight);
    }

    const project = (request: FastifyRequest): string => {
      const id = (request.params as { projectId?: string }).projectId ?? '';
      if (!SENTRY_PROJECT.test(id)) {
        throw new AppError(
          400,
          'sentry.invalid_project',
          'The project id in the path must be digits, as in a Sentry DSN',
        );
      }
      const own = request.principal.project;
      if (own !== undefined && own !== id) {
        throw new AppError(403, 'sentry.wrong_project', `This key's DSN names project ${own}, not project ${id}`);
      }
      return id;
    };

    const route = (kind: 'envelope' | 'store') => async (request: FastifyRequest) => {
      const projectId = project(request);
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      // Not what SDKs send, but scripts and tests may wait for visibility as on the other ingest routes.
      const refresh = refreshMode(request.query);
      const answer = await ctx.pipeline.admitted(raw.length, async (admission) => {
        const body = await decodeBody(raw, request.headers['content-encoding'], ctx.config.server.maxBodyBytes);
        admission.resize(Math.max(raw.length, body.length));
        const ingestCtx = { tenant: request.principal.tenant, receivedAtMs: Date.now() };
        return kind === 'envelope'
          ? ingestEnvelope(ctx.pipeline, body, projectId, ingestCtx)
          : ingestStoreEvent(ctx.pipeline, body, projectId, ingestCtx);
      });
      await applyRefresh(ctx.store, refresh);
      return answer;
    };

    const config = { role: 'ingest' as const, ingestBody: true, sentryAuth: true };
    for (const path of PATHS.envelope) app.post(path, { config }, route('envelope'));
    for (const path of PATHS.store) app.post(path, { config }, route('store'));
  };
}
