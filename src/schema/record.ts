/**
 * The canonical stored event: one value per typed column of the events
 * table (see `EVENT_FIELDS`), plus the attributes JSON. Produced by ingest
 * normalisation, consumed by the store writers.
 */
import type { DataClass } from './fields.ts';

/** A typed column value; `null` when the event does not carry the field. */
export type ColumnValue = string | number | readonly string[] | null;

export interface EventRecord {
  /** Event time in microseconds since the epoch (UTC). */
  ts: number;
  tenant: string;
  dataClass: DataClass;
  /**
   * Values of the remaining typed columns by column name (`service`,
   * `amount`, ...). Absent keys are stored as NULL.
   */
  columns: Record<string, ColumnValue>;
  /** Every field without a typed column, by flattened dotted name; `null` when there are none. */
  attributes: Record<string, unknown> | null;
  /**
   * Elasticsearch `index` semantics: when set, an existing event of the same
   * tenant with this `event.id` is replaced in the same commit.
   */
  replaceExisting?: boolean;
}
