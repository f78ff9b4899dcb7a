/**
 * Sentry's ingestion protocol: envelopes (`POST /api/{project}/envelope/`,
 * https://develop.sentry.dev/sdk/data-model/envelopes/) and the legacy store
 * endpoint (`POST /api/{project}/store/`, one event as JSON), so that an
 * unmodified Sentry SDK reports its errors to Shoplens by its DSN.
 *
 * Envelopes are decoded by @sentry/core's `parseEnvelope`, the SDKs' own
 * implementation. It gives up on the whole envelope at the first item that
 * is not JSON; then the envelope is framed again item by item (header line,
 * then `length` bytes or one line, as the format defines) so that its good
 * items are kept and the bad one is named.
 *
 * `event` items are mapped (sentry-event.ts), normalised and redacted like
 * every other event, and committed; every other item type (sessions, client
 * reports, attachments, transactions, replays, check-ins, logs, …) is
 * accepted and dropped, so that SDKs never retry them.
 */
import { AppError } from '../errors.ts';
import type { EventRecord } from '../schema/record.ts';
import type { IngestContext, IngestPipeline } from './pipeline.ts';
import { sentryEventToRaw } from './sentry-event.ts';

const ENDPOINT = 'sentry';
/** Most items read from one envelope. */
const MAX_ITEMS = 1000;

type Item = { readonly header: unknown; readonly payload: unknown } | { readonly error: string };

export interface SentryItemResult {
  readonly index: number;
  readonly type: string;
  /** stored, dropped (a type Shoplens does not use) or rejected. */
  readonly outcome: 'stored' | 'dropped' | 'rejected';
  readonly code?: string;
  readonly message?: string;
}

export interface SentryAnswer {
  /** The id of the (first) stored event, as Sentry answers. */
  readonly id: string | null;
  readonly items: readonly SentryItemResult[];
}

type ParseEnvelope = (env: string | Uint8Array) => [unknown, [unknown, unknown][]];
let parseEnvelopeFn: Promise<ParseEnvelope> | undefined;

/** @sentry/core loads on the first envelope (a tenth of a second), not at every server start. */
function libraryParser(): Promise<ParseEnvelope> {
  parseEnvelopeFn ??= import('@sentry/core').then((m) => m.parseEnvelope as unknown as ParseEnvelope);
  return parseEnvelopeFn;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function json(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(decoder.decode(bytes)) };
  } catch {
    return { ok: false };
  }
}

/**
 * The envelope framed item by item (the format's rules), for when
 * parseEnvelope refused it: a bad item costs only itself (and, when its
 * header is unreadable, what follows, which can no longer be framed).
 */
function frameItems(body: Uint8Array): { header: unknown; items: Item[] } {
  let pos = 0;
  const line = (): Uint8Array => {
    let end = body.indexOf(10, pos);
    if (end < 0) end = body.length;
    const out = body.subarray(pos, end);
    pos = end + 1;
    return out;
  };
  const first = json(line());
  if (!first.ok) throw new AppError(400, 'sentry.invalid_envelope', 'The envelope header (line 1) is not JSON');
  const items: Item[] = [];
  while (pos < body.length && items.length < MAX_ITEMS) {
    const headerBytes = line();
    if (headerBytes.length === 0) continue;
    const header = json(headerBytes);
    if (!header.ok || header.value === null || typeof header.value !== 'object') {
      items.push({
        error: `item ${items.length + 1}: its header is not a JSON object; the rest of the envelope cannot be read`,
      });
      break;
    }
    const length = (header.value as Record<string, unknown>)['length'];
    let payload: Uint8Array;
    if (typeof length === 'number' && Number.isInteger(length) && length >= 0) {
      payload = body.subarray(pos, pos + length);
      pos += length;
      if (body[pos] === 10) pos++;
    } else payload = line();
    items.push({ header: header.value, payload });
  }
  return { header: first.value, items };
}

async function decodeEnvelope(body: Buffer): Promise<{ header: unknown; items: Item[] }> {
  if (body.length === 0) throw new AppError(400, 'sentry.invalid_envelope', 'The envelope is empty');
  try {
    const [header, items] = (await libraryParser())(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    if (header === null || typeof header !== 'object') throw new Error('header is not an object');
    return { header, items: items.slice(0, MAX_ITEMS).map(([h, payload]) => ({ header: h, payload })) };
  } catch (err) {
    if (err instanceof AppError) throw err;
    return frameItems(body);
  }
}

function itemType(header: unknown): string {
  const type = header !== null && typeof header === 'object' ? (header as Record<string, unknown>)['type'] : undefined;
  return typeof type === 'string' ? type.slice(0, 64) : '';
}

/** An item payload as JSON: parseEnvelope gives bytes for items with a `length`. */
function payloadJson(payload: unknown): { ok: true; value: unknown } | { ok: false } {
  if (payload instanceof Uint8Array) return json(payload);
  return { ok: true, value: payload };
}

/** Maps, normalises and commits the events; durable when it resolves. */
async function commitEvents(
  pipeline: IngestPipeline,
  events: { index: number; type: string; value: unknown }[],
  projectId: string,
  ctx: IngestContext,
  results: SentryItemResult[],
): Promise<string | null> {
  const records: EventRecord[] = [];
  const codes: string[] = [];
  let id: string | null = null;
  for (const e of events) {
    const mapped = sentryEventToRaw(e.value, projectId);
    if (!mapped.ok) {
      results.push({
        index: e.index,
        type: e.type,
        outcome: 'rejected',
        code: mapped.code,
        message: `item ${e.index}: ${mapped.message}`,
      });
      codes.push(mapped.code);
      continue;
    }
    const normalized = pipeline.normalize(mapped.raw, ctx);
    if (!normalized.ok) {
      results.push({
        index: e.index,
        type: e.type,
        outcome: 'rejected',
        code: normalized.code,
        message: `item ${e.index}: ${normalized.message}`,
      });
      codes.push(normalized.code);
      continue;
    }
    records.push(normalized.record);
    results.push({ index: e.index, type: e.type, outcome: 'stored' });
    id ??= mapped.eventId ?? null;
  }
  await pipeline.commit(ENDPOINT, records, codes);
  return id;
}

/** Everything rejected and nothing stored: a 400 naming the first problem (Sentry SDKs drop, not retry, on 400). */
function refuseIfNothingGood(results: readonly SentryItemResult[]): void {
  const rejected = results.filter((r) => r.outcome === 'rejected');
  if (rejected.length === 0 || rejected.length < results.length) return;
  throw new AppError(400, rejected[0]?.code ?? 'sentry.invalid_event', rejected[0]?.message ?? 'No valid item', {
    details: { items: results },
  });
}

/** Ingests one envelope body (already decompressed). */
export async function ingestEnvelope(
  pipeline: IngestPipeline,
  body: Buffer,
  projectId: string,
  ctx: IngestContext,
): Promise<SentryAnswer> {
  pipeline.countBytes(ENDPOINT, body.length);
  const { items } = await decodeEnvelope(body);
  const results: SentryItemResult[] = [];
  const framingCodes: string[] = [];
  const events: { index: number; type: string; value: unknown }[] = [];
  items.forEach((item, i) => {
    const index = i + 1;
    if ('error' in item) {
      results.push({ index, type: '', outcome: 'rejected', code: 'sentry.invalid_item', message: item.error });
      framingCodes.push('sentry.invalid_item');
      return;
    }
    const type = itemType(item.header);
    if (type !== 'event') {
      results.push({ index, type, outcome: 'dropped' });
      return;
    }
    const payload = payloadJson(item.payload);
    if (!payload.ok) {
      results.push({
        index,
        type,
        outcome: 'rejected',
        code: 'sentry.invalid_json',
        message: `item ${index}: the event is not JSON`,
      });
      framingCodes.push('sentry.invalid_json');
      return;
    }
    events.push({ index, type, value: payload.value });
  });
  const id = events.length > 0 ? await commitEvents(pipeline, events, projectId, ctx, results) : null;
  results.sort((a, b) => a.index - b.index);
  pipeline.countRejected(ENDPOINT, framingCodes);
  refuseIfNothingGood(results);
  return { id, items: results };
}

/** Ingests one event sent to the legacy store endpoint (already decompressed). */
export async function ingestStoreEvent(
  pipeline: IngestPipeline,
  body: Buffer,
  projectId: string,
  ctx: IngestContext,
): Promise<SentryAnswer> {
  pipeline.countBytes(ENDPOINT, body.length);
  const parsed = json(body);
  if (!parsed.ok) throw new AppError(400, 'sentry.invalid_json', 'The body is not a JSON event');
  const results: SentryItemResult[] = [];
  const id = await commitEvents(pipeline, [{ index: 1, type: 'event', value: parsed.value }], projectId, ctx, results);
  refuseIfNothingGood(results);
  return { id, items: results };
}
