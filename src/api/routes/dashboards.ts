/**
 * Dashboards as JSON documents (kind `dashboard`, per tenant):
 * `GET /api/v1/dashboards`, `GET|PUT|DELETE /api/v1/dashboards/{id}`.
 *
 * The prebuilt dashboards (dashboards/*.json) are visible to every tenant.
 * A PUT on one stores the tenant's own copy, which then shadows the
 * default; a DELETE of that copy restores the default. A prebuilt
 * dashboard without a copy cannot be deleted (409 `dashboard.prebuilt`).
 */
import type { FastifyPluginAsync } from 'fastify';
import { dashboardSchema, DASHBOARD_ID, type Dashboard } from '../../analytics/dashboard-schema.ts';
import { prebuiltDashboards } from '../../analytics/prebuilt-dashboards.ts';
import { AppError } from '../../errors.ts';
import { redactDocument, type StoredDocument } from '../../store/documents.ts';
import { assertCleanName, jsonBody, queryForStorage } from '../body.ts';
import type { AppContext } from '../server.ts';

const KIND = 'dashboard';

/** What GET/PUT answer: the document and where it comes from. */
interface DashboardAnswer {
  readonly dashboard: Dashboard;
  readonly meta: {
    /** Shipped with Shoplens (dashboards/*.json). */
    readonly prebuilt: boolean;
    /** The tenant has its own copy (for a prebuilt one: it was edited). */
    readonly modified: boolean;
    /** Version of the tenant's copy (0 = the shipped default); send it back as `If-Match` to avoid lost updates. */
    readonly version: number;
    readonly updatedAt?: string;
  };
}

function answer(stored: StoredDocument<Dashboard> | undefined, prebuilt: Dashboard | undefined): DashboardAnswer {
  if (stored) {
    return {
      dashboard: stored.body,
      meta: { prebuilt: prebuilt !== undefined, modified: true, version: stored.version, updatedAt: stored.updatedAt },
    };
  }
  return { dashboard: prebuilt as Dashboard, meta: { prebuilt: true, modified: false, version: 0 } };
}

function checkId(id: string): void {
  if (!DASHBOARD_ID.test(id)) {
    throw new AppError(
      400,
      'dashboard.invalid_id',
      `Dashboard id "${id}" must be 1-64 lowercase letters, digits, "-" or "_"`,
    );
  }
}

/** Panel queries and funnel filters as stored: card numbers masked so that they still find masked data. */
function forStorage(dashboard: Dashboard): Dashboard {
  return {
    ...dashboard,
    panels: dashboard.panels.map((p) => ({
      ...p,
      ...(p.query === undefined ? {} : { query: queryForStorage(p.query) }),
      ...(p.funnel === undefined
        ? {}
        : { funnel: { ...p.funnel, steps: p.funnel.steps.map((s) => ({ ...s, filter: queryForStorage(s.filter) })) } }),
    })),
  };
}

export function dashboardRoutes(ctx: AppContext): FastifyPluginAsync {
  const docs = ctx.store.documents;
  const prebuilt = new Map(prebuiltDashboards().map((d) => [d.id, d]));

  return async (app) => {
    app.get('/api/v1/dashboards', { config: { role: 'read' } }, async (request) => {
      const stored = await docs.list<Dashboard>(request.principal.tenant, KIND);
      const own = new Map(stored.map((d) => [d.id, d]));
      const summary = (d: Dashboard, doc: StoredDocument<Dashboard> | undefined) => ({
        id: d.id,
        title: d.title,
        description: d.description ?? '',
        panels: d.panels.length,
        prebuilt: prebuilt.has(d.id),
        modified: doc !== undefined,
        ...(doc ? { updatedAt: doc.updatedAt } : {}),
      });
      const shipped = [...prebuilt.values()].map((d) => summary(own.get(d.id)?.body ?? d, own.get(d.id)));
      const created = stored
        .filter((d) => !prebuilt.has(d.id))
        .sort((a, b) => a.body.title.localeCompare(b.body.title))
        .map((d) => summary(d.body, d));
      return { dashboards: [...shipped, ...created] };
    });

    app.get<{ Params: { id: string } }>('/api/v1/dashboards/:id', { config: { role: 'read' } }, async (request) => {
      const { id } = request.params;
      checkId(id);
      const stored = await docs.get<Dashboard>(request.principal.tenant, KIND, id);
      if (!stored && !prebuilt.has(id)) throw new AppError(404, 'dashboard.not_found', `No dashboard "${id}"`);
      return answer(stored, prebuilt.get(id));
    });

    app.put<{ Params: { id: string } }>('/api/v1/dashboards/:id', { config: { role: 'admin' } }, async (request) => {
      const { id } = request.params;
      checkId(id);
      assertCleanName(id, 'The dashboard id');
      const body = redactDocument(forStorage(jsonBody(request, dashboardSchema)));
      if (body.id !== id) {
        throw new AppError(400, 'dashboard.id_mismatch', `"id": the body says "${body.id}" but the URL says "${id}"`);
      }
      const ifMatch = request.headers['if-match'];
      const expected = ifMatch === undefined ? undefined : Number(String(ifMatch).replace(/"/g, ''));
      if (expected !== undefined && !Number.isInteger(expected)) {
        throw new AppError(400, 'dashboard.invalid_version', 'If-Match must be the version number from GET');
      }
      const stored = await docs.put<Dashboard>(
        request.principal.tenant,
        KIND,
        id,
        body,
        expected === undefined ? {} : { expectedVersion: expected },
      );
      return answer(stored, prebuilt.get(id));
    });

    app.delete<{ Params: { id: string } }>('/api/v1/dashboards/:id', { config: { role: 'admin' } }, async (request) => {
      const { id } = request.params;
      checkId(id);
      const deleted = await docs.delete(request.principal.tenant, KIND, id);
      if (deleted) return { deleted: true, restoredDefault: prebuilt.has(id) };
      if (prebuilt.has(id)) {
        throw new AppError(
          409,
          'dashboard.prebuilt',
          `"${id}" is a prebuilt dashboard and cannot be deleted; it has no edited copy to remove`,
        );
      }
      throw new AppError(404, 'dashboard.not_found', `No dashboard "${id}"`);
    });
  };
}
