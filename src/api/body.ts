/** JSON bodies of the API routes (the server keeps bodies raw for the ingest protocols). */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { maskQueryText } from '../privacy/query-text.ts';
import { redactDocumentText } from '../store/documents.ts';
import { parseDuration } from '../util/duration.ts';

/** Parses and validates a JSON body; errors name the field and what was expected. */
export function jsonBody<T extends z.ZodType>(request: FastifyRequest, schema: T): z.output<T> {
  const raw = request.body;
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : '';
  if (text.trim() === '')
    throw new AppError(400, 'request.empty_body', 'The request body is empty; send a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    throw new AppError(
      400,
      'request.invalid_json',
      `The request body is not valid JSON${m ? ` (at character ${Number(m[1]) + 1})` : ''}`,
    );
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? `"${issue.path.join('.')}"` : 'the body';
    throw new AppError(400, 'request.invalid', `${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/**
 * `maxAge` of a query or funnel request: how old a cached answer the caller
 * accepts, as a duration ("5s") or milliseconds; at most one minute.
 */
export const maxAgeField = z
  .union([z.string(), z.number()], { error: 'expected a duration such as "5s", or milliseconds' })
  .transform((value, ctx) => {
    let ms: number;
    try {
      ms = typeof value === 'number' ? value : parseDuration(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
    if (!Number.isFinite(ms) || ms < 0 || ms > 60_000) {
      ctx.addIssue({ code: 'custom', message: `expected at most 1 minute, got ${String(value)}` });
      return z.NEVER;
    }
    return ms;
  })
  .optional();

/**
 * Refuses a name or id the client chose (a rule name, a dashboard id) that
 * holds a card number or a secret: the store keeps it masked (documents.ts),
 * so under the name the client knows it could never be found again. The
 * message does not quote the value.
 */
export function assertCleanName(value: string, what: string): void {
  if (redactDocumentText(value) !== value) {
    throw new AppError(400, 'request.secret_in_name', `${what} must not contain a card number or a secret`);
  }
}

/**
 * A query as kept in a document (a rule's, a panel's): card numbers are
 * masked with escaped stars, as query text is before it runs
 * (privacy/query-text.ts), so the stored query still finds the masked data
 * instead of reading the stars as wildcards.
 */
export function queryForStorage(query: string): string {
  return maskQueryText(query, { maskEmails: false });
}
