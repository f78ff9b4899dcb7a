/**
 * `POST /api/v1/alerts/rules/preview`: when would this rule have fired? The
 * body is `{ "rule": <a rule as PUT takes it, name optional>, "range": "24h"
 * (up to 7d, default 24h), "to": "now" }`; the answer lists the episodes and
 * a per-step timeline (src/alerts/alert-preview.ts). Nothing is stored.
 * At most MAX_CONCURRENT previews run at once (each steps up to 288
 * evaluations); one more gets 429 with Retry-After.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MAX_PREVIEW_RANGE_MS, previewRule } from '../../alerts/alert-preview.ts';
import type { AlertEngine } from '../../alerts/alert-engine.ts';
import { compileRule, RuleError, type CompiledRule } from '../../alerts/rule.ts';
import { AppError } from '../../errors.ts';
import { parseTimeExpr } from '../../query/index.ts';
import { redactDocument } from '../../store/documents.ts';
import { parseDuration } from '../../util/duration.ts';
import { jsonBody, queryForStorage } from '../body.ts';
import type { AppContext } from '../server.ts';

const MAX_CONCURRENT = 2;
let running = 0;

const previewBody = z.object({
  rule: z.record(z.string(), z.unknown(), { error: 'expected the rule as an object' }),
  range: z.string().default('24h'),
  to: z.string().default('now'),
});

/**
 * Compiles a rule sent by a client as it would be stored (query and texts
 * redacted); a mistake is a 400 naming the key, prefixed with `prefix`
 * (`rule.condition: ...`).
 */
export function compileClientRule(
  body: Record<string, unknown>,
  name: string,
  prefix = '',
): { rule: CompiledRule; spec: Record<string, unknown> } {
  const query = typeof body['query'] === 'string' ? { query: queryForStorage(body['query']) } : {};
  const spec = redactDocument({ ...body, ...query, name });
  try {
    return { rule: compileRule(spec, { kind: 'api' }), spec };
  } catch (err) {
    if (!(err instanceof RuleError)) throw err;
    const path = [...(prefix ? [prefix] : []), ...err.path];
    const where = path.length > 0 ? `"${path.join('.')}": ` : '';
    throw new AppError(400, 'rule.invalid', `${where}${err.message}`, { details: { path } });
  }
}

function rangeOf(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (err) {
    throw new AppError(400, 'request.invalid', `"range": ${(err as Error).message}`);
  }
  if (ms <= 0 || ms > MAX_PREVIEW_RANGE_MS)
    throw new AppError(400, 'request.invalid', `"range": expected a duration up to 7d, got "${text}"`);
  return ms;
}

export function registerRulePreview(app: FastifyInstance, ctx: AppContext, engine: AlertEngine): void {
  app.post('/api/v1/alerts/rules/preview', { config: { role: 'read' } }, async (request) => {
    const body = jsonBody(request, previewBody);
    const name = typeof body.rule['name'] === 'string' && body.rule['name'] !== '' ? body.rule['name'] : 'Preview';
    const { rule } = compileClientRule(body.rule, name, 'rule');
    const rangeMs = rangeOf(body.range);
    let toMs: number;
    try {
      toMs = parseTimeExpr(body.to, engine.now());
    } catch (err) {
      throw new AppError(400, 'request.invalid', `"to": ${(err as Error).message}`);
    }
    if (running >= MAX_CONCURRENT)
      throw new AppError(429, 'alerts.preview_busy', `${running} rule previews are running; try again shortly`, {
        headers: { 'Retry-After': '5' },
      });
    running++;
    try {
      const result = await previewRule(ctx.store, request.principal.tenant, rule, {
        fromMs: toMs - rangeMs,
        toMs,
        queryTimeoutMs: ctx.config.query.timeout,
      });
      const iso = (ms: number) => new Date(ms).toISOString();
      return {
        rule: rule.id,
        from: iso(result.fromMs),
        to: iso(result.toMs),
        stepMs: result.stepMs,
        truncatedAt: result.truncatedAtMs === undefined ? null : iso(result.truncatedAtMs),
        episodes: result.episodes.map((e) => ({
          labels: e.labels,
          activeSince: iso(e.activeSinceMs),
          firedAt: iso(e.firedAtMs),
          resolvedAt: e.resolvedAtMs === null ? null : iso(e.resolvedAtMs),
          values: e.values,
          fields: e.fields,
        })),
        steps: result.steps.map((s) => ({
          at: iso(s.atMs),
          active: s.active,
          firing: s.firing,
          ...(s.error ? { error: s.error } : {}),
        })),
      };
    } finally {
      running--;
    }
  });
}
