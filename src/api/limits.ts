/**
 * Per-tenant rate limits as token buckets: ingest is charged by request body
 * bytes, reads by requests. A request over the limit answers 429 with
 * Retry-After saying when enough tokens will be back; nothing of it is
 * stored, so the client can retry it whole.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import type { BackPressure } from '../ingest/back-pressure.ts';
import type { SelfMetrics } from '../telemetry/self-metrics.ts';

/** A token bucket: `rate` tokens per second, at most `burst` saved up. */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    readonly now: () => number = () => performance.now(),
  ) {
    this.#tokens = burst;
    this.#last = now();
  }

  /** Takes `cost` tokens, or answers how many seconds until it could (taking nothing). */
  take(cost: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const t = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) / 1000) * this.rate);
    this.#last = t;
    // A single request larger than the burst may pass when the bucket is full, or it could never pass.
    const charge = Math.min(cost, this.burst);
    if (this.#tokens >= charge) {
      this.#tokens -= charge;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((charge - this.#tokens) / this.rate)) };
  }
}

/** Buckets per tenant for one kind of traffic. */
class TenantBuckets {
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(
    readonly rate: number,
    readonly burst: number,
  ) {}

  take(tenant: string, cost: number): ReturnType<TokenBucket['take']> {
    if (this.rate <= 0) return { ok: true };
    let bucket = this.#buckets.get(tenant);
    if (!bucket) {
      bucket = new TokenBucket(this.rate, this.burst);
      this.#buckets.set(tenant, bucket);
    }
    return bucket.take(cost);
  }
}

/**
 * The per-tenant ingest limit (`limits.ingestBytesPerSecond`), one set of
 * buckets shared by every ingest transport (HTTP routes, OTLP/gRPC).
 */
export class IngestRateLimit {
  readonly #buckets: TenantBuckets;
  readonly #config: Config['limits'];
  readonly #metrics: SelfMetrics;

  constructor(config: Config['limits'], metrics: SelfMetrics) {
    this.#buckets = new TenantBuckets(config.ingestBytesPerSecond, config.ingestBurstBytes);
    this.#config = config;
    this.#metrics = metrics;
  }

  /** Charges `bytes` to `tenant`, or throws 429 `limits.rate_limited` with Retry-After. */
  take(tenant: string, bytes: number): void {
    const result = this.#buckets.take(tenant, bytes);
    if (result.ok) return;
    this.#metrics.rateLimited.inc({ kind: 'ingest' });
    throw new AppError(
      429,
      'limits.rate_limited',
      `Tenant "${tenant}" is sending faster than its ingest limit of ${this.#config.ingestBytesPerSecond} bytes/s; retry after ${result.retryAfterSeconds} s`,
      { headers: { 'Retry-After': String(result.retryAfterSeconds) } },
    );
  }
}

/**
 * Installs the limit hook; it runs after authentication (hooks run in
 * registration order), before the body is read.
 */
export function installRateLimits(
  app: FastifyInstance,
  config: Config['limits'],
  metrics: SelfMetrics,
  ingest: IngestRateLimit = new IngestRateLimit(config, metrics),
): void {
  const reads = new TenantBuckets(config.queriesPerSecond, config.queryBurst);
  app.addHook('onRequest', async (request) => {
    const role = request.routeOptions.config.role ?? 'admin';
    if (role === 'public' || role === 'admin' || !request.principal) return;
    const tenant = request.principal.tenant;
    if (role === 'ingest') {
      const length = Number(request.headers['content-length']);
      // Chunked bodies have no length up front: charge a typical batch.
      ingest.take(tenant, Number.isFinite(length) && length > 0 ? length : 1024 * 1024);
      return;
    }
    const result = reads.take(tenant, 1);
    if (result.ok) return;
    metrics.rateLimited.inc({ kind: 'read' });
    throw new AppError(
      429,
      'limits.rate_limited',
      `Tenant "${tenant}" is over its limit of ${config.queriesPerSecond} queries/s; retry after ${result.retryAfterSeconds} s`,
      { headers: { 'Retry-After': String(result.retryAfterSeconds) } },
    );
  });
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route ingests its body through the pipeline: refused under back-pressure before it is read. */
    ingestBody?: boolean;
  }
}

/**
 * Refuses an ingest body (429 `ingest.overloaded`, Retry-After) before it is
 * read when the pipeline is already past its bounds, so that an overloaded
 * server does not buffer bodies it would refuse anyway; the handler's
 * admission (IngestPipeline.admitted) decides for the bodies let through.
 */
export function installBackPressure(app: FastifyInstance, backPressure: BackPressure, metrics: SelfMetrics): void {
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.ingestBody !== true || !request.principal) return;
    const length = Number(request.headers['content-length']);
    try {
      backPressure.check(Number.isFinite(length) && length > 0 ? length : 0);
    } catch (err) {
      metrics.rateLimited.inc({ kind: 'overload' });
      throw err;
    }
  });
}
