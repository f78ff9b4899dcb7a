/**
 * The one HTTP error handler: `AppError` → `{ "error": { "code", "message", ...details } }`
 * with its status; Fastify's own client errors (body too large, bad
 * content) mapped to stable codes; anything else is a 500 that is logged
 * with the request id and never shows internals.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { EsRequestError } from '../ingest/elasticsearch-bulk.ts';

export function installErrorHandling(app: FastifyInstance, config: Config): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, request, reply) => {
    if (err instanceof EsRequestError) {
      return reply.code(err.status).send(err.toBody());
    }
    if (err instanceof AppError) {
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
      if (err.status >= 500) request.log.warn({ code: err.code, err: err.cause ?? err }, err.message);
      return reply.code(err.status).send({
        error: { code: err.code, message: err.expose ? err.message : 'Internal server error', ...err.details },
        ...(err.code === 'ingest.no_valid_events' ? err.details : {}),
      });
    }
    const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
    const fastifyCode = 'code' in err ? String(err.code) : '';
    if (status === 413 || fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({
        error: {
          code: 'request.body_too_large',
          message: `The request body is larger than the limit of ${config.server.maxBodyBytes} bytes (server.maxBodyBytes)`,
        },
      });
    }
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: { code: 'request.invalid', message: err.message } });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({
      error: {
        code: 'internal',
        message: `Internal server error; the server log has the details under request id ${request.id}`,
      },
    });
  });

  app.setNotFoundHandler((request, reply) => {
    return reply
      .code(404)
      .send({ error: { code: 'not_found', message: `No route for ${request.method} ${request.url.split('?')[0]}` } });
  });
}
