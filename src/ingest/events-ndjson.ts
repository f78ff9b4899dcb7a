/**
 * `POST /api/v1/events`: NDJSON, a JSON array, or one JSON object. Good items
 * are stored even when others are bad; each bad one is reported by line (or
 * array index) with a code and a message naming the field.
 */
import { AppError } from '../errors.ts';
import type { StoredEvent } from '../schema/record.ts';
import { parseJson, splitLines, type BodyLine } from './body.ts';
import type { IngestContext, Normalizer } from './normalizer.ts';
import type { IngestPipeline } from './pipeline.ts';

const ENDPOINT = 'events';
/** Most rejections listed in one answer; the count covers all of them. */
const MAX_LISTED_REJECTIONS = 1000;

const ACCEPTED_TYPES = new Set([
  '',
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/json',
  'text/plain',
]);

export interface ItemRejection {
  /** 1-based line of an NDJSON body. */
  readonly line?: number;
  /** 0-based index in a JSON array body. */
  readonly index?: number;
  readonly code: string;
  readonly message: string;
}

export interface EventsAnswer {
  readonly accepted: number;
  readonly rejected: readonly ItemRejection[];
  /** Present when more items were rejected than are listed. */
  readonly rejectedCount?: number;
}

interface RawItem {
  readonly where: { line: number } | { index: number };
  readonly value?: unknown;
  readonly error?: { code: string; message: string };
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Reads the body into raw items, per element for a JSON array (or the one
 * document of a pretty-printed body), or into its lines for NDJSON, each
 * to be parsed by the caller.
 */
function readItems(
  body: Buffer,
  contentType: string | undefined,
  maxLineBytes: number,
): RawItem[] | { lines: BodyLine[] } {
  const type = mediaType(contentType);
  if (!ACCEPTED_TYPES.has(type)) {
    throw new AppError(
      415,
      'ingest.unsupported_media_type',
      `Content-Type "${type}" is not accepted here; send application/x-ndjson (one JSON event per line) or application/json (an event or an array of events)`,
    );
  }
  const lines = splitLines(body, maxLineBytes);
  if (lines.length === 0)
    throw new AppError(400, 'ingest.empty_body', 'The request body is empty; send at least one JSON event');
  const first = lines[0];
  // A JSON array (or one pretty-printed object) spans lines: parse the body whole.
  const startsArray = first !== undefined && 'text' in first && first.text.trimStart().startsWith('[');
  if (startsArray || (type === 'application/json' && lines.length > 1 && !looksLikeNdjson(lines))) {
    const whole = parseJson(body.toString('utf8'));
    if (whole.ok && Array.isArray(whole.value)) return whole.value.map((value, index) => ({ where: { index }, value }));
    if (whole.ok) return [{ where: { line: 1 }, value: whole.value }];
    // Not one JSON document: read it line by line, so that one bad line (say, a first line
    // that happens to start with "[") does not cost the good lines of the request.
    if (lines.length === 1)
      return [{ where: { line: 1 }, error: { code: 'ingest.invalid_json', message: `body: ${whole.message}` } }];
  }
  return { lines };
}

/** True when every line on its own looks like a complete JSON object. */
function looksLikeNdjson(lines: ReturnType<typeof splitLines>): boolean {
  return lines.every((l) => 'text' in l && l.text.trimStart().startsWith('{') && l.text.trimEnd().endsWith('}'));
}

function label(where: RawItem['where']): string {
  return 'line' in where ? `line ${where.line}` : `item ${where.index}`;
}

/** A request body read, normalised and serialised, ready to commit. */
export interface PreparedEvents {
  readonly rows: StoredEvent[];
  readonly rejected: ItemRejection[];
  /** Redactions made while preparing, by kind (`card_number`: 2, ...). */
  readonly redactions: Record<string, number>;
  /** Distinct `event.type` values of the rows ('' for none); null: more than 64. */
  readonly eventTypes: readonly string[] | null;
}

/**
 * Reads, normalises and serialises a decoded body. Pure CPU work with no I/O:
 * it runs in an ingest worker thread (or inline when there are none).
 * Throws AppError for whole-request problems (415, empty body).
 */
export function prepareEvents(
  normalizer: Normalizer,
  body: Buffer,
  contentType: string | undefined,
  ctx: IngestContext,
): PreparedEvents {
  const items = readItems(body, contentType, normalizer.config.maxLineBytes);
  const rows: StoredEvent[] = [];
  const rejected: ItemRejection[] = [];
  const add = (where: RawItem['where'], value: unknown, noEscapes = false): void => {
    const row = normalizer.prepareRow(value, ctx, noEscapes);
    if (typeof row === 'string') rows.push(row);
    else rejected.push({ ...where, code: row.code, message: `${label(where)}: ${row.message}` });
  };
  if (Array.isArray(items)) {
    // A body without a backslash holds no string that needs escaping (see EventRowWriter.write).
    const noEscapes = !body.includes(0x5c);
    for (const item of items) {
      if (item.error) rejected.push({ ...item.where, ...item.error });
      else add(item.where, item.value, noEscapes);
    }
  } else {
    // NDJSON, the hot path: each line parsed and prepared in turn, no item objects in between.
    for (const l of items.lines) {
      if ('error' in l) {
        rejected.push({ line: l.line, ...l.error });
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(l.text);
      } catch {
        const parsed = parseJson(l.text);
        const message = parsed.ok ? 'invalid JSON' : parsed.message;
        rejected.push({ line: l.line, code: 'ingest.invalid_json', message: `line ${l.line}: ${message}` });
        continue;
      }
      add({ line: l.line }, value, !l.text.includes('\\'));
    }
  }
  return { rows, rejected, redactions: normalizer.takeRedactionCounts(), eventTypes: normalizer.takeEventTypes() };
}

export async function ingestEvents(
  pipeline: IngestPipeline,
  body: Buffer,
  contentType: string | undefined,
  ctx: IngestContext,
): Promise<EventsAnswer> {
  pipeline.countBytes(ENDPOINT, body.length);
  const { record, rejected, redactions } = await pipeline.prepareRows(body, contentType, ctx);
  pipeline.countRedactions(redactions);
  const codes = rejected.map((r) => r.code);
  if (record.rows === 0) {
    pipeline.countRejected(ENDPOINT, codes);
    const first = rejected[0];
    throw new AppError(
      400,
      'ingest.no_valid_events',
      `No valid event in the request${first ? `; first problem: ${first.message}` : ''}`,
      {
        details: { ...answer(0, rejected) },
      },
    );
  }
  await pipeline.commitRows(ENDPOINT, record, codes);
  return answer(record.rows, rejected);
}

function answer(accepted: number, rejected: ItemRejection[]): EventsAnswer {
  if (rejected.length <= MAX_LISTED_REJECTIONS) return { accepted, rejected };
  return { accepted, rejected: rejected.slice(0, MAX_LISTED_REJECTIONS), rejectedCount: rejected.length };
}
