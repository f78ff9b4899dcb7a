/** `POST /api/v1/funnel`: ordered conversion funnel over visitors (sessions), optionally split by a field. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { resolveTimeRange } from '../../query/index.ts';
import { answerKey } from '../../store/answer-cache.ts';
import { jsonBody, maxAgeField } from '../body.ts';
import type { AppContext } from '../server.ts';

const funnelBody = z.object({
  steps: z
    .array(
      z.object({
        name: z.string().min(1).max(100),
        filter: z.string({ error: 'expected a filter in the query language, e.g. "event.type:add_to_cart"' }).max(4000),
      }),
    )
    .min(2, 'a funnel needs at least 2 steps')
    .max(10, 'a funnel has at most 10 steps'),
  from: z.string().optional(),
  to: z.string().optional(),
  key: z.string().min(1).max(200).optional(),
  by: z.string().min(1).max(200).optional(),
  /** Accept a cached answer up to this old (dashboards send "5s"). */
  maxAge: maxAgeField,
});

export function funnelRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.post('/api/v1/funnel', { config: { role: 'read' } }, async (request) => {
      const body = jsonBody(request, funnelBody);
      const { maxAge, ...spec } = body;
      const tenant = request.principal.tenant;
      const cached = await ctx.answers.get(answerKey(tenant, ['funnel', spec]), maxAge ?? 0, () =>
        runFunnel(spec, tenant),
      );
      ctx.metrics.queryCache.inc({ endpoint: 'funnel', result: cached.source });
      return cached.value;
    });

    async function runFunnel(body: Omit<z.output<typeof funnelBody>, 'maxAge'>, tenant: string) {
      const range = resolveTimeRange({ from: body.from, to: body.to }, Date.now());
      const result = await ctx.store.funnel({
        tenant,
        range,
        steps: body.steps,
        ...(body.key ? { key: body.key } : {}),
        ...(body.by ? { by: body.by } : {}),
        timeoutMs: ctx.config.query.timeout,
      });
      return {
        ...result,
        range: { from: new Date(range.fromMs).toISOString(), to: new Date(range.toMs).toISOString() },
      };
    }
  };
}
