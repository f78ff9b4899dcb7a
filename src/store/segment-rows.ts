/**
 * Reading a segment's rows in JavaScript, for the loads that cannot take
 * the file as it is: a segment holding replacements (Elasticsearch `index`
 * with `_id`), where of the rows with one `event.id` only the last
 * replacement and what follows it survive; and the engine's JSON reader
 * refusing the file (then the rows go in another way).
 */
import { readFileSync } from 'node:fs';
import type { RowLine } from '../schema/record.ts';

const HEADER_PREFIX = '{"_log":';

interface Record {
  readonly replace: readonly string[];
  readonly lines: string[];
}

function readRecords(path: string): Record[] {
  const text = readFileSync(path, 'utf8');
  const records: Record[] = [];
  let current: Record | undefined;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.startsWith(HEADER_PREFIX)) {
      const meta = (JSON.parse(line) as { _log: { replace?: string[] } })._log;
      current = { replace: meta.replace ?? [], lines: [] };
      records.push(current);
    } else if (line.length > 0) {
      (current ??= { replace: [], lines: [] }).lines.push(line);
      if (records.length === 0) records.push(current);
    }
  }
  return records;
}

/** `tenant\0event id` of a row line, if it has an event id. */
function keyOf(line: string): string | undefined {
  if (!line.includes('"event_id":')) return undefined;
  const row = JSON.parse(line) as { tenant?: unknown; event_id?: unknown };
  return typeof row.event_id === 'string' ? `${String(row.tenant)}\u0000${row.event_id}` : undefined;
}

/** Every row of the segment, in order. */
export function segmentRows(path: string): RowLine[] {
  return readRecords(path).flatMap((r) => r.lines) as RowLine[];
}

export interface ReplacedRows {
  /** The rows to store. */
  readonly rows: RowLine[];
  /** Per tenant, the event ids whose stored events the segment replaces. */
  readonly replaced: Map<string, string[]>;
}

/**
 * Applies a segment's replacements among its own rows: a row with an id
 * that a later record replaces is dropped, and of the rows of the
 * replacing record with that id only the last is kept (the items of one
 * `_bulk` apply in order). Rows after the last replacement are kept.
 */
export function replacedRows(path: string): ReplacedRows {
  const records = readRecords(path);
  const lastRecord = new Map<string, number>();
  records.forEach((r, i) => {
    for (const key of r.replace) lastRecord.set(key, i);
  });
  const rows: RowLine[] = [];
  records.forEach((r, i) => {
    const lastInRecord = new Map<string, number>();
    const keys = r.lines.map((line, j) => {
      const key = keyOf(line);
      if (key !== undefined && lastRecord.get(key) === i) lastInRecord.set(key, j);
      return key;
    });
    r.lines.forEach((line, j) => {
      const key = keys[j];
      const last = key === undefined ? undefined : lastRecord.get(key);
      if (key !== undefined && last !== undefined) {
        if (i < last) return;
        if (i === last && lastInRecord.get(key) !== j) return;
      }
      rows.push(line as RowLine);
    });
  });
  const replaced = new Map<string, string[]>();
  for (const key of lastRecord.keys()) {
    const cut = key.indexOf('\u0000');
    const tenant = key.slice(0, cut);
    const list = replaced.get(tenant) ?? [];
    list.push(key.slice(cut + 1));
    replaced.set(tenant, list);
  }
  return { rows, replaced };
}
