/**
 * Shoplens's own metrics in Prometheus format (prom-client). One registry per
 * server instance so that several servers in one process (tests) don't clash.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { threadCpuSeconds } from './thread-cpu.ts';

export class SelfMetrics {
  readonly registry = new Registry();
  readonly ingestedEvents: Counter<'endpoint' | 'outcome'>;
  readonly ingestedBytes: Counter<'endpoint'>;
  readonly rejectedItems: Counter<'endpoint' | 'code'>;
  readonly batchCommitSeconds: Histogram<'outcome'>;
  readonly batchEvents: Histogram;
  readonly ingestQueueEvents: Gauge;
  readonly logBytes: Gauge;
  readonly segmentLoadSeconds: Histogram<'outcome'>;
  readonly loadedEvents: Counter;
  readonly visibilitySeconds: Histogram;
  readonly ingestStageSeconds: Counter<'stage'>;
  readonly ingestStageCpuSeconds: Counter<'stage'>;
  readonly mainThreadCpuSeconds: Counter;
  readonly querySeconds: Histogram<'outcome'>;
  readonly queryCache: Counter<'endpoint' | 'result'>;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly redactions: Counter<'kind'>;
  readonly rateLimited: Counter<'kind'>;
  readonly authFailures: Counter<'reason'>;
  readonly retentionDeletedEvents: Counter<'data_class'>;
  readonly minuteRollupLag: Gauge;
  readonly erasedEvents: Counter;
  readonly alertEvaluationSeconds: Histogram<'outcome'>;
  readonly alertEvaluations: Counter<'trigger'>;
  readonly alertBatchChecks: Counter<'outcome'>;
  readonly alertNotifications: Counter<'receiver_type' | 'outcome'>;
  readonly alertOutboxPending: Gauge;
  readonly alertsFiring: Gauge<'severity'>;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: 'shoplens_' });
      // prom-client also exports these totals as gauges named `*_total`, which
      // Prometheus reserves for counters (`promtool check metrics` flags them).
      // The same numbers stay available, by type, as `shoplens_nodejs_active_{handles,requests,resources}`.
      for (const kind of ['handles', 'requests', 'resources']) {
        this.registry.removeSingleMetric(`shoplens_nodejs_active_${kind}_total`);
      }
    }
    this.ingestedEvents = new Counter({
      name: 'shoplens_ingested_events_total',
      help: 'Events received for ingest, by endpoint and outcome (accepted or rejected).',
      labelNames: ['endpoint', 'outcome'],
      registers,
    });
    this.ingestedBytes = new Counter({
      name: 'shoplens_ingested_bytes_total',
      help: 'Request body bytes received by the ingest endpoints (after decompression).',
      labelNames: ['endpoint'],
      registers,
    });
    this.rejectedItems = new Counter({
      name: 'shoplens_rejected_items_total',
      help: 'Ingest items rejected, by endpoint and error code.',
      labelNames: ['endpoint', 'code'],
      registers,
    });
    this.batchCommitSeconds = new Histogram({
      name: 'shoplens_batch_commit_seconds',
      help: 'Time to write and fdatasync one group of appends to the ingest log (the commit point of ingest).',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.batchEvents = new Histogram({
      name: 'shoplens_batch_events',
      help: 'Events per durable write of the ingest log (group commit size).',
      buckets: [1, 10, 100, 500, 1000, 5000, 10000, 50000],
      registers,
    });
    this.ingestQueueEvents = new Gauge({
      name: 'shoplens_ingest_queue_events',
      help: 'Events waiting for the next write of the ingest log.',
      registers,
    });
    this.logBytes = new Gauge({
      name: 'shoplens_log_bytes',
      help: 'Bytes in the ingest log not yet loaded into the store (bounded by store.maxLogSize).',
      registers,
    });
    this.segmentLoadSeconds = new Histogram({
      name: 'shoplens_log_segment_load_seconds',
      help: 'Time to load one ingest log segment into the store, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.loadedEvents = new Counter({
      name: 'shoplens_log_loaded_events_total',
      help: 'Events loaded from the ingest log into the store.',
      registers,
    });
    this.visibilitySeconds = new Histogram({
      name: 'shoplens_ingest_visibility_seconds',
      help: 'Time from the acknowledgement of an ingest request to its events being visible to queries.',
      buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5, 10, 30],
      registers,
    });
    this.ingestStageSeconds = new Counter({
      name: 'shoplens_ingest_stage_seconds_total',
      help: 'Time spent per ingest stage: prepare (read, redact, normalise; in worker threads), log (write + fdatasync), load (into the store).',
      labelNames: ['stage'],
      registers,
    });
    this.ingestStageCpuSeconds = new Counter({
      name: 'shoplens_ingest_stage_cpu_seconds_total',
      help: 'CPU time of the threads that ran an ingest stage: prepare (the ingest worker threads, per request). Beside the wall time of shoplens_ingest_stage_seconds_total, which includes waiting for a CPU.',
      labelNames: ['stage'],
      registers,
    });
    let mainCpu = threadCpuSeconds();
    this.mainThreadCpuSeconds = new Counter({
      name: 'shoplens_main_thread_cpu_seconds_total',
      help: "CPU time of the server's main thread (HTTP, ingest log appends, query answers); the rest of shoplens_process_cpu_seconds_total is the ingest workers', DuckDB's and the runtime's threads.",
      registers,
      collect() {
        // A scrape runs on the main thread: its CPU clock is this thread's.
        const now = threadCpuSeconds();
        if (now === undefined || mainCpu === undefined) return;
        this.inc(Math.max(0, now - mainCpu));
        mainCpu = now;
      },
    });
    this.querySeconds = new Histogram({
      name: 'shoplens_query_duration_seconds',
      help: 'Query latency in the store, by outcome (ok or error).',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.queryCache = new Counter({
      name: 'shoplens_query_cache_requests_total',
      help: 'Query and funnel requests by answer source: miss (run), hit (cached answer), joined (waited for an identical run).',
      labelNames: ['endpoint', 'result'],
      registers,
    });
    this.alertEvaluationSeconds = new Histogram({
      name: 'shoplens_alert_evaluation_seconds',
      help: 'Time to evaluate one alert rule, by outcome (ok or error).',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.alertEvaluations = new Counter({
      name: 'shoplens_alert_evaluations_total',
      help: "Alert rule evaluations, by trigger: schedule (the rule's every), batch (a visible batch could change it, or its for: elapsed), manual (asked for directly; the API's rule test only reads and is not counted).",
      labelNames: ['trigger'],
      registers,
    });
    this.alertBatchChecks = new Counter({
      name: 'shoplens_alert_batch_checks_total',
      help: 'Newly visible rows (per tenant, batches merged while a check waited) checked against the rules: outcome rules (some rule may change: evaluated) or none (no rule reads such rows).',
      labelNames: ['outcome'],
      registers,
    });
    this.alertNotifications = new Counter({
      name: 'shoplens_alert_notifications_total',
      help: 'Alert notification delivery attempts, by receiver type and outcome (delivered, failed, gave_up).',
      labelNames: ['receiver_type', 'outcome'],
      registers,
    });
    this.alertOutboxPending = new Gauge({
      name: 'shoplens_alert_outbox_pending',
      help: 'Notifications waiting in the outbox (not yet delivered).',
      registers,
    });
    this.alertsFiring = new Gauge({
      name: 'shoplens_alerts_firing',
      help: 'Alert instances firing at the last evaluation, by severity.',
      labelNames: ['severity'],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'shoplens_http_requests_total',
      help: 'HTTP requests answered, by route, method and status code.',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.redactions = new Counter({
      name: 'shoplens_redactions_total',
      help: 'Values redacted before storage, by kind: card_number, email, ip, secret, field (dropped), pattern:<name>.',
      labelNames: ['kind'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'shoplens_rate_limited_requests_total',
      help: 'Requests refused with 429, by kind: ingest or read (per-tenant rate limits), overload (ingest back-pressure).',
      labelNames: ['kind'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'shoplens_auth_failures_total',
      help: 'Requests refused for missing or unknown API keys (401) or a role too low (403).',
      labelNames: ['reason'],
      registers,
    });
    this.retentionDeletedEvents = new Counter({
      name: 'shoplens_retention_deleted_events_total',
      help: 'Events deleted by the retention job because their data class retention expired.',
      labelNames: ['data_class'],
      registers,
    });
    this.minuteRollupLag = new Gauge({
      name: 'shoplens_minute_rollup_lag_seconds',
      help: 'How far the minute rollups trail the present (about 2 minutes when caught up).',
      registers,
    });
    this.erasedEvents = new Counter({
      name: 'shoplens_privacy_erased_events_total',
      help: 'Events deleted by GDPR erasure requests.',
      registers,
    });
  }
}
