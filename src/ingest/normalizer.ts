/**
 * Normalisation with the ingest configuration applied (limits, skew, index
 * → data class mapping). Built from plain config so that ingest workers can
 * construct their own.
 */
import type { Config } from '../config.ts';
import type { DataClass } from '../schema/fields.ts';
import { normalizeEvent, type NormalizeResult } from './normalize.ts';

/** Who sent a request and when it arrived. */
export interface IngestContext {
  readonly tenant: string;
  readonly receivedAtMs: number;
}

export class Normalizer {
  readonly config: Config['ingest'];
  readonly #indexPatterns: { re: RegExp; dataClass: DataClass }[];

  constructor(config: Config['ingest']) {
    this.config = config;
    this.#indexPatterns = Object.entries(config.indexDataClass).map(([pattern, dataClass]) => ({
      re: new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`),
      dataClass,
    }));
  }

  /** The data class an Elasticsearch index name maps to, if any pattern matches. */
  dataClassForIndex(index: string): DataClass | undefined {
    return this.#indexPatterns.find((p) => p.re.test(index))?.dataClass;
  }

  normalize(raw: unknown, ctx: IngestContext, indexName?: string): NormalizeResult {
    const c = this.config;
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
}
