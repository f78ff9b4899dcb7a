/**
 * How the CLI talks to a running server: the API key from `--api-key` or the
 * environment variable `SHOPLENS_API_KEY` (not a config key: it is the
 * client's, and never written to a file by Shoplens).
 */
export const API_KEY_ENV = 'SHOPLENS_API_KEY';

/** Headers carrying the API key, when one is set. */
export function authHeaders(): Record<string, string> {
  const key = process.env[API_KEY_ENV]?.trim();
  return key ? { authorization: `Bearer ${key}` } : {};
}
