/**
 * OTLP logs → events. Each log record becomes one event of type `log`:
 * severity → `log.level`, body → `message`, trace and span ids kept (so a
 * log line links to its trace), resource attributes (`service.name`,
 * `deployment.environment`, `k8s.pod.name`, ...) and the record's own
 * attributes under their dotted names, which land in typed columns where
 * one exists (src/schema/fields.ts). The events go through the ingest
 * pipeline like NDJSON events (redaction, normalisation, the ingest log),
 * so the answer comes once they are durable.
 */
import { AppError } from '../errors.ts';
import type { EventRecord } from '../schema/record.ts';
import {
  anyValue,
  attributes,
  decodeOtlpRequest,
  hexId,
  idProblem,
  nanosToIso,
  resourceOf,
  scopeAttrs,
  type OtlpEncoding,
  type OtlpOutcome,
} from './otlp-common.ts';
import type { IngestContext, IngestPipeline } from './pipeline.ts';

const ENDPOINT = 'otlp_logs';

/** SeverityNumber ranges (OTLP logs data model) → the level names Shoplens uses. */
export function severityLevel(number: number | undefined, text: string | undefined): string | undefined {
  if (number !== undefined && number > 0) {
    if (number <= 4) return 'TRACE';
    if (number <= 8) return 'DEBUG';
    if (number <= 12) return 'INFO';
    if (number <= 16) return 'WARN';
    if (number <= 20) return 'ERROR';
    return 'FATAL';
  }
  const t = text?.trim().toUpperCase();
  if (!t) return undefined;
  return t === 'WARNING' ? 'WARN' : t;
}

interface OtlpLogRecord {
  timeUnixNano?: string;
  observedTimeUnixNano?: string;
  severityNumber?: number;
  severityText?: string;
  body?: unknown;
  attributes?: unknown;
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  eventName?: string;
}

/** One OTLP log record as a raw event, or what is wrong with it. */
export function logRecordToRaw(
  record: OtlpLogRecord,
  resource: Record<string, unknown>,
  scope: Record<string, unknown>,
): { ok: true; raw: Record<string, unknown> } | { ok: false; message: string } {
  const problem = idProblem(record.traceId, 'traceId', 16, false) ?? idProblem(record.spanId, 'spanId', 8, false);
  if (problem) return { ok: false, message: problem };
  const raw: Record<string, unknown> = { ...resource, ...scope, ...attributes(record.attributes) };
  raw['event.type'] = 'log';
  const ts = nanosToIso(record.timeUnixNano) ?? nanosToIso(record.observedTimeUnixNano);
  if (ts) raw['@timestamp'] = ts;
  const level = severityLevel(record.severityNumber, record.severityText);
  if (level) raw['log.level'] = level;
  if (record.severityNumber) raw['otel.severity_number'] = record.severityNumber;
  if (record.eventName) raw['otel.event_name'] = record.eventName;
  const body = anyValue(record.body);
  if (typeof body === 'string') raw['message'] = body;
  else if (body !== undefined) raw['message'] = JSON.stringify(body);
  const traceId = hexId(record.traceId);
  const spanId = hexId(record.spanId);
  if (traceId) raw['trace_id'] = traceId;
  if (spanId) raw['span_id'] = spanId;
  return { ok: true, raw };
}

/** Ingests one ExportLogsServiceRequest body (already decompressed). */
export async function ingestOtlpLogs(
  pipeline: IngestPipeline,
  body: Buffer,
  encoding: OtlpEncoding,
  ctx: IngestContext,
): Promise<OtlpOutcome> {
  pipeline.countBytes(ENDPOINT, body.length);
  const request = decodeOtlpRequest('logs', body, encoding);
  const records: EventRecord[] = [];
  const codes: string[] = [];
  const errors: string[] = [];
  const resourceLogs = (request['resourceLogs'] as Record<string, unknown>[] | undefined) ?? [];
  resourceLogs.forEach((rl, ri) => {
    const { attrs } = resourceOf(rl['resource']);
    const scopeLogs = (rl['scopeLogs'] as Record<string, unknown>[] | undefined) ?? [];
    scopeLogs.forEach((sl, si) => {
      const scope = scopeAttrs(sl['scope']);
      const logRecords = (sl['logRecords'] as OtlpLogRecord[] | undefined) ?? [];
      logRecords.forEach((lr, li) => {
        const where = `resourceLogs[${ri}].scopeLogs[${si}].logRecords[${li}]`;
        const mapped = logRecordToRaw(lr, attrs, scope);
        if (!mapped.ok) {
          codes.push('otlp.invalid_log_record');
          errors.push(`${where}: ${mapped.message}`);
          return;
        }
        const normalized = pipeline.normalize(mapped.raw, ctx);
        if (!normalized.ok) {
          codes.push(normalized.code);
          errors.push(`${where}: ${normalized.message}`);
          return;
        }
        records.push(normalized.record);
      });
    });
  });
  if (records.length === 0 && errors.length > 0) {
    pipeline.countRejected(ENDPOINT, codes);
    throw new AppError(
      400,
      'otlp.no_valid_log_records',
      `No valid log record in the request; first problem: ${errors[0]}`,
    );
  }
  await pipeline.commit(ENDPOINT, records, codes);
  return { accepted: records.length, rejected: errors.length, errors };
}
