/** `POST /api/v1/funnel`: ordered conversion funnel over visitors (sessions), optionally split by a field. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { parseFilter, resolveTimeRange } from '../../query/index.ts';
import { referencedFields, type FieldMention } from '../../query/field-names.ts';
import { answerKey } from '../../store/answer-cache.ts';
import { unknownFieldWarnings } from '../../store/query-service.ts';
import { jsonBody, maxAgeField } from '../body.ts';
import type { AppContext } from '../server.ts';
import { redactMessage } from '../../privacy/log-redaction.ts';
import { maskQueryText } from '../../privacy/query-text.ts';

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
      // As for queries: card numbers (and e-mails) in step filters are masked the way stored data is,
      // and names the answer echoes (step names, key, by) are redacted like any text.
      body.steps = body.steps.map((s) => ({
        ...s,
        name: redactMessage(s.name),
        filter: maskQueryText(s.filter, ctx.config.privacy),
      }));
      if (body.key) body.key = redactMessage(body.key);
      if (body.by) body.by = redactMessage(body.by);
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
      const timeoutMs = ctx.config.query.timeout;
      const [result, warnings] = await Promise.all([
        ctx.store.funnel({
          tenant,
          range,
          steps: body.steps,
          ...(body.key ? { key: body.key } : {}),
          ...(body.by ? { by: body.by } : {}),
          timeoutMs,
        }),
        unknownFieldWarnings(ctx.store, funnelFields(body), tenant, range, timeoutMs),
      ]);
      return {
        ...result,
        range: { from: new Date(range.fromMs).toISOString(), to: new Date(range.toMs).toISOString() },
        warnings,
      };
    }
  };
}

/**
 * The fields a funnel names: those of each step's filter, the visitor key
 * and the split field. A step that does not parse names none here (the
 * funnel itself answers its 400).
 */
function funnelFields(body: { steps: readonly { filter: string }[]; key?: string; by?: string }): FieldMention[] {
  const out: FieldMention[] = [];
  const seen = new Set<string>();
  const add = (f: FieldMention): void => {
    if (seen.has(f.name)) return;
    seen.add(f.name);
    out.push(f);
  };
  for (const step of body.steps) {
    try {
      for (const f of referencedFields({ filter: parseFilter(step.filter), stages: [] })) add(f);
    } catch {
      // Reported by the funnel itself, with the step's name.
    }
  }
  if (body.key) add({ name: body.key, position: 0 });
  if (body.by) add({ name: body.by, position: 0 });
  return out;
}
