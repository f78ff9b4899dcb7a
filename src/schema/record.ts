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

/**
 * An event serialised as one canonical row line: a JSON object with `ts`
 * (µs), `tenant`, `data_class`, `attributes` and the typed columns by column
 * name. Stores load such lines natively (DuckDB `read_ndjson`, ClickHouse
 * `JSONEachRow`); ingest workers produce them so that only a string crosses
 * threads.
 */
export type RowLine = string & { readonly __rowLine: true };

/** What the stores append: a record, or the same already serialised. */
export type StoredEvent = EventRecord | RowLine;

/** Serialises a record as its row line. */
export function toRowLine(e: EventRecord): RowLine {
  let line = `{"ts":${Math.round(e.ts)},"tenant":${JSON.stringify(e.tenant)},"data_class":"${e.dataClass}"`;
  if (e.attributes) line += `,"attributes":${JSON.stringify(e.attributes)}`;
  const columns = JSON.stringify(e.columns);
  return (columns.length > 2 ? `${line},${columns.slice(1)}` : `${line}}`) as RowLine;
}

/** The event time of a row line, µs, read without parsing it (toRowLine starts every line with `{"ts":<µs>,`). */
export function rowLineTimeUs(line: string): number {
  return Number(line.slice(6, line.indexOf(',', 6)));
}

/** Reads a row line back into a record (the inverse of `toRowLine`). */
export function fromRowLine(line: RowLine): EventRecord {
  const { ts, tenant, data_class, attributes, ...columns } = JSON.parse(line) as Record<string, unknown>;
  return {
    ts: Number(ts),
    tenant: String(tenant),
    dataClass: data_class as DataClass,
    columns: columns as Record<string, ColumnValue>,
    attributes: (attributes as Record<string, unknown> | undefined) ?? null,
  };
}
