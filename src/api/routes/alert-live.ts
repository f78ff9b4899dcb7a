/**
 * `GET /api/v1/alerts/live?since=<cursor>`: what the UI polls every few
 * seconds (src/alerts/live-alerts.ts): firing alerts, their count per
 * severity, and the changes since the cursor of the previous answer.
 *
 * One poll reads the tenant's alert state documents and nothing else: the
 * rules and silences it needs besides are kept per tenant for
 * RULES_TTL_MS, so a rule or silence changed through the API shows in
 * these answers within that long (the state itself at once).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { AlertEngine } from '../../alerts/alert-engine.ts';
import { KIND, type RuleStateDoc, type Silence } from '../../alerts/alert-model.ts';
import { liveSnapshot } from '../../alerts/live-alerts.ts';
import type { CompiledRule } from '../../alerts/rule.ts';
import { AppError } from '../../errors.ts';
import type { AppContext } from '../server.ts';

const RULES_TTL_MS = 3000;
const MAX_TENANTS_CACHED = 1000;

interface RuleCache {
  readonly atMs: number;
  readonly rules: ReadonlyMap<string, CompiledRule>;
  readonly silences: readonly Silence[];
}

export function alertLiveRoutes(ctx: AppContext, engine: AlertEngine): FastifyPluginAsync {
  const docs = ctx.store.documents;
  const externalUrl = ctx.config.alerts.externalUrl || `http://${ctx.config.server.host}:${ctx.config.server.port}`;
  const cache = new Map<string, RuleCache>();

  async function rulesOf(tenant: string, states: readonly RuleStateDoc[]): Promise<RuleCache> {
    const cached = cache.get(tenant);
    const fresh = cached && Date.now() - cached.atMs < RULES_TTL_MS;
    // A state of a rule not known yet (created a moment ago): read again rather than leave it out.
    if (fresh && states.every((s) => cached.rules.has(s.rule))) return cached;
    const [rules, silences] = await Promise.all([
      engine.rules(tenant),
      docs.list<Silence>(tenant, KIND.silence, { limit: 10_000 }),
    ]);
    const entry = { atMs: Date.now(), rules, silences: silences.map((d) => d.body) };
    if (cache.size >= MAX_TENANTS_CACHED) cache.clear();
    cache.set(tenant, entry);
    return entry;
  }

  return async (app) => {
    app.get<{ Querystring: Record<string, unknown> }>(
      '/api/v1/alerts/live',
      { config: { role: 'read' } },
      async (request, reply) => {
        const since = request.query['since'];
        let sinceMs: number | undefined;
        if (since !== undefined && since !== '') {
          sinceMs = typeof since === 'string' && /^\d{1,15}$/.test(since) ? Number(since) : NaN;
          if (!Number.isSafeInteger(sinceMs)) {
            throw new AppError(
              400,
              'request.invalid',
              `"since": expected the "cursor" of a previous answer (a whole number), got "${String(since)}"`,
            );
          }
        }
        const tenant = request.principal.tenant;
        const states = (await docs.list<RuleStateDoc>(tenant, KIND.state, { limit: 10_000 })).map((d) => d.body);
        const { rules, silences } = await rulesOf(tenant, states);
        reply.header('cache-control', 'no-store');
        return liveSnapshot({ states, rules, silences, sinceMs, nowMs: engine.now(), externalUrl });
      },
    );
  };
}
