/**
 * Normalisation with the ingest and privacy configuration applied (limits,
 * skew, index → data class mapping, redaction). Built from plain config so
 * that ingest workers can construct their own.
 *
 * Every raw event is redacted (src/privacy/redactor.ts) before it is
 * normalised, so nothing that follows (columns, attributes, rejection
 * messages, row lines, the store) ever sees a card number or a secret.
 */
import type { Config } from '../config.ts';
import { DEFAULT_PRIVACY, markRedactions, Redactor } from '../privacy/redactor.ts';
import type { PrivacyConfig } from '../privacy/privacy-config.ts';
import type { DataClass } from '../schema/fields.ts';
import { compileNamePattern, type NamePattern } from '../schema/name-pattern.ts';
import { toRowLine, type RowLine } from '../schema/record.ts';
import { ErrorGrouper } from '../errors/grouping-rules.ts';
import { EventRowWriter } from './event-row-writer.ts';
import { normalizeEvent, type NormalizeResult, type Rejection } from './normalize.ts';

/** Who sent a request and when it arrived. */
export interface IngestContext {
  readonly tenant: string;
  readonly receivedAtMs: number;
}

/** More distinct event types than this in one request: not listed (see takeEventTypes). */
const MAX_EVENT_TYPES = 64;

export class Normalizer {
  readonly config: Config['ingest'];
  readonly redactor: Redactor;
  readonly #indexPatterns: { re: NamePattern; dataClass: DataClass }[];
  readonly #rowWriter: EventRowWriter;
  /** Fingerprints error events with the configured grouping rules (src/errors/grouping-rules.ts). */
  readonly grouper: ErrorGrouper;
  #eventTypes: Set<string> | null = new Set();

  constructor(config: Config['ingest'], privacy: PrivacyConfig = DEFAULT_PRIVACY) {
    this.config = config;
    this.redactor = new Redactor(privacy);
    this.grouper = new ErrorGrouper(config.errorGrouping);
    this.#rowWriter = new EventRowWriter(
      this.redactor,
      {
        maxDepth: config.maxDepth,
        maxFields: config.maxFields,
        maxFutureSkewMs: config.maxFutureSkew,
        maxPastAgeMs: config.maxPastAge,
      },
      this.grouper,
    );
    this.#indexPatterns = Object.entries(config.indexDataClass).map(([pattern, dataClass]) => ({
      re: compileNamePattern(pattern),
      dataClass,
    }));
  }

  /** The data class an Elasticsearch index name maps to, if any pattern matches. */
  dataClassForIndex(index: string): DataClass | undefined {
    return this.#indexPatterns.find((p) => p.re.test(index))?.dataClass;
  }

  /**
   * Redacts, then normalises one raw event. `indexName` is redacted like
   * the event; `marker` holds redactions the caller already made for this
   * event (an Elasticsearch `_id`) and is merged into its marker.
   */
  normalize(raw: unknown, ctx: IngestContext, indexName?: string, marker?: readonly string[]): NormalizeResult {
    const c = this.config;
    const redacted = this.redactor.redactEvent(raw, c.maxDepth);
    if (!redacted.ok) return redacted;
    const found = redacted.marker ?? [];
    if (marker) for (const m of marker) if (!found.includes(m)) found.push(m);
    const index = indexName === undefined ? undefined : this.redactor.redactText(indexName, found);
    const result = normalizeEvent(redacted.value, {
      tenant: ctx.tenant,
      receivedAtMs: ctx.receivedAtMs,
      maxFutureSkewMs: c.maxFutureSkew,
      maxPastAgeMs: c.maxPastAge,
      maxDepth: c.maxDepth,
      maxFields: c.maxFields,
      grouper: this.grouper,
      ...(index === undefined ? {} : { indexName: index, indexDataClass: this.dataClassForIndex(index) }),
    });
    if (result.ok) result.record.attributes = markRedactions(result.record.attributes, found);
    return result;
  }

  /**
   * Redacts and normalises one raw event straight into its row line: what
   * `toRowLine(normalize(raw, ctx).record)` gives, in one pass over the
   * event when it can (src/ingest/event-row-writer.ts), or the rejection.
   * `raw` is left as it was only when a row line comes back. `noEscapes`:
   * the JSON text `raw` was parsed from held no backslash (see EventRowWriter.write).
   */
  prepareRow(raw: unknown, ctx: IngestContext, noEscapes = false): RowLine | Rejection {
    const row = this.#rowWriter.write(raw, ctx.tenant, ctx.receivedAtMs, noEscapes);
    if (row !== undefined) {
      this.#noteEventType(this.#rowWriter.lastEventType);
      return row;
    }
    const result = this.normalize(raw, ctx);
    if (!result.ok) return { code: result.code, message: result.message };
    const type = result.record.columns['event_type'];
    this.#noteEventType(typeof type === 'string' ? type : '');
    return toRowLine(result.record);
  }

  #noteEventType(type: string): void {
    const types = this.#eventTypes;
    if (types === null || types.has(type)) return;
    types.add(type);
    if (types.size > MAX_EVENT_TYPES) this.#eventTypes = null;
  }

  /**
   * The distinct `event.type` values ('' for none) of the rows prepareRow made since the last call,
   * or null when there were more than 64 (any may be among them).
   */
  takeEventTypes(): string[] | null {
    const types = this.#eventTypes;
    this.#eventTypes = new Set();
    return types === null ? null : [...types];
  }

  /** Redactions made since the last call, by kind (for `shoplens_redactions_total`). */
  takeRedactionCounts(): Record<string, number> {
    return this.redactor.takeCounts();
  }
}
