/**
 * API keys: each carries a tenant and a role, and is stored only as its
 * SHA-256 hash (keys are 190 random bits, so a slow hash adds nothing). The
 * key text is shown once, when it is created.
 *
 * Key format: `slk_<id>_<secret>`; `id` (10 characters) names the key in
 * lists, logs and the audit trail, `secret` is never stored.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { redactDocumentText, type DocumentStore } from '../store/documents.ts';
import type { Principal, Role } from './auth.ts';

/** Documents of keys live in this reserved tenant (tenant names cannot start with `_`). */
const KEYS_TENANT = '_system';
const KIND = 'api_key';
/** The hash is ours, not client text: redaction could take hex digits for a card number. */
const VERBATIM = ['hash'] as const;
export const ROLES: readonly Role[] = ['ingest', 'read', 'admin'];
export const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const KEY_FORMAT = /^slk_([A-Za-z0-9]{10})_([A-Za-z0-9_-]{32})$/;
/** A Sentry project id: the last path segment of a DSN, digits (Sentry's SDKs refuse anything else). */
export const SENTRY_PROJECT = /^[0-9]{1,19}$/;
/** Successful look-ups are cached this long; revocation in this process clears the cache at once. */
const CACHE_MS = 10_000;

/** What is stored about a key (never the key itself). */
export interface ApiKeyInfo {
  readonly id: string;
  readonly name: string;
  readonly tenant: string;
  readonly role: Role;
  /** The first-start key: may create keys for other tenants. */
  readonly operator: boolean;
  /** Sentry project id this key's DSN names (an ingest key used as a Sentry DSN's public key). */
  readonly project?: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt?: string;
}

interface KeyDocument extends ApiKeyInfo {
  /** SHA-256 of the full key text, hex. */
  readonly hash: string;
}

export interface CreateKeyInput {
  readonly tenant: string;
  readonly role: Role;
  readonly name?: string;
  readonly operator?: boolean;
  /** Sentry project id for a DSN (digits); events sent with the key must name it. */
  readonly project?: string;
  /** Who creates it (for the record). */
  readonly createdBy: string;
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function randomText(bytes: number, length: number): string {
  return randomBytes(bytes).toString('base64url').replace(/[-_]/g, '').slice(0, length);
}

export class ApiKeyService {
  readonly #documents: DocumentStore;
  readonly #cache = new Map<string, { principal: Principal; until: number }>();

  constructor(documents: DocumentStore) {
    this.#documents = documents;
  }

  /** Creates a key; the returned `key` is the only time its text exists outside the caller. */
  async create(input: CreateKeyInput): Promise<{ key: string; info: ApiKeyInfo }> {
    // A tenant name is stored and logged with every event: it must not be a card number.
    if (!TENANT_NAME.test(input.tenant) || redactDocumentText(input.tenant) !== input.tenant) {
      throw new AppError(
        400,
        'keys.invalid_tenant',
        `tenant "${input.tenant}" must be 1-63 characters of a-z, 0-9, "_" and "-", starting with a letter or digit, and must not be a card number`,
      );
    }
    if (input.project !== undefined && !SENTRY_PROJECT.test(input.project)) {
      throw new AppError(
        400,
        'keys.invalid_project',
        `project "${input.project}" must be 1-19 digits (a Sentry project id)`,
      );
    }
    if (!ROLES.includes(input.role)) {
      throw new AppError(400, 'keys.invalid_role', `role "${String(input.role)}" must be one of ${ROLES.join(', ')}`);
    }
    let id = randomText(12, 10);
    while (id.length < 10) id += randomText(12, 10 - id.length);
    let secret = randomText(36, 32);
    while (secret.length < 32) secret += randomText(12, 32 - secret.length);
    const key = `slk_${id}_${secret}`;
    const doc: KeyDocument = {
      id,
      name: input.name?.trim() || `${input.role} key`,
      tenant: input.tenant,
      role: input.role,
      operator: input.operator ?? false,
      ...(input.project === undefined ? {} : { project: input.project }),
      createdAt: new Date().toISOString(),
      createdBy: input.createdBy,
      hash: hashKey(key),
    };
    // The name is client text: the stored (redacted) form is what is answered.
    const stored = await this.#documents.put(KEYS_TENANT, KIND, id, doc, { expectedVersion: 0, verbatim: VERBATIM });
    return { key, info: publicInfo(stored.body) };
  }

  /** Keys of one tenant (or of all tenants), newest first, without hashes. */
  async list(tenant?: string): Promise<ApiKeyInfo[]> {
    const docs = await this.#documents.list<KeyDocument>(KEYS_TENANT, KIND, { order: 'updated', limit: 100_000 });
    return docs
      .map((d) => d.body)
      .filter((k) => tenant === undefined || k.tenant === tenant)
      .map(publicInfo);
  }

  /** Whether any key that is not revoked exists (first start creates one when none does). */
  async hasActiveKeys(): Promise<boolean> {
    return (await this.list()).some((k) => !k.revokedAt);
  }

  /**
   * Revokes a key of `tenant` (any tenant when undefined). Answers the key's
   * info; 404 when there is no such key in that tenant.
   */
  async revoke(id: string, tenant: string | undefined): Promise<ApiKeyInfo> {
    const doc = /^[A-Za-z0-9]{10}$/.test(id)
      ? await this.#documents.get<KeyDocument>(KEYS_TENANT, KIND, id)
      : undefined;
    if (!doc || (tenant !== undefined && doc.body.tenant !== tenant)) {
      throw new AppError(404, 'keys.not_found', `No API key with id "${id}"${tenant ? ` in tenant "${tenant}"` : ''}`);
    }
    const revoked: KeyDocument = { ...doc.body, revokedAt: doc.body.revokedAt ?? new Date().toISOString() };
    await this.#documents.put(KEYS_TENANT, KIND, id, revoked, { verbatim: VERBATIM });
    this.#cache.clear();
    return publicInfo(revoked);
  }

  /** The principal a key text stands for, or undefined for an unknown, malformed or revoked key. */
  async authenticate(key: string): Promise<Principal | undefined> {
    const m = KEY_FORMAT.exec(key);
    if (!m) return undefined;
    const hash = hashKey(key);
    const cached = this.#cache.get(hash);
    if (cached && cached.until > Date.now()) return cached.principal;
    const doc = await this.#documents.get<KeyDocument>(KEYS_TENANT, KIND, m[1] as string);
    if (!doc || doc.body.revokedAt) return undefined;
    const stored = Buffer.from(doc.body.hash, 'hex');
    if (stored.length !== 32 || !timingSafeEqual(stored, Buffer.from(hash, 'hex'))) return undefined;
    const principal: Principal = {
      tenant: doc.body.tenant,
      role: doc.body.role,
      keyId: doc.body.id,
      actor: `key:${doc.body.id} (${doc.body.name})`,
      ...(doc.body.operator ? { operator: true } : {}),
      ...(doc.body.project === undefined ? {} : { project: doc.body.project }),
    };
    this.#cache.set(hash, { principal, until: Date.now() + CACHE_MS });
    return principal;
  }
}

function publicInfo(doc: KeyDocument): ApiKeyInfo {
  // Never hand the hash out, even to admins.
  const { hash: _hash, ...info } = doc;
  return info;
}

/**
 * The key a request carries, in any of the forms clients send:
 * `Authorization: Bearer <key>`, `Authorization: ApiKey <key>` or
 * `ApiKey base64(id:key)` (Elasticsearch clients), `Authorization: Basic
 * base64(user:key)` (log shippers with only user/password settings), or
 * `X-API-Key: <key>`.
 */
export function keyFromRequest(request: FastifyRequest): string | undefined {
  // Sentry SDKs send the DSN's public key (a Shoplens key) their own way, on the Sentry routes only.
  if (request.routeOptions.config.sentryAuth) {
    const sentry = sentryKey(request);
    if (sentry !== undefined) return sentry;
  }
  const header = request.headers['authorization'];
  if (typeof header === 'string') {
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'bearer') return value;
    if (scheme === 'apikey') {
      if (value.startsWith('slk_')) return value;
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      return decoded.slice(decoded.indexOf(':') + 1);
    }
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      return decoded.slice(decoded.indexOf(':') + 1);
    }
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes a Sentry DSN's key: `X-Sentry-Auth: Sentry sentry_key=…` or `?sentry_key=…`. */
    sentryAuth?: boolean;
  }
}

/** The `sentry_key` of `X-Sentry-Auth` (`Sentry sentry_key=<key>, sentry_version=7, …`) or of the query string. */
function sentryKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-sentry-auth'];
  if (typeof header === 'string') {
    const params = header.replace(/^\s*Sentry\s+/i, '');
    for (const part of params.split(',', 20)) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim().toLowerCase() === 'sentry_key') return part.slice(eq + 1).trim();
    }
  }
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query && Object.hasOwn(query, 'sentry_key') ? query['sentry_key'] : undefined;
  return typeof fromQuery === 'string' ? fromQuery : undefined;
}

/**
 * The Sentry DSN of a key: `http://<key>@<host>/<project>`. `baseUrl` is
 * how clients reach Shoplens (`http://shoplens.internal:8080`).
 */
export function sentryDsn(key: string, baseUrl: string, project: string): string {
  const url = new URL(baseUrl);
  return `${url.protocol}//${key}@${url.host}${url.pathname.replace(/\/$/, '')}/${project}`;
}
