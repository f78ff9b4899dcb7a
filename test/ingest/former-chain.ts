/**
 * The former prepare chain, kept for the differential test of the one-pass
 * row writer (one-pass.test.ts): each item parsed, then
 * Normalizer.normalize (redactEvent → normalizeEvent → markRedactions),
 * then toRowLine, with the body read as prepareEvents read it before the
 * one pass (src/ingest/events-ndjson.ts at 150e6fc).
 */
import { AppError } from '../../src/errors.ts';
import { parseJson, splitLines } from '../../src/ingest/body.ts';
import type { ItemRejection, PreparedEvents } from '../../src/ingest/events-ndjson.ts';
import type { IngestContext, Normalizer } from '../../src/ingest/normalizer.ts';
import { toRowLine, type StoredEvent } from '../../src/schema/record.ts';

interface RawItem {
  readonly where: { line: number } | { index: number };
  readonly value?: unknown;
  readonly error?: { code: string; message: string };
}

function readItems(body: Buffer, contentType: string | undefined, maxLineBytes: number): RawItem[] {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const lines = splitLines(body, maxLineBytes);
  if (lines.length === 0) throw new AppError(400, 'ingest.empty_body', 'The request body is empty');
  const first = lines[0];
  const startsArray = first !== undefined && 'text' in first && first.text.trimStart().startsWith('[');
  const ndjson = lines.every(
    (l) => 'text' in l && l.text.trimStart().startsWith('{') && l.text.trimEnd().endsWith('}'),
  );
  if (startsArray || (type === 'application/json' && lines.length > 1 && !ndjson)) {
    const whole = parseJson(body.toString('utf8'));
    if (whole.ok && Array.isArray(whole.value)) return whole.value.map((value, index) => ({ where: { index }, value }));
    if (whole.ok) return [{ where: { line: 1 }, value: whole.value }];
    if (lines.length === 1)
      return [{ where: { line: 1 }, error: { code: 'ingest.invalid_json', message: `body: ${whole.message}` } }];
  }
  return lines.map((l) => {
    if ('error' in l) return { where: { line: l.line }, error: l.error };
    const parsed = parseJson(l.text);
    return parsed.ok
      ? { where: { line: l.line }, value: parsed.value }
      : {
          where: { line: l.line },
          error: { code: 'ingest.invalid_json', message: `line ${l.line}: ${parsed.message}` },
        };
  });
}

/** prepareEvents as it was: the chain per item. */
export function formerPrepareEvents(
  normalizer: Normalizer,
  body: Buffer,
  contentType: string | undefined,
  ctx: IngestContext,
): PreparedEvents {
  const rows: StoredEvent[] = [];
  const rejected: ItemRejection[] = [];
  const types = new Set<string>();
  for (const item of readItems(body, contentType, normalizer.config.maxLineBytes)) {
    if (item.error) {
      rejected.push({ ...item.where, ...item.error });
      continue;
    }
    const result = normalizer.normalize(item.value, ctx);
    const label = 'line' in item.where ? `line ${item.where.line}` : `item ${item.where.index}`;
    if (result.ok) {
      rows.push(toRowLine(result.record));
      const type = result.record.columns['event_type'];
      types.add(typeof type === 'string' ? type : '');
    } else rejected.push({ ...item.where, code: result.code, message: `${label}: ${result.message}` });
  }
  return {
    rows,
    rejected,
    redactions: normalizer.takeRedactionCounts(),
    eventTypes: types.size > 64 ? null : [...types],
  };
}

/** The former chain for one parsed event: its row line, or its rejection. */
export function formerRow(normalizer: Normalizer, raw: unknown, ctx: IngestContext): string | ItemRejection {
  const result = normalizer.normalize(raw, ctx);
  return result.ok ? toRowLine(result.record) : { code: result.code, message: result.message };
}
