/**
 * GDPR: `POST /api/v1/privacy/erasure` deletes a customer's events (every
 * data class but the audit trail) and `GET /api/v1/privacy/export` returns
 * them. Both are admin-only, scoped to the caller's tenant and audited.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { CustomerMatch } from '../../store/store.ts';
import { auditedByHandler } from '../audit.ts';
import { defaultRole } from '../auth.ts';
import { jsonBody } from '../body.ts';
import type { AppContext } from '../server.ts';

const subject = z
  .object({
    customer_id: z.string().trim().min(1, 'expected a non-empty customer id').max(200).optional(),
    email: z.email({ error: 'expected an e-mail address' }).max(320).optional(),
  })
  .strict()
  .refine((s) => s.customer_id !== undefined || s.email !== undefined, {
    message: 'send "customer_id" or "email" (or both)',
  });

/** Most events one export answers with. */
const EXPORT_LIMIT = 100_000;

export function privacyRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    defaultRole(app, 'admin');
    auditedByHandler(app);

    /** What a user must know when e-mails are stored masked. */
    function emailNote(email: string | undefined): { note?: string } {
      if (email === undefined || !ctx.config.privacy.maskEmails) return {};
      return {
        note:
          'E-mail addresses are stored masked (privacy.maskEmails), so an e-mail finds only events that carry it unmasked; ' +
          "send the customer's customer_id to reach all of their events.",
      };
    }

    /**
     * A customer id the redactor would change (it holds a card number or a secret) is stored
     * masked, and its masked form may be shared by other customers: it matches nothing, and
     * the answer says why rather than reporting a silent 0.
     */
    function maskedIdNote(customerId: string | undefined): { note?: string } {
      if (customerId === undefined || ctx.pipeline.redactText(customerId) === customerId) return {};
      return {
        note:
          'This customer id holds a card number or a secret, which Shoplens stores masked, so it matches no stored event ' +
          '(its masked form could belong to other customers). Send another identifier of the customer, such as an e-mail address.',
      };
    }

    /** Ids and texts that identify the customer; an e-mail also finds the customer ids it appears with. */
    async function matchOf(tenant: string, s: z.output<typeof subject>): Promise<CustomerMatch> {
      const masked = s.customer_id !== undefined && maskedIdNote(s.customer_id).note !== undefined;
      const ids = new Set<string>(s.customer_id && !masked ? [s.customer_id] : []);
      const texts: string[] = [];
      if (s.email) {
        // Only the e-mail as written: its masked form (`jane.***@…`) is shared by other
        // customers, so matching it could erase someone else's data.
        const email = s.email.toLowerCase();
        texts.push(email);
        for (const event of await ctx.store.exportCustomer(tenant, { ids: [], texts: [email] }, EXPORT_LIMIT)) {
          const id = (event['customer'] as Record<string, unknown> | undefined)?.['id'] ?? event['customer.id'];
          if (typeof id === 'string' && id) ids.add(id);
        }
      }
      return { ids: [...ids], texts };
    }

    app.post('/api/v1/privacy/erasure', async (request) => {
      const body = jsonBody(request, subject);
      const p = request.principal;
      const match = await matchOf(p.tenant, body);
      const result = await ctx.store.eraseCustomer(p.tenant, match);
      ctx.metrics.erasedEvents.inc(result.deleted);
      ctx.answers.clearTenant(p.tenant);
      await ctx.audit.record(
        p,
        {
          action: 'privacy.erasure',
          message: `erased ${result.deleted} events of a customer`,
          // The audit entry names the customer id (needed to prove the erasure), never the e-mail.
          details: { customer_ids: match.ids, by_email: body.email !== undefined, deleted: result.deleted },
        },
        request.id,
      );
      return {
        deleted: result.deleted,
        byDataClass: result.byDataClass,
        ...(result.spans ? { spans: result.spans } : {}),
        customerIds: match.ids,
        ...emailNote(body.email),
        ...maskedIdNote(body.customer_id),
      };
    });

    app.get<{ Querystring: Record<string, string> }>('/api/v1/privacy/export', async (request, reply) => {
      const parsed = subject.safeParse({
        ...(request.query.customer_id === undefined ? {} : { customer_id: request.query.customer_id }),
        ...(request.query.email === undefined ? {} : { email: request.query.email }),
      });
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new AppError(
          400,
          'request.invalid',
          `${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'invalid'} (use ?customer_id=... or ?email=...)`,
        );
      }
      const p = request.principal;
      const match = await matchOf(p.tenant, parsed.data);
      const events = await ctx.store.exportCustomer(p.tenant, match, EXPORT_LIMIT);
      await ctx.audit.record(
        p,
        {
          action: 'privacy.export',
          message: `exported ${events.length} events of a customer`,
          details: { customer_ids: match.ids, by_email: parsed.data.email !== undefined, events: events.length },
        },
        request.id,
      );
      reply.header('Content-Disposition', 'attachment; filename="shoplens-customer-export.json"');
      return {
        customerIds: match.ids,
        exportedAt: new Date().toISOString(),
        count: events.length,
        truncated: events.length >= EXPORT_LIMIT,
        ...emailNote(parsed.data.email),
        ...maskedIdNote(parsed.data.customer_id),
        events,
      };
    });
  };
}
