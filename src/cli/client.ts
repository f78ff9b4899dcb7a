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

/** A JSON answer: status and parsed body (`{}` when the body is not JSON). */
export interface JsonAnswer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

/**
 * POSTs a JSON body with node:http(s) and reads the JSON answer. The CLI's
 * one-shot calls (`query --url`) use this rather than `fetch`, whose HTTP
 * client costs about 100 ms of start-up per process. Rejects with the
 * network error (refused, reset, no such host).
 */
export async function postJson(url: URL, body: unknown, headers: Record<string, string> = {}): Promise<JsonAnswer> {
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(payload.length), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            if (parsed !== null && typeof parsed === 'object') json = parsed as Record<string, unknown>;
          } catch {
            // Not JSON (a proxy's error page): the status says what happened.
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** POSTs an NDJSON body with the API key (fetch: for long runs, where its start-up does not count). */
export function postNdjson(url: URL, body: string | Uint8Array): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...authHeaders() }, body });
}

/** Why a request could not reach the server: fetch's cause (refused, reset, no such host) when it has one. */
export function unreachableReason(err: unknown): string {
  const cause = (err as { cause?: { message?: string } }).cause;
  return cause?.message ?? (err as Error).message;
}
