/** API keys: `GET/POST /api/v1/keys`, `DELETE /api/v1/keys/{id}` (admin). */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { auditedByHandler } from '../audit.ts';
import { defaultRole } from '../auth.ts';
import { jsonBody } from '../body.ts';
import { ROLES, SENTRY_PROJECT, sentryDsn, TENANT_NAME } from '../keys.ts';
import type { AppContext } from '../server.ts';

const createBody = z
  .object({
    role: z.enum(ROLES as ['ingest', 'read', 'admin'], { error: `expected one of ${ROLES.join(', ')}` }),
    name: z.string().max(200).optional(),
    tenant: z.string().regex(TENANT_NAME, 'expected a tenant name of a-z, 0-9, "_" and "-"').optional(),
    /** A Sentry project id: the answer then holds the key's DSN. */
    project: z.string().regex(SENTRY_PROJECT, 'expected a Sentry project id (digits)').optional(),
  })
  .strict();

export function keysRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    defaultRole(app, 'admin');
    auditedByHandler(app);

    app.get<{ Querystring: { tenant?: string } }>('/api/v1/keys', async (request) => {
      const p = request.principal;
      const tenant = p.operator && request.query.tenant === '*' ? undefined : (request.query.tenant ?? p.tenant);
      if (tenant !== undefined && tenant !== p.tenant && !p.operator) {
        throw new AppError(403, 'auth.forbidden', `This key may only list keys of tenant "${p.tenant}"`);
      }
      return { keys: await ctx.keys.list(tenant) };
    });

    app.post('/api/v1/keys', async (request, reply) => {
      const body = jsonBody(request, createBody);
      const p = request.principal;
      const tenant = body.tenant ?? p.tenant;
      if (tenant !== p.tenant && !p.operator) {
        throw new AppError(
          403,
          'auth.forbidden',
          `This key may only create keys for tenant "${p.tenant}" (other tenants need the operator key)`,
        );
      }
      const { key, info } = await ctx.keys.create({
        tenant,
        role: body.role,
        ...(body.name === undefined ? {} : { name: body.name }),
        ...(body.project === undefined ? {} : { project: body.project }),
        createdBy: p.actor,
      });
      await ctx.audit.record(
        p,
        {
          action: 'key.create',
          message: `created ${info.role} key ${info.id} ("${info.name}") for tenant ${info.tenant}`,
          details: { key_id: info.id, key_role: info.role, key_tenant: info.tenant },
        },
        request.id,
      );
      reply.code(201);
      // The DSN names this server as the client reached it.
      const dsn =
        info.project === undefined ? undefined : sentryDsn(key, `${request.protocol}://${request.host}`, info.project);
      return {
        key,
        ...info,
        ...(dsn ? { dsn } : {}),
        note: 'Store this key now: Shoplens keeps only its hash and cannot show it again.',
      };
    });

    app.delete<{ Params: { id: string } }>('/api/v1/keys/:id', async (request) => {
      const p = request.principal;
      const info = await ctx.keys.revoke(request.params.id, p.operator ? undefined : p.tenant);
      await ctx.audit.record(
        p,
        {
          action: 'key.revoke',
          message: `revoked key ${info.id} ("${info.name}") of tenant ${info.tenant}`,
          details: { key_id: info.id, key_tenant: info.tenant },
        },
        request.id,
      );
      return info;
    });
  };
}
