/** `/health` (process up), `/ready` (store writable), `/metrics` (Prometheus text). */
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../../errors.ts';
import type { AppContext } from '../server.ts';

const startedAt = Date.now();

export function opsRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/health', { logLevel: 'warn', config: { role: 'public' } }, async () => ({
      status: 'ok',
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    }));

    app.get('/ready', { logLevel: 'warn', config: { role: 'public' } }, async () => {
      try {
        await ctx.store.checkWritable();
      } catch (err) {
        throw new AppError(503, 'store.not_ready', `The store cannot take writes: ${(err as Error).message}`, {
          cause: err,
          headers: { 'Retry-After': '5' },
        });
      }
      return { status: 'ready', store: ctx.store.engine };
    });

    app.get('/metrics', { logLevel: 'warn', config: { role: 'read' } }, async (_request, reply) => {
      reply.header('Content-Type', ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    });
  };
}
