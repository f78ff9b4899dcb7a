/**
 * Elasticsearch `_bulk`: action/metadata lines followed by source lines,
 * answered item by item in Elasticsearch's shape so that the official
 * clients and log shippers (Filebeat, Logstash, Fluent Bit, Vector) deliver
 * unmodified. `index` and `create` are supported; `update` and `delete` get
 * a per-item error.
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html
 */
import { randomBytes } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { EventRecord } from '../schema/record.ts';
import { parseJson, splitLines, type BodyLine } from './body.ts';
import type { IngestContext, IngestPipeline } from './pipeline.ts';

const ENDPOINT = 'elasticsearch_bulk';

/** An Elasticsearch error object. */
export interface EsError {
  readonly type: string;
  readonly reason: string;
}

/** One entry of `items[]`: `{ "<action>": { ... } }`. */
export type BulkItem = Record<
  string,
  {
    _index: string;
    _id: string | null;
    status: number;
    result?: 'created' | 'updated';
    _version?: number;
    _seq_no?: number;
    _primary_term?: number;
    _shards?: { total: number; successful: number; failed: number };
    error?: EsError;
  }
>;

export interface BulkAnswer {
  readonly took: number;
  readonly errors: boolean;
  readonly items: BulkItem[];
}

/** Elasticsearch-style document ids: 20 URL-safe characters. */
export function newDocumentId(): string {
  return randomBytes(15).toString('base64url');
}

interface Pending {
  readonly action: string;
  readonly index: string;
  readonly id: string;
  readonly explicitId: boolean;
  readonly record: EventRecord;
  readonly itemIndex: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** An Elasticsearch error answer for the whole request. */
export class EsRequestError extends AppError {
  constructor(status: number, type: string, reason: string) {
    super(status, `elasticsearch.${type}`, reason);
  }

  toBody(): { error: { root_cause: EsError[]; type: string; reason: string }; status: number } {
    const type = this.code.replace(/^elasticsearch\./, '');
    return { error: { root_cause: [{ type, reason: this.message }], type, reason: this.message }, status: this.status };
  }
}

export async function ingestBulk(
  pipeline: IngestPipeline,
  existingIds: (tenant: string, ids: string[]) => Promise<Set<string>>,
  body: Buffer,
  defaultIndex: string | undefined,
  ctx: IngestContext,
): Promise<BulkAnswer> {
  const started = performance.now();
  pipeline.countBytes(ENDPOINT, body.length);
  // Index names and ids are stored and echoed in answers: redacted like event values.
  const urlMarker: string[] = [];
  const urlIndex = defaultIndex === undefined ? undefined : pipeline.redactText(defaultIndex, urlMarker);
  const lines = splitLines(body, pipeline.config.maxLineBytes);
  if (lines.length === 0) throw new EsRequestError(400, 'parse_exception', 'request body is required');

  const items: BulkItem[] = [];
  const pending: Pending[] = [];
  const rejectedCodes: string[] = [];
  const fail = (
    action: string,
    index: string,
    id: string | null,
    status: number,
    type: string,
    reason: string,
  ): void => {
    items.push({ [action]: { _index: index, _id: id, status, error: { type, reason } } });
    rejectedCodes.push(`elasticsearch.${type}`);
  };

  for (let i = 0; i < lines.length; i++) {
    const actionLine = lines[i] as BodyLine;
    if ('error' in actionLine) {
      fail('index', urlIndex ?? '', null, 400, 'illegal_argument_exception', actionLine.error.message);
      i++; // its source line goes with it
      continue;
    }
    const parsedAction = parseJson(actionLine.text);
    const meta = parsedAction.ok && isObject(parsedAction.value) ? parsedAction.value : undefined;
    const rawAction = meta ? Object.keys(meta)[0] : undefined;
    if (!meta || rawAction === undefined || Object.keys(meta).length !== 1 || !isObject(meta[rawAction])) {
      const reason = parsedAction.ok
        ? `line ${actionLine.line}: expected an action line like {"index":{}} or {"create":{"_index":"logs-shop"}}`
        : `line ${actionLine.line}: action line is ${parsedAction.message}`;
      fail('index', urlIndex ?? '', null, 400, 'illegal_argument_exception', reason);
      i++;
      continue;
    }
    const params = meta[rawAction] as Record<string, unknown>;
    const action = pipeline.redactText(rawAction);
    const metaMarker: string[] = [];
    const index = typeof params['_index'] === 'string' ? pipeline.redactText(params['_index'], metaMarker) : urlIndex;
    if (typeof params['_index'] !== 'string') metaMarker.push(...urlMarker);
    const explicitId =
      typeof params['_id'] === 'string' && params['_id'] !== ''
        ? pipeline.redactText(params['_id'], metaMarker)
        : undefined;
    if (action === 'delete') {
      fail(
        'delete',
        index ?? '',
        explicitId ?? null,
        400,
        'illegal_argument_exception',
        `line ${actionLine.line}: Shoplens does not delete events through _bulk; use the erasure API`,
      );
      continue; // delete has no source line
    }
    const sourceLine = lines[i + 1];
    i++;
    if (action !== 'index' && action !== 'create') {
      fail(
        action,
        index ?? '',
        explicitId ?? null,
        400,
        'illegal_argument_exception',
        `line ${actionLine.line}: unsupported bulk action "${action}"; Shoplens accepts index and create`,
      );
      continue;
    }
    if (index === undefined || index === '') {
      fail(
        action,
        '',
        explicitId ?? null,
        400,
        'action_request_validation_exception',
        `line ${actionLine.line}: index is missing; name it in the action or the URL (/{index}/_bulk)`,
      );
      continue;
    }
    if (!sourceLine) {
      fail(
        action,
        index,
        explicitId ?? null,
        400,
        'illegal_argument_exception',
        `line ${actionLine.line}: the action has no source line after it`,
      );
      continue;
    }
    if ('error' in sourceLine) {
      fail(action, index, explicitId ?? null, 400, 'mapper_parsing_exception', sourceLine.error.message);
      continue;
    }
    const source = parseJson(sourceLine.text);
    if (!source.ok) {
      fail(
        action,
        index,
        explicitId ?? null,
        400,
        'mapper_parsing_exception',
        `line ${sourceLine.line}: failed to parse: ${source.message}`,
      );
      continue;
    }
    const normalized = pipeline.normalize(source.value, ctx, index, metaMarker);
    if (!normalized.ok) {
      fail(
        action,
        index,
        explicitId ?? null,
        400,
        'document_parsing_exception',
        `line ${sourceLine.line}: ${normalized.message}`,
      );
      continue;
    }
    const id =
      explicitId ??
      (typeof normalized.record.columns['event_id'] === 'string'
        ? normalized.record.columns['event_id']
        : newDocumentId());
    normalized.record.columns['event_id'] = id;
    pending.push({
      action,
      index,
      id,
      explicitId: explicitId !== undefined,
      record: normalized.record,
      itemIndex: items.length,
    });
    items.push({ [action]: { _index: index, _id: id, status: 0 } });
  }

  // Explicit ids: `create` must not overwrite, `index` replaces. Within one
  // request the items apply in order, so a later `index` of an `_id` replaces
  // the earlier one of the same request too: only the last version is stored.
  const explicit = pending.filter((p) => p.explicitId).map((p) => p.id);
  const existing = explicit.length > 0 ? await existingIds(ctx.tenant, explicit) : new Set<string>();
  /** Version of each explicit `_id` after the items so far (1: created by this request). */
  const versions = new Map<string, number>();
  /** Position in `records` of the version of each explicit `_id` that this request stores. */
  const storedAt = new Map<string, number>();
  const records: (EventRecord | undefined)[] = [];
  let seqNo = 0;
  for (const p of pending) {
    const exists = p.explicitId && (existing.has(p.id) || versions.has(p.id));
    if (p.action === 'create' && exists) {
      items[p.itemIndex] = {
        create: {
          _index: p.index,
          _id: p.id,
          status: 409,
          error: {
            type: 'version_conflict_engine_exception',
            reason: `[${p.id}]: version conflict, document already exists (current version [${versions.get(p.id) ?? 1}])`,
          },
        },
      };
      rejectedCodes.push('elasticsearch.version_conflict_engine_exception');
      continue;
    }
    // Shoplens keeps no version numbers: a document stored before this request counts as version 1.
    const version = exists ? (versions.get(p.id) ?? 1) + 1 : 1;
    if (p.explicitId) {
      versions.set(p.id, version);
      const earlier = storedAt.get(p.id);
      if (earlier !== undefined) records[earlier] = undefined;
      storedAt.set(p.id, records.length);
    }
    // Every explicit-id `index` is an upsert in the store, so that concurrent
    // requests for one `_id` still leave one event (the store dedupes per batch).
    if (p.explicitId) p.record.replaceExisting = true;
    records.push(p.record);
    items[p.itemIndex] = {
      [p.action]: {
        _index: p.index,
        _id: p.id,
        _version: version,
        result: exists ? 'updated' : 'created',
        _shards: { total: 1, successful: 1, failed: 0 },
        _seq_no: seqNo++,
        _primary_term: 1,
        status: exists ? 200 : 201,
      },
    };
  }
  await pipeline.commit(
    ENDPOINT,
    records.filter((r): r is EventRecord => r !== undefined),
    rejectedCodes,
  );
  return { took: Math.round(performance.now() - started), errors: rejectedCodes.length > 0, items };
}
