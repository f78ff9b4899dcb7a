/**
 * Alerting API, per tenant:
 * - `GET /api/v1/alerts`: pending and firing alerts (and recently resolved), with silences applied.
 * - `GET /api/v1/alerts/rules`, `GET|PUT|DELETE /api/v1/alerts/rules/{name}`, `POST .../{name}/test`,
 *   `GET .../{name}/history`: rules with their last evaluation; API rules replace file rules of the same name.
 * - `GET /api/v1/alerts/history`, `GET /api/v1/alerts/notifications`, `GET /api/v1/alerts/receivers`.
 * - `POST /api/v1/alerts/rules/preview`: when a rule (saved or not) would have fired over the last 24 h/7 d.
 * - `GET|POST /api/v1/alerts/silences`, `DELETE /api/v1/alerts/silences/{id}`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AlertEngine, StoredRule } from '../../alerts/alert-engine.ts';
import { KIND, type OutboxEntry, type RuleStateDoc, type Silence } from '../../alerts/alert-model.ts';
import { alertOf } from '../../alerts/dispatcher.ts';
import type { CompiledRule } from '../../alerts/rule.ts';
import { checkMatcher, isActive, silencedBy } from '../../alerts/silences.ts';
import type { Transition } from '../../alerts/state-machine.ts';
import { AppError } from '../../errors.ts';
import { parseTimeExpr } from '../../query/index.ts';
import { redactDocument } from '../../store/documents.ts';
import { assertCleanName, jsonBody, queryForStorage } from '../body.ts';
import type { AppContext } from '../server.ts';
import { compileClientRule, registerRulePreview } from './alert-preview.ts';

const silenceBody = z.object({
  matchers: z
    .array(
      z.object({
        name: z.string().min(1),
        value: z.string(),
        op: z.enum(['=', '!=', '=~', '!~']).default('='),
      }),
    )
    .min(1, 'expected at least one matcher'),
  startsAt: z.string().optional(),
  endsAt: z.string(),
  comment: z.string().min(1, 'expected a comment saying why'),
});

const testBody = z.object({ at: z.string().optional() }).default({});

function ruleSummary(rule: CompiledRule, state: RuleStateDoc | undefined) {
  return {
    name: rule.id,
    source: rule.source,
    severity: rule.spec.severity,
    severityLabel: rule.severity,
    enabled: rule.spec.enabled,
    spec: { ...rule.spec },
    lastEvaluatedAt: state?.lastEvaluatedMs ? new Date(state.lastEvaluatedMs).toISOString() : null,
    lastDurationMs: state?.lastDurationMs ?? null,
    lastError: state?.lastError ?? null,
    lastSamples: state?.lastSamples ?? [],
    firing: state?.instances.filter((i) => i.status === 'firing').length ?? 0,
    pending: state?.instances.filter((i) => i.status === 'pending').length ?? 0,
  };
}

function parseTime(text: string, field: string, nowMs: number): number {
  try {
    return parseTimeExpr(text, nowMs);
  } catch (err) {
    throw new AppError(400, 'request.invalid', `"${field}": ${(err as Error).message}`);
  }
}

export function alertsRoutes(ctx: AppContext, engine: AlertEngine): FastifyPluginAsync {
  const docs = ctx.store.documents;
  const externalUrl = ctx.config.alerts.externalUrl || `http://${ctx.config.server.host}:${ctx.config.server.port}`;

  async function ruleOr404(tenant: string, name: string): Promise<CompiledRule> {
    const rule = (await engine.rules(tenant)).get(name);
    if (!rule) throw new AppError(404, 'rule.not_found', `No alert rule "${name}"`);
    return rule;
  }

  return async (app) => {
    app.get('/api/v1/alerts', { config: { role: 'read' } }, async (request) => {
      const tenant = request.principal.tenant;
      const rules = await engine.rules(tenant);
      const silences = (await docs.list<Silence>(tenant, KIND.silence, { limit: 10_000 })).map((d) => d.body);
      const nowMs = engine.now();
      const alerts = [];
      for (const { body: state } of await docs.list<RuleStateDoc>(tenant, KIND.state, { limit: 10_000 })) {
        const rule = rules.get(state.rule);
        if (!rule) continue;
        for (const instance of state.instances) {
          const alert = alertOf(rule, instance, externalUrl);
          const silence = silencedBy(silences, alert.labels, nowMs);
          alerts.push({
            ...alert,
            state: instance.status,
            flapping: instance.flapping,
            silencedBy: silence?.id ?? null,
          });
        }
      }
      const order = { firing: 0, pending: 1, resolved: 2 };
      alerts.sort(
        (a, b) => order[a.state] - order[b.state] || a.labels['priority']!.localeCompare(b.labels['priority']!),
      );
      return { alerts };
    });

    app.get('/api/v1/alerts/rules', { config: { role: 'read' } }, async (request) => {
      const tenant = request.principal.tenant;
      const states = new Map(
        (await docs.list<RuleStateDoc>(tenant, KIND.state, { limit: 10_000 })).map((d) => [d.id, d.body]),
      );
      const rules = [...(await engine.rules(tenant)).values()].map((r) => ruleSummary(r, states.get(r.id)));
      return { rules, problems: engine.problems };
    });

    registerRulePreview(app, ctx, engine);

    app.get<{ Params: { name: string } }>(
      '/api/v1/alerts/rules/:name',
      { config: { role: 'read' } },
      async (request) => {
        const tenant = request.principal.tenant;
        const rule = await ruleOr404(tenant, request.params.name);
        const state = await docs.get<RuleStateDoc>(tenant, KIND.state, rule.id);
        return { ...ruleSummary(rule, state?.body), instances: state?.body.instances ?? [] };
      },
    );

    app.put<{ Params: { name: string } }>(
      '/api/v1/alerts/rules/:name',
      { config: { role: 'admin' } },
      async (request) => {
        const tenant = request.principal.tenant;
        assertCleanName(request.params.name, 'The rule name');
        const body = jsonBody(request, z.record(z.string(), z.unknown()));
        // Compiled and answered as it is stored: redacted (the store would redact it anyway).
        const { rule, spec } = compileClientRule(body, request.params.name);
        const stored = await docs.put<StoredRule>(tenant, KIND.rule, rule.id, { spec: spec as StoredRule['spec'] });
        return { ...ruleSummary(rule, undefined), version: stored.version };
      },
    );

    app.delete<{ Params: { name: string } }>(
      '/api/v1/alerts/rules/:name',
      { config: { role: 'admin' } },
      async (request, reply) => {
        const tenant = request.principal.tenant;
        const deleted = await docs.delete(tenant, KIND.rule, request.params.name);
        if (!deleted) {
          const rule = (await engine.rules(tenant)).get(request.params.name);
          if (rule) {
            throw new AppError(
              409,
              'rule.read_only',
              `Rule "${rule.id}" comes from ${rule.source.kind === 'api' ? 'the API' : rule.source.path}; edit or remove it there`,
            );
          }
          throw new AppError(404, 'rule.not_found', `No alert rule "${request.params.name}"`);
        }
        // A file rule of the same name takes over again; the state of the API rule goes.
        if (!(await engine.rules(tenant)).has(request.params.name))
          await docs.delete(tenant, KIND.state, request.params.name);
        return reply.code(204).send();
      },
    );

    app.post<{ Params: { name: string } }>(
      '/api/v1/alerts/rules/:name/test',
      { config: { role: 'read' } },
      async (request) => {
        const tenant = request.principal.tenant;
        const rule = await ruleOr404(tenant, request.params.name);
        const hasBody = Buffer.isBuffer(request.body) && request.body.length > 0;
        const { at } = hasBody ? jsonBody(request, testBody) : { at: undefined };
        const nowMs = engine.now();
        const atMs = at ? parseTime(at, 'at', nowMs) : nowMs;
        const reading = await engine.read(tenant, rule, atMs);
        return {
          rule: rule.id,
          at: new Date(atMs).toISOString(),
          window: { from: new Date(atMs - rule.spec.window).toISOString(), to: new Date(atMs).toISOString() },
          condition: rule.spec.condition,
          firing: reading.samples.some((s) => s.active),
          samples: reading.samples,
          elapsedMs: Math.round(reading.elapsedMs * 10) / 10,
        };
      },
    );

    app.get<{ Params: { name: string }; Querystring: { limit?: string } }>(
      '/api/v1/alerts/rules/:name/history',
      { config: { role: 'read' } },
      async (request) => {
        const limit = Math.min(1000, Number(request.query.limit ?? 200) || 200);
        const items = await docs.list<Transition>(request.principal.tenant, KIND.history, {
          idPrefix: `${request.params.name}|`,
          order: 'updated',
          limit,
        });
        return { history: items.map((d) => d.body) };
      },
    );

    app.get<{ Querystring: { limit?: string } }>(
      '/api/v1/alerts/history',
      { config: { role: 'read' } },
      async (request) => {
        const limit = Math.min(1000, Number(request.query.limit ?? 200) || 200);
        const items = await docs.list<Transition>(request.principal.tenant, KIND.history, { order: 'updated', limit });
        return { history: items.map((d) => d.body) };
      },
    );

    app.get('/api/v1/alerts/notifications', { config: { role: 'read' } }, async (request) => {
      const tenant = request.principal.tenant;
      const view = (d: { id: string; body: OutboxEntry }) => ({
        id: d.id,
        receiver: d.body.notification.receiver,
        status: d.body.status,
        notificationStatus: d.body.notification.status,
        alerts: d.body.notification.alerts.map((a) => a.labels['alertname']),
        createdAt: d.body.notification.createdAt,
        attempts: d.body.attempts,
        lastError: d.body.lastError ?? null,
        deliveredAt: d.body.deliveredAt ?? null,
      });
      const pending = await docs.list<OutboxEntry>(tenant, KIND.outbox, { limit: 1000 });
      const done = await docs.list<OutboxEntry>(tenant, KIND.delivery, { order: 'updated', limit: 200 });
      return { pending: pending.map(view), recent: done.map(view) };
    });

    app.get('/api/v1/alerts/receivers', { config: { role: 'read' } }, async () => {
      const receivers = ctx.config.alerts.receivers;
      const named = new Set([...Object.keys(receivers), ...ctx.config.alerts.routes.flatMap((r) => r.receivers)]);
      return {
        receivers: [...named].map((name) => ({
          name,
          type: receivers[name]?.type ?? null,
          configured: !!receivers[name],
        })),
        routes: ctx.config.alerts.routes,
      };
    });

    app.get('/api/v1/alerts/silences', { config: { role: 'read' } }, async (request) => {
      const nowMs = engine.now();
      const silences = (await docs.list<Silence>(request.principal.tenant, KIND.silence, { limit: 10_000 })).map(
        (d) => ({
          ...d.body,
          active: isActive(d.body, nowMs),
          expired: Date.parse(d.body.endsAt) <= nowMs,
        }),
      );
      return { silences };
    });

    app.post('/api/v1/alerts/silences', { config: { role: 'admin' } }, async (request, reply) => {
      const body = jsonBody(request, silenceBody);
      const nowMs = engine.now();
      const startsMs = body.startsAt ? parseTime(body.startsAt, 'startsAt', nowMs) : nowMs;
      const endsMs = parseTime(body.endsAt, 'endsAt', nowMs);
      if (!(endsMs > startsMs)) throw new AppError(400, 'silence.invalid', '"endsAt" must be after "startsAt"');
      for (const m of body.matchers) {
        try {
          checkMatcher(m);
        } catch (err) {
          throw new AppError(400, 'silence.invalid', (err as Error).message);
        }
      }
      // Checked, stored and answered redacted; a regex keeps matching the masked label values.
      const matchers = body.matchers.map((m) =>
        m.op === '=~' || m.op === '!~' ? { ...m, value: queryForStorage(m.value) } : m,
      );
      const silence: Silence = redactDocument({
        id: randomUUID(),
        matchers,
        startsAt: new Date(startsMs).toISOString(),
        endsAt: new Date(endsMs).toISOString(),
        comment: body.comment,
        createdBy: request.principal.actor,
      });
      for (const m of silence.matchers) {
        try {
          checkMatcher(m);
        } catch (err) {
          throw new AppError(400, 'silence.invalid', (err as Error).message);
        }
      }
      const stored = await docs.put(request.principal.tenant, KIND.silence, silence.id, silence);
      return reply.code(201).send(stored.body);
    });

    app.delete<{ Params: { id: string } }>(
      '/api/v1/alerts/silences/:id',
      { config: { role: 'admin' } },
      async (request, reply) => {
        const deleted = await docs.delete(request.principal.tenant, KIND.silence, request.params.id);
        if (!deleted) throw new AppError(404, 'silence.not_found', `No silence "${request.params.id}"`);
        return reply.code(204).send();
      },
    );
  };
}
