/**
 * Structured JSON logs (pino) on stdout; request-scoped lines carry `requestId`.
 * Every line is redacted before it is written (src/privacy/log-redaction.ts):
 * no card number, secret, token or API key reaches the log, whatever logged it.
 */
import { pino, type Logger } from 'pino';
import { redactingDestination, redactUrl } from '../privacy/log-redaction.ts';

interface LoggedRequest {
  readonly method?: string;
  readonly url?: string;
  readonly host?: string;
  readonly ip?: string;
  readonly socket?: { readonly remotePort?: number };
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'shoplens' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Never log credentials that clients send.
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'],
        censor: '[redacted]',
      },
      serializers: {
        // Fastify's request serializer, with the URL redacted in its decoded form
        // (`/x?token=…`, a card number in a path, percent-encoded or not) and
        // cut to 2 KB first: this line is written for every request, before auth.
        req: (req: LoggedRequest) => ({
          method: req.method,
          url: req.url === undefined ? undefined : redactUrl(req.url),
          host: req.host,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
      },
    },
    redactingDestination(destination ?? process.stdout),
  );
}
