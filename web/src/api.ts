/**
 * The one way the UI talks to the server. Every call carries
 * `Authorization: Bearer <key>` from localStorage (`shoplens.apiKey`); a 401
 * asks the user for a key (App shows the prompt). Identical query and funnel
 * requests within CACHE_MS share one answer, so panels that repeat a query
 * (and quick re-renders) cost one round trip.
 */
import type { FunnelAnswer, QueryAnswer } from './types.ts';

export const API_KEY_STORAGE = 'shoplens.apiKey';
export const UNAUTHORIZED_EVENT = 'shoplens:unauthorized';
const CACHE_MS = 5000;

/** An error answer of the API: `{ error: { code, message, position? } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly position?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function apiKey(): string {
  try {
    return localStorage.getItem(API_KEY_STORAGE) ?? '';
  } catch {
    return '';
  }
}

export function setApiKey(key: string): void {
  localStorage.setItem(API_KEY_STORAGE, key);
  cache.clear();
}

const cache = new Map<string, { at: number; answer: Promise<unknown> }>();

export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    if (response.status === 401) window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
    const error = (json as { error?: { code?: string; message?: string; position?: number } } | undefined)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? 'http.error',
      error?.message ?? `The server answered ${response.status} ${response.statusText}`,
      error?.position,
    );
  }
  return json as T;
}

/** Until then (ms), requests ask the server for fresh answers: the user just asked for a refresh. */
let freshUntil = 0;

/**
 * POST with the short-lived answer caches (queries and funnels are reads):
 * this tab's, then the server's, which other tabs and users share (`maxAge`).
 */
function cachedPost<T>(path: string, body: object): Promise<T> {
  const key = `${path} ${JSON.stringify(body)}`;
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && now - hit.at < CACHE_MS) return hit.answer as Promise<T>;
  const answer = api<T>(path, { body: { ...body, maxAge: now < freshUntil ? 0 : CACHE_MS } });
  cache.set(key, { at: now, answer });
  // A failed answer is not kept: the next try asks again.
  answer.catch(() => cache.delete(key));
  for (const [k, v] of cache) if (now - v.at >= CACHE_MS) cache.delete(k);
  return answer;
}

export function runQuery(query: string, from: string, to: string): Promise<QueryAnswer> {
  return cachedPost<QueryAnswer>('/api/v1/query', { query, from, to });
}

export function runFunnel(spec: unknown, from: string, to: string): Promise<FunnelAnswer> {
  return cachedPost<FunnelAnswer>('/api/v1/funnel', { ...(spec as object), from, to });
}

/** Drops cached answers, here and for the requests of the next moment on the server (a refresh wants fresh data). */
export function clearQueryCache(): void {
  cache.clear();
  freshUntil = Date.now() + 2000;
}
