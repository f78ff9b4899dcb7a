/** `GET /api/v1/retention` (policy and last run, read) and `POST /api/v1/retention/run` (admin, audited). */
import type { FastifyPluginAsync } from 'fastify';
import { auditedByHandler } from '../audit.ts';
import type { RetentionJob } from '../retention.ts';
import type { AppContext } from '../server.ts';

export function retentionRoutes(ctx: AppContext, job: RetentionJob): FastifyPluginAsync {
  return async (app) => {
    auditedByHandler(app);
    app.get('/api/v1/retention', { config: { role: 'read' } }, async () => ({
      policy: job.policy(),
      lastRun: job.lastRun ?? null,
    }));

    app.post('/api/v1/retention/run', { config: { role: 'admin' } }, async (request) => {
      const report = await job.runOnce();
      await ctx.audit.record(
        request.principal,
        {
          action: 'retention.run',
          message: `ran retention: ${report.deleted} expired events deleted`,
          details: { deleted: report.deleted },
        },
        request.id,
      );
      return report;
    });
  };
}
