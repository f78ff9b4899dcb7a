/**
 * The shared ingest pipeline: normalize → (redact: privacy issue) → batch →
 * store. Protocol adapters parse their wire format into raw items, run each
 * through `normalize`, then `commit` the good ones; the promise resolves only
 * after the store committed them.
 */
import type { Config } from '../config.ts';
import type { DataClass } from '../schema/fields.ts';
import type { EventRecord } from '../schema/record.ts';
import type { GroupCommitWriter } from '../store/group-commit.ts';
import type { SelfMetrics } from '../telemetry/self-metrics.ts';
import { normalizeEvent, type NormalizeResult } from './normalize.ts';

/** Who sent a request and when it arrived. */
export interface IngestContext {
  readonly tenant: string;
  readonly receivedAtMs: number;
}

export class IngestPipeline {
  readonly #writer: GroupCommitWriter;
  readonly #config: Config['ingest'];
  readonly #metrics: SelfMetrics;
  readonly #indexPatterns: { re: RegExp; dataClass: DataClass }[];

  constructor(writer: GroupCommitWriter, config: Config['ingest'], metrics: SelfMetrics) {
    this.#writer = writer;
    this.#config = config;
    this.#metrics = metrics;
    this.#indexPatterns = Object.entries(config.indexDataClass).map(([pattern, dataClass]) => ({
      re: new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`),
      dataClass,
    }));
  }

  get config(): Config['ingest'] {
    return this.#config;
  }

  /** The data class an Elasticsearch index name maps to, if any pattern matches. */
  dataClassForIndex(index: string): DataClass | undefined {
    return this.#indexPatterns.find((p) => p.re.test(index))?.dataClass;
  }

  normalize(raw: unknown, ctx: IngestContext, indexName?: string): NormalizeResult {
    const c = this.#config;
    return normalizeEvent(raw, {
      tenant: ctx.tenant,
      receivedAtMs: ctx.receivedAtMs,
      maxFutureSkewMs: c.maxFutureSkew,
      maxPastAgeMs: c.maxPastAge,
      maxDepth: c.maxDepth,
      maxFields: c.maxFields,
      ...(indexName === undefined ? {} : { indexName, indexDataClass: this.dataClassForIndex(indexName) }),
    });
  }

  /** Commits the accepted records of one request and counts the outcome. */
  async commit(endpoint: string, records: readonly EventRecord[], rejectedCodes: readonly string[]): Promise<void> {
    await this.#writer.submit(records);
    if (records.length > 0) this.#metrics.ingestedEvents.inc({ endpoint, outcome: 'accepted' }, records.length);
    this.countRejected(endpoint, rejectedCodes);
  }

  countRejected(endpoint: string, codes: readonly string[]): void {
    if (codes.length === 0) return;
    this.#metrics.ingestedEvents.inc({ endpoint, outcome: 'rejected' }, codes.length);
    const byCode = new Map<string, number>();
    for (const code of codes) byCode.set(code, (byCode.get(code) ?? 0) + 1);
    for (const [code, n] of byCode) this.#metrics.rejectedItems.inc({ endpoint, code }, n);
  }

  countBytes(endpoint: string, bytes: number): void {
    this.#metrics.ingestedBytes.inc({ endpoint }, bytes);
  }
}
