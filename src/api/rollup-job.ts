/**
 * Keeps the store's minute rollups current (Store.rollUp): every
 * `store.rollupInterval` it folds the minutes that closed since, slice by
 * slice until caught up, yielding to other work between slices. On a store
 * opened with days of events not yet rolled up (an upgrade, an import), the
 * first runs catch up and log their progress.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';
import type { SelfMetrics } from '../telemetry/self-metrics.ts';

export class RollupJob {
  readonly #intervalMs: number;
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #metrics: SelfMetrics | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #stopped = false;

  constructor(intervalMs: number, store: Store, logger: Logger, metrics?: SelfMetrics) {
    this.#intervalMs = intervalMs;
    this.#store = store;
    this.#logger = logger;
    this.#metrics = metrics;
  }

  start(): void {
    if (this.#intervalMs <= 0 || this.#timer) return;
    const tick = (): void => {
      this.runOnce().catch((err: unknown) => this.#logger.error({ err }, 'minute rollup job failed'));
    };
    this.#timer = setInterval(tick, this.#intervalMs).unref();
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** Rolls up until caught up with `nowMs`; concurrent calls share one run. Answers the slices folded. */
  runOnce(nowMs = Date.now()): Promise<number> {
    this.#running ??= this.#run(nowMs).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(nowMs: number): Promise<number> {
    const started = performance.now();
    let slices = 0;
    for (;;) {
      const { untilMs, caughtUp } = await this.#store.rollUp(nowMs);
      if (untilMs > 0) this.#metrics?.minuteRollupLag.set(Math.max(0, (Date.now() - untilMs) / 1000));
      if (caughtUp || this.#stopped) break;
      slices++;
      if (slices % 20 === 0) {
        this.#logger.info({ until: new Date(untilMs).toISOString(), slices }, 'catching up on minute rollups');
      }
      // Let queued ingest batches and queries in between slices.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (slices >= 20) {
      this.#logger.info({ slices, tookMs: Math.round(performance.now() - started) }, 'minute rollups caught up');
    }
    return slices;
  }
}
