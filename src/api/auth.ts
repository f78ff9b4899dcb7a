/**
 * Who is calling: every request gets a `principal` (tenant + role) before its
 * handler runs. Routes state the role they need in their config
 * (`{ config: { role: 'read' } }`), or a route file sets a default for all of
 * its routes with `defaultRole(app, 'ingest')`. A route that states nothing
 * needs `admin`, so a forgotten declaration fails closed.
 *
 * Roles: `ingest` may send data; `read` may query and view; `admin` may do
 * everything, including keys, rules, retention and erasure. `public` routes
 * (/health, /ready) need no key.
 *
 * A path no route matches answers 401 without a valid key and 404 with any
 * valid key, whatever its role: authentication first, then "no such route",
 * then the role check (which only a real route has).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

export type Role = 'ingest' | 'read' | 'admin';
export type RouteRole = Role | 'public';

/** The caller, as established by its API key. */
export interface Principal {
  /** Every read and write of this request is scoped to this tenant. */
  readonly tenant: string;
  readonly role: Role;
  /** Id of the API key used (absent with `auth: none`). */
  readonly keyId?: string;
  /** Who to name in the audit trail: the key's id and name, or `anonymous`. */
  readonly actor: string;
  /** The first-start admin key: may also manage other tenants' keys. */
  readonly operator?: boolean;
  /** The Sentry project id of the key's DSN, if it has one. */
  readonly project?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** The role a caller needs for this route (default `admin`). */
    role?: RouteRole;
  }
}

/** Establishes the principal of a request; undefined = no or unknown credentials. */
export type Authenticate = (request: FastifyRequest) => Promise<Principal | undefined> | Principal | undefined;

/** True when `role` may use a route that needs `needed`. */
export function roleAllows(role: Role, needed: RouteRole): boolean {
  if (needed === 'public' || role === 'admin') return true;
  return role === needed;
}

/** Sets `role` on every route of this plugin that does not state its own. */
export function defaultRole(app: FastifyInstance, role: RouteRole): void {
  app.addHook('onRoute', (options) => {
    const config = (options.config ?? {}) as { role?: RouteRole };
    if (config.role === undefined) options.config = { ...config, role };
  });
}

/** Installs the hook that sets `request.principal` and enforces route roles. */
export function installAuth(
  app: FastifyInstance,
  authenticate: Authenticate,
  onRefused: (reason: 'missing' | 'unknown' | 'role') => void = () => undefined,
): void {
  app.decorateRequest('principal', undefined as unknown as Principal);
  app.addHook('onRequest', async (request) => {
    // No route matched (Fastify's not-found handler has no url): no role applies.
    const matched = request.routeOptions.url !== undefined;
    const needed: RouteRole = request.routeOptions.config.role ?? 'admin';
    if (matched && needed === 'public') return;
    const principal = await authenticate(request);
    if (!principal) {
      onRefused(request.headers['authorization'] || request.headers['x-api-key'] ? 'unknown' : 'missing');
      throw new AppError(
        401,
        'auth.required',
        'This route needs a valid API key (it is missing, unknown or revoked): send it as a Bearer token in the Authorization header',
        {
          headers: { 'WWW-Authenticate': 'Bearer realm="shoplens"' },
        },
      );
    }
    if (matched && !roleAllows(principal.role, needed)) {
      onRefused('role');
      throw new AppError(
        403,
        'auth.forbidden',
        `This API key has the role "${principal.role}"; this route needs "${needed}"`,
      );
    }
    request.principal = principal;
  });
}
