/**
 * The one application error. Handlers and modules throw it; the HTTP error
 * handler turns it into `{ "error": { "code", "message", ...details } }` with
 * `status`. Codes are stable strings (`ingest.invalid_json`, `query.syntax`).
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra JSON fields returned beside code and message (e.g. `position`). */
  readonly details: Readonly<Record<string, unknown>>;
  /** Whether the message may be shown to the client (false: a generic message is sent). */
  readonly expose: boolean;
  /** Extra HTTP headers for the answer (e.g. Retry-After). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: {
      cause?: unknown;
      expose?: boolean;
      details?: Record<string, unknown>;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = options.details ?? {};
    this.expose = options.expose ?? status < 500;
    this.headers = options.headers ?? {};
  }
}

/**
 * A query that does not parse or does not make sense. `position` is the
 * 0-based character offset in the query text where the problem is.
 */
export class QueryError extends AppError {
  readonly position: number;
  constructor(
    code: 'query.syntax' | 'query.invalid' | 'query.too_long' | 'query.too_deep' | 'query.too_complex',
    message: string,
    position: number,
  ) {
    super(400, code, message, { details: { position } });
    this.name = 'QueryError';
    this.position = position;
  }
}
