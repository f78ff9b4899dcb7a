/** Structured JSON logs (pino) on stdout; request-scoped lines carry `requestId`. */
import { pino, type Logger } from 'pino';

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
    },
    destination ?? process.stdout,
  );
}
