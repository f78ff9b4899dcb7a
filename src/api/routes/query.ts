/** `POST /api/v1/query`: the query language over stored events; `GET /api/v1/fields`: the field catalog. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { maskQueryText } from '../../privacy/query-text.ts';
import { checkQueryLength } from '../../query/index.ts';
import { EVENT_FIELDS } from '../../schema/fields.ts';
import { runQuery, type QueryAnswer } from '../../store/query-service.ts';
import { answerKey } from '../../store/answer-cache.ts';
import { jsonBody, maxAgeField } from '../body.ts';
import { roundMoney } from '../money.ts';
import type { AppContext } from '../server.ts';
import { redactMessage } from '../../privacy/log-redaction.ts';

const queryBody = z.object({
  query: z.string({ error: 'expected the query text as a string' }),
  from: z.string().optional(),
  to: z.string().optional(),
  explain: z.boolean().optional(),
  /** Accept a cached answer up to this old (dashboards send "5s"); without it the answer is always fresh. */
  maxAge: maxAgeField,
});

export function queryRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.post('/api/v1/query', { config: { role: 'read', audit: 'handler' } }, async (request) => {
      const body = jsonBody(request, queryBody);
      // Bounded before anything scans the text (masking included): a 1 MB query is a 400 at once.
      checkQueryLength(body.query, ctx.config.query.maxLength);
      // Card numbers (and e-mails) typed into a query are masked as stored data is, before
      // the query is run, audited, logged or quoted in an error (docs/security.md, "Redaction").
      body.query = maskQueryText(body.query, ctx.config.privacy);
      const started = performance.now();
      let outcome = 'error';
      try {
        const p = request.principal;
        const auditAccess = p.role === 'admin';
        const run = () =>
          runQuery(ctx.store, {
            query: body.query,
            from: body.from,
            to: body.to,
            explain: body.explain,
            tenant: p.tenant,
            auditAccess,
            timeoutMs: ctx.config.query.timeout,
            maxLength: ctx.config.query.maxLength,
          }).then((answer) => redactExplain(roundMoney(body.query, answer)));
        const key = answerKey(p.tenant, [body.query, body.from ?? '', body.to ?? '', auditAccess, !!body.explain]);
        // Data access is audited; the entry is committed alongside the query, before the answer.
        const [cached] = await Promise.all([
          ctx.answers.get(key, body.maxAge ?? 0, run),
          // With auth: none there is no "who"; data access is audited when callers have keys.
          ctx.config.auth === 'keys' &&
            ctx.audit.record(
              p,
              {
                action: 'query.run',
                message: 'ran a query',
                details: { query: body.query, from: body.from ?? 'now-1h', to: body.to ?? 'now' },
              },
              request.id,
            ),
        ]);
        outcome = 'ok';
        ctx.metrics.queryCache.inc({ endpoint: 'query', result: cached.source });
        if (cached.source === 'miss') return cached.value;
        return { ...cached.value, stats: { ...cached.value.stats, cached: cached.source, cacheAgeMs: cached.ageMs } };
      } finally {
        ctx.metrics.querySeconds.observe({ outcome }, (performance.now() - started) / 1000);
      }
    });

    app.get('/api/v1/fields', { config: { role: 'read' } }, async () => ({
      fields: EVENT_FIELDS.map((f) => ({ name: f.name, type: f.type, aliases: f.aliases, description: f.description })),
    }));
  };
}

/**
 * The explanation quotes the query's values (plan and parameters). Card numbers in them are already
 * masked; secret values typed into a query (`password=hunter2`) are redacted too before they are echoed.
 */
function redactExplain(answer: QueryAnswer): QueryAnswer {
  if (answer.explain === undefined) return answer;
  const { plan, sql, params } = answer.explain;
  return {
    ...answer,
    explain: {
      plan: redactMessage(plan),
      sql,
      params: params.map((p) => (typeof p === 'string' ? redactMessage(p) : p)),
    },
  };
}
