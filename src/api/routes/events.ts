/** `POST /api/v1/events`: NDJSON, a JSON array or one JSON object (gzip accepted). */
import type { FastifyPluginAsync } from 'fastify';
import { decodeBody } from '../../ingest/body.ts';
import { ingestEvents } from '../../ingest/events-ndjson.ts';
import { applyRefresh, refreshMode } from '../refresh.ts';
import type { AppContext } from '../server.ts';

export function eventsRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.post('/api/v1/events', { config: { role: 'ingest', ingestBody: true } }, async (request) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const refresh = refreshMode(request.query);
      const answer = await ctx.pipeline.admitted(raw.length, async (admission) => {
        const body = await decodeBody(raw, request.headers['content-encoding'], ctx.config.server.maxBodyBytes);
        admission.resize(Math.max(raw.length, body.length));
        return ingestEvents(ctx.pipeline, body, request.headers['content-type'], {
          tenant: request.principal.tenant,
          receivedAtMs: Date.now(),
        });
      });
      // Outside the admission: waiting for visibility holds no request body and is not commit work.
      await applyRefresh(ctx.store, refresh);
      return answer;
    });
  };
}
