/**
 * The audit trail: admin actions (keys, rules, dashboards, silences,
 * retention, erasure) and data access (queries, exports) appended as events
 * of the `audit` data class. They go through the normal ingest pipeline, so
 * redaction applies to them too, and are committed before the action's
 * answer is sent. Only admins can query them (other roles never see the
 * `audit` class); erasure never deletes them; retention keeps them 7 years
 * by default.
 */
import type { FastifyInstance } from 'fastify';
import type { IngestPipeline } from '../ingest/pipeline.ts';
import type { Principal } from './auth.ts';

/** What an audit entry records besides who and when. */
export interface AuditEntry {
  /** Dotted action name, e.g. `key.create`, `query.run`, `privacy.erasure`. */
  readonly action: string;
  /** `success` or `failure`. */
  readonly outcome?: 'success' | 'failure';
  /** One line for people. */
  readonly message: string;
  /** Extra fields, stored as attributes under `audit.` (e.g. `{ query: '...', rows: 12 }`). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export class AuditTrail {
  readonly #pipeline: IngestPipeline;

  constructor(pipeline: IngestPipeline) {
    this.#pipeline = pipeline;
  }

  /** Appends one entry for `principal`'s tenant; resolves once it is committed. */
  async record(principal: Principal, entry: AuditEntry, requestId?: string): Promise<void> {
    const raw: Record<string, unknown> = {
      '@timestamp': new Date().toISOString(),
      data_class: 'audit',
      'service.name': 'shoplens',
      'event.category': 'audit',
      'event.type': 'audit',
      'event.action': entry.action,
      'event.outcome': entry.outcome ?? 'success',
      'event.provider': 'shoplens',
      message: entry.message,
      'user.id': principal.actor,
      'user.roles': [principal.role],
      ...(requestId ? { 'http.request.id': requestId } : {}),
    };
    for (const [k, v] of Object.entries(entry.details ?? {})) raw[`audit.${k}`] = v;
    const normalized = this.#pipeline.normalize(raw, { tenant: principal.tenant, receivedAtMs: Date.now() });
    if (!normalized.ok) throw new Error(`audit entry for ${entry.action} was refused: ${normalized.message}`);
    await this.#pipeline.commit('audit', [normalized.record], []);
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `handler`: the route records its own, richer audit entry; the generic hook skips it. */
    audit?: 'handler';
  }
}

/** Marks every route of a plugin as auditing itself (see `installRouteAudit`). */
export function auditedByHandler(app: FastifyInstance): void {
  app.addHook('onRoute', (options) => {
    options.config = { ...(options.config ?? {}), audit: 'handler' };
  });
}

/**
 * Audits every change an admin route makes (dashboards, rules, silences,
 * incidents, ...) and, when callers have keys, every read that POSTs a query
 * (funnels and the like): one entry per request with the route, its
 * parameters and the outcome, committed before the answer is sent.
 */
export function installRouteAudit(app: FastifyInstance, audit: AuditTrail, dataAccess: boolean): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const config = request.routeOptions.config;
    const role = config.role ?? 'admin';
    const url = request.routeOptions.url;
    if (config.audit === 'handler' || !request.principal || !url) return payload;
    const isChange = role === 'admin' && request.method !== 'GET' && request.method !== 'HEAD';
    const isQuery = dataAccess && role === 'read' && request.method === 'POST';
    if (!isChange && !isQuery) return payload;
    const ok = reply.statusCode < 400;
    await audit.record(
      request.principal,
      {
        action: `${isChange ? 'admin' : 'data'}.${request.method.toLowerCase()} ${url}`,
        outcome: ok ? 'success' : 'failure',
        message: `${request.method} ${url} answered ${reply.statusCode}`,
        details: { route: url, params: request.params as Record<string, unknown>, status: reply.statusCode },
      },
      request.id,
    );
    return payload;
  });
}
