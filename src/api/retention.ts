/**
 * The retention job: every `retention.interval` it deletes the events each
 * data class no longer keeps (app 30 d, security 1 y, audit 7 y, business
 * 1 y by default), counts them in /metrics, logs what it deleted and keeps
 * the last report for `GET /api/v1/retention`.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { DATA_CLASSES } from '../schema/fields.ts';
import type { Store } from '../store/store.ts';
import type { SelfMetrics } from '../telemetry/self-metrics.ts';
import { formatDuration } from '../util/duration.ts';

const DAY_MS = 86_400_000;

/** Retention in the words people use for it: whole days as `30d`. */
function formatRetention(ms: number): string {
  return ms % DAY_MS === 0 ? `${ms / DAY_MS}d` : formatDuration(ms);
}

export interface RetentionReport {
  readonly ranAt: string;
  readonly tookMs: number;
  /** Per data class: the cutoff (events before it were deleted) and how many went. */
  readonly classes: Readonly<
    Record<string, { readonly keep: string; readonly before: string; readonly deleted: number }>
  >;
  readonly deleted: number;
}

export class RetentionJob {
  readonly #config: Config['retention'];
  readonly #store: Store;
  readonly #metrics: SelfMetrics;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RetentionReport> | undefined;
  #last: RetentionReport | undefined;

  constructor(config: Config['retention'], store: Store, metrics: SelfMetrics, logger: Logger) {
    this.#config = config;
    this.#store = store;
    this.#metrics = metrics;
    this.#logger = logger;
  }

  /** The policy, in the config's words. */
  policy(): Record<string, string> {
    return Object.fromEntries(DATA_CLASSES.map((c) => [c, formatRetention(this.#config[c])]));
  }

  get lastRun(): RetentionReport | undefined {
    return this.#last;
  }

  /** Runs every `interval` (first run after one minute, so start-up stays quick). */
  start(): void {
    if (this.#config.interval <= 0 || this.#timer) return;
    const tick = (): void => {
      this.runOnce().catch((err: unknown) => this.#logger.error({ err }, 'retention job failed'));
    };
    this.#timer = setTimeout(
      () => {
        tick();
        this.#timer = setInterval(tick, this.#config.interval).unref();
      },
      Math.min(60_000, this.#config.interval),
    ).unref();
  }

  async stop(): Promise<void> {
    // clearInterval also clears the first (setTimeout) timer.
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** Deletes what expired now; concurrent calls share one run. */
  runOnce(nowMs = Date.now()): Promise<RetentionReport> {
    this.#running ??= this.#run(nowMs).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(nowMs: number): Promise<RetentionReport> {
    const started = performance.now();
    const cutoffs = Object.fromEntries(DATA_CLASSES.map((c) => [c, nowMs - this.#config[c]]));
    const deleted = await this.#store.deleteExpired(cutoffs, nowMs - this.#config.rollups);
    const classes: Record<string, { keep: string; before: string; deleted: number }> = {};
    let total = 0;
    for (const c of DATA_CLASSES) {
      const n = deleted[c] ?? 0;
      total += n;
      if (n > 0) this.#metrics.retentionDeletedEvents.inc({ data_class: c }, n);
      classes[c] = {
        keep: formatRetention(this.#config[c]),
        before: new Date(cutoffs[c] as number).toISOString(),
        deleted: n,
      };
    }
    const report: RetentionReport = {
      ranAt: new Date(nowMs).toISOString(),
      tookMs: Math.round(performance.now() - started),
      classes,
      deleted: total,
    };
    this.#last = report;
    this.#logger.info({ retention: report }, `retention: deleted ${total} expired events`);
    return report;
  }
}
