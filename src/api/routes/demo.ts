/**
 * `GET /api/v1/demo/incidents`: the demo shop's incidents (ground truth for
 * alert tests); `POST /api/v1/demo/incidents`: starts one now;
 * `GET /api/v1/demo/webhook-inbox` and `GET /api/v1/demo/email-inbox`: what
 * the demo's local webhook receiver and SMTP inbox got. Only `shoplens demo` running in-process has a shop to break and that
 * receiver; otherwise they answer 404 `demo.not_running`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import {
  INCIDENT_NAMES,
  INCIDENTS,
  isIncidentName,
  MAX_INCIDENT_MINUTES,
  type DemoIncidentControl,
  type IncidentRecord,
} from '../../demo/incidents.ts';
import { AppError } from '../../errors.ts';
import { jsonBody } from '../body.ts';
import type { AppContext } from '../server.ts';

/** The tenant the demo shop's events go to (src/cli/demo.ts), whose alerts its webhook receiver gets. */
export const DEMO_TENANT = 'default';

/** One notification the demo's local webhook receiver got. */
export interface DemoWebhookMessage {
  readonly id: number;
  readonly receivedAt: string;
  readonly path: string;
  /** The `X-Shoplens-Notification-Id` header. */
  readonly notificationId: string;
  /** The JSON body as received (notifiers/webhook.ts `webhookPayload`). */
  readonly body: unknown;
}

/** The demo's local webhook receiver, as the API reads it (src/cli/demo-webhook-sink.ts). */
export interface DemoWebhookInbox {
  readonly url: string;
  /** Newest first. */
  messages(): readonly DemoWebhookMessage[];
}

/** One e-mail the demo's local SMTP inbox got, as a mail client shows it. */
export interface DemoMailMessage {
  readonly id: number;
  readonly receivedAt: string;
  /** The envelope's sender and recipients. */
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  /** The plain-text part. */
  readonly text: string;
  /** The `X-Shoplens-Notification-Id` header. */
  readonly notificationId: string;
}

/** The demo's local SMTP inbox, as the API reads it (src/cli/demo-mail-sink.ts). */
export interface DemoMailInbox {
  /** `smtp://127.0.0.1:PORT`. */
  readonly url: string;
  /** Newest first. */
  messages(): readonly DemoMailMessage[];
}

const startBody = z.object({
  name: z.string({ error: 'expected the incident name as a string, e.g. "payment-gateway-outage"' }),
  durationMinutes: z.unknown().optional(),
});

function demoOf(ctx: AppContext): DemoIncidentControl {
  if (!ctx.demo) {
    throw new AppError(
      404,
      'demo.not_running',
      'No demo shop runs in this server: incidents exist only under `shoplens demo` (without --url)',
    );
  }
  return ctx.demo;
}

function view(record: IncidentRecord, nowMs: number): Record<string, unknown> {
  return {
    name: record.name,
    service: record.service,
    description: record.description,
    start: new Date(record.startMs).toISOString(),
    end: new Date(record.endMs).toISOString(),
    status: nowMs < record.startMs ? 'scheduled' : nowMs < record.endMs ? 'active' : 'over',
  };
}

export function demoRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/v1/demo/webhook-inbox', { config: { role: 'read' } }, async (request) => {
      const inbox = ctx.demoWebhook;
      // The receiver is the demo shop's (tenant default): another tenant's key reads nothing of it.
      if (!inbox || request.principal.tenant !== DEMO_TENANT) {
        throw new AppError(
          404,
          'demo.not_running',
          'No demo webhook receiver runs in this server: it exists only under `shoplens demo` (without --url)',
        );
      }
      return { url: inbox.url, messages: inbox.messages() };
    });

    app.get('/api/v1/demo/email-inbox', { config: { role: 'read' } }, async (request) => {
      const inbox = ctx.demoMail;
      if (!inbox || request.principal.tenant !== DEMO_TENANT) {
        throw new AppError(
          404,
          'demo.not_running',
          'No demo e-mail inbox runs in this server: it exists only under `shoplens demo` (without --url)',
        );
      }
      return { url: inbox.url, messages: inbox.messages() };
    });

    app.get('/api/v1/demo/incidents', { config: { role: 'read' } }, async () => {
      const demo = demoOf(ctx);
      const now = Date.now();
      return {
        incidents: demo.list().map((record) => view(record, now)),
        available: INCIDENT_NAMES.map((name) => ({
          name,
          service: INCIDENTS[name].service,
          description: INCIDENTS[name].description,
          defaultDurationMinutes: INCIDENTS[name].defaultDurationMinutes,
        })),
      };
    });

    app.post('/api/v1/demo/incidents', async (request, reply) => {
      const demo = demoOf(ctx);
      const body = jsonBody(request, startBody);
      if (!isIncidentName(body.name)) {
        throw new AppError(
          400,
          'demo.unknown_incident',
          `Unknown incident "${body.name}"; valid incidents: ${INCIDENT_NAMES.join(', ')}`,
        );
      }
      const minutes = body.durationMinutes;
      if (minutes !== undefined && !(typeof minutes === 'number' && minutes >= 1 && minutes <= MAX_INCIDENT_MINUTES)) {
        throw new AppError(
          400,
          'demo.invalid_duration',
          `"durationMinutes" must be a number of minutes from 1 to ${MAX_INCIDENT_MINUTES}, got ${JSON.stringify(minutes)}`,
        );
      }
      const now = Date.now();
      const record = await demo.start(body.name, minutes, now);
      reply.code(201);
      return { incident: view(record, now) };
    });
  };
}
