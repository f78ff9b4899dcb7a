/**
 * The HTTP server (Fastify): request ids, structured logs, one error
 * handler, raw bodies for the ingest protocols, and the route files.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AlertEngine } from '../alerts/alert-engine.ts';
import { createAlertEngine } from '../alerts/alert-service.ts';
import type { Config } from '../config.ts';
import type { DemoIncidentControl } from '../demo/incidents.ts';
import { IngestPipeline } from '../ingest/pipeline.ts';
import { IngestWorkerPool } from '../ingest/worker-pool.ts';
import type { Store } from '../store/store.ts';
import { redactMessage } from '../privacy/log-redaction.ts';
import { SelfMetrics } from '../telemetry/self-metrics.ts';
import { BusinessMetrics } from '../telemetry/business-metrics.ts';
import { AuditTrail, installRouteAudit } from './audit.ts';
import { installAuth, type Principal } from './auth.ts';
import { ApiKeyService, keyFromRequest } from './keys.ts';
import { IngestRateLimit, installBackPressure, installRateLimits } from './limits.ts';
import { createOtlpGrpcServer, type OtlpGrpcServer } from './otlp-grpc.ts';
import { RetentionJob } from './retention.ts';
import { RollupJob } from './rollup-job.ts';
import { keysRoutes } from './routes/keys.ts';
import { privacyRoutes } from './routes/privacy.ts';
import { retentionRoutes } from './routes/retention.ts';
import { installErrorHandling } from './error-handler.ts';
import { demoRoutes, type DemoMailInbox, type DemoWebhookInbox } from './routes/demo.ts';
import { elasticsearchRoutes } from './routes/elasticsearch.ts';
import { eventsRoutes } from './routes/events.ts';
import { opsRoutes } from './routes/ops.ts';
import { queryRoutes } from './routes/query.ts';
import { alertsRoutes } from './routes/alerts.ts';
import { alertInboxRoutes } from './routes/alert-inbox.ts';
import { alertLiveRoutes } from './routes/alert-live.ts';
import { dashboardRoutes } from './routes/dashboards.ts';
import { funnelRoutes } from './routes/funnel.ts';
import { errorsRoutes } from './routes/errors.ts';
import { sentryRoutes } from './routes/sentry.ts';
import { otlpRoutes } from './routes/otlp.ts';
import { tracesRoutes } from './routes/traces.ts';
import { uiRoutes } from './routes/ui.ts';
import { docsRoutes } from './routes/docs.ts';
import { AnswerCache } from '../store/answer-cache.ts';

export interface ServerDeps {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  readonly metrics?: SelfMetrics;
  /** The demo shop's incident control, when `shoplens demo` runs the server in-process. */
  readonly demo?: DemoIncidentControl;
  /** The demo's local webhook receiver and e-mail inbox (what they got is shown in the UI). */
  readonly demoWebhook?: DemoWebhookInbox;
  readonly demoMail?: DemoMailInbox;
}

/** What route files get: the parts of the running service. */
export interface AppContext {
  readonly config: Config;
  readonly store: Store;
  readonly pipeline: IngestPipeline;
  readonly metrics: SelfMetrics;
  /** API keys (hashed, in the store's documents). */
  readonly keys: ApiKeyService;
  /** The audit trail: admin actions and data access, committed before the answer. */
  readonly audit: AuditTrail;
  /** Recent query and funnel answers, for requests that accept one a few seconds old. */
  readonly answers: AnswerCache;
  /** The demo shop's incidents; absent under `shoplens serve` (the demo routes answer 404). */
  readonly demo?: DemoIncidentControl;
  readonly demoWebhook?: DemoWebhookInbox;
  readonly demoMail?: DemoMailInbox;
}

/** One registered route and the role it needs (for docs and the auth tests). */
export interface RouteInfo {
  readonly method: string;
  readonly url: string;
  readonly role: string;
}

export interface ShoplensServer {
  readonly app: FastifyInstance;
  /** Every route registered, with the role it needs. */
  readonly routes: readonly RouteInfo[];
  readonly context: AppContext;
  /** The alert evaluator (running when `alerts.enabled`). */
  readonly alerts: AlertEngine;
  /** OTLP/gRPC (`otlp.grpc.enabled`), not yet listening: the caller binds it beside the HTTP server. */
  readonly otlpGrpc?: OtlpGrpcServer;
  /** Stops taking requests, commits what is queued, closes the store. */
  close(): Promise<void>;
}

/** Size of a query or funnel answer in result cells. */
function answerCells(answer: unknown): number {
  const a = answer as { rows?: unknown[]; columns?: unknown[]; steps?: unknown[]; groups?: unknown[] };
  if (Array.isArray(a.rows)) return a.rows.length * Math.max(1, a.columns?.length ?? 1);
  return JSON.stringify(answer).length / 16;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function createServer(deps: ServerDeps): Promise<ShoplensServer> {
  const { config, store } = deps;
  const metrics = deps.metrics ?? new SelfMetrics();
  const business =
    config.metrics.business.length > 0 ? new BusinessMetrics(metrics.registry, config.metrics) : undefined;
  store.observe?.({
    onKpis: (kpis) => business?.add(kpis),
    onWrite: (_records, rows, _bytes, seconds) => {
      metrics.batchCommitSeconds.observe({ outcome: 'ok' }, seconds);
      metrics.batchEvents.observe(rows);
      metrics.ingestStageSeconds.inc({ stage: 'log' }, seconds);
    },
    onQueue: (rows) => metrics.ingestQueueEvents.set(rows),
    onLoaded: (segment, seconds) => {
      metrics.segmentLoadSeconds.observe({ outcome: 'ok' }, seconds);
      metrics.loadedEvents.inc(segment.rows);
      metrics.ingestStageSeconds.inc({ stage: 'load' }, seconds);
    },
    onFailed: () => metrics.segmentLoadSeconds.observe({ outcome: 'error' }, 0),
    onVisible: (seconds) => metrics.visibilitySeconds.observe(seconds),
    onLogBytes: (bytes) => metrics.logBytes.set(bytes),
  });
  const workers =
    config.ingest.workers > 0
      ? new IngestWorkerPool(config.ingest.workers, config.ingest, deps.logger, config.privacy)
      : undefined;
  if (workers)
    workers.onBusy = (seconds, cpuSeconds) => {
      metrics.ingestStageSeconds.inc({ stage: 'prepare' }, seconds);
      if (cpuSeconds !== undefined) metrics.ingestStageCpuSeconds.inc({ stage: 'prepare' }, cpuSeconds);
    };
  const pipeline = new IngestPipeline(store, config.ingest, metrics, workers, config.privacy);
  const context: AppContext = {
    config,
    store,
    pipeline,
    metrics,
    keys: new ApiKeyService(store.documents),
    audit: new AuditTrail(pipeline),
    answers: new AnswerCache({
      maxEntries: 1000,
      maxCells: config.query.cacheMaxCells,
      sizeOf: answerCells,
    }),
    ...(deps.demo ? { demo: deps.demo } : {}),
    ...(deps.demoWebhook ? { demoWebhook: deps.demoWebhook } : {}),
    ...(deps.demoMail ? { demoMail: deps.demoMail } : {}),
  };

  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the default logger type on the instance.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: config.server.maxBodyBytes,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    requestIdHeader: false,
    genReqId: (req) => {
      const sent = req.headers['x-request-id'];
      // A client's id is echoed and logged, so it is kept only when it holds no card number or secret
      // (bounded to 128 characters before the scan).
      return typeof sent === 'string' && REQUEST_ID.test(sent) && redactMessage(sent) === sent ? sent : randomUUID();
    },
    // Elasticsearch clients send `Content-Type: application/x-ndjson` with `_bulk`; bodies are parsed by each route.
    return503OnClosing: true,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('X-Request-Id', request.id);
    // Elasticsearch clients check this header on every answer.
    reply.header('X-Elastic-Product', 'Elasticsearch');
    // Error answers may quote what the client sent (a URL, a header, a value): never a card number or secret.
    if (reply.statusCode >= 400 && typeof payload === 'string') return redactMessage(payload);
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequests.inc({
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status: String(reply.statusCode),
    });
  });
  installErrorHandling(app, config);
  const routes: RouteInfo[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      // Fastify adds a HEAD twin to every GET; only the HEAD routes declared on purpose are listed.
      if (method === 'HEAD' && route.url !== '/' && route.url !== '/:index') continue;
      routes.push({
        method,
        url: route.url,
        // Read late: a plugin's defaultRole() hook may set the role after this hook ran.
        get role() {
          return (route.config as { role?: string } | undefined)?.role ?? 'admin';
        },
      });
    }
  });
  // Explicitly configured: every caller is the default tenant's admin (the server listens on loopback only).
  const anonymous: Principal = Object.freeze({ tenant: 'default', role: 'admin', actor: 'anonymous (auth: none)' });
  const ingestLimit = new IngestRateLimit(config.limits, metrics);
  const otlpGrpc = config.otlp.grpc.enabled
    ? createOtlpGrpcServer(
        context,
        config.auth === 'none' ? () => anonymous : (key) => (key ? context.keys.authenticate(key) : undefined),
        ingestLimit,
        deps.logger,
      )
    : undefined;
  if (config.auth === 'none') {
    installAuth(app, () => anonymous);
  } else {
    installAuth(
      app,
      async (request) => {
        const key = keyFromRequest(request);
        return key ? context.keys.authenticate(key) : undefined;
      },
      (reason) => metrics.authFailures.inc({ reason }),
    );
  }
  installRateLimits(app, config.limits, metrics, ingestLimit);
  installBackPressure(app, pipeline.backPressure, metrics);
  installRouteAudit(app, context.audit, config.auth === 'keys');

  await app.register(opsRoutes(context));
  await app.register(eventsRoutes(context));
  await app.register(queryRoutes(context));
  await app.register(elasticsearchRoutes(context));
  await app.register(demoRoutes(context));
  await app.register(keysRoutes(context));
  await app.register(privacyRoutes(context));
  const retention = new RetentionJob(config.retention, store, metrics, deps.logger);
  await app.register(retentionRoutes(context, retention));
  retention.start();
  const rollups = new RollupJob(config.store.rollupInterval, store, deps.logger, metrics);
  rollups.start();
  await app.register(dashboardRoutes(context));
  await app.register(funnelRoutes(context));
  await app.register(errorsRoutes(context));
  await app.register(sentryRoutes(context));
  await app.register(otlpRoutes(context));
  await app.register(tracesRoutes(context));
  await app.register(uiRoutes(context));
  await app.register(docsRoutes(context));
  const alerts = createAlertEngine(config, store, metrics, deps.logger);
  await app.register(alertsRoutes(context, alerts));
  await app.register(alertInboxRoutes(context, alerts));
  await app.register(alertLiveRoutes(context, alerts));
  if (config.alerts.enabled) alerts.start();

  return {
    app,
    routes,
    context,
    alerts,
    ...(otlpGrpc ? { otlpGrpc } : {}),
    async close() {
      await otlpGrpc?.close();
      await alerts.stop();
      await retention.stop();
      await rollups.stop();
      await app.close();
      await workers?.close();
      await store.close();
    },
  };
}
