/**
 * OTLP metrics → metric points, stored as events of type `metric` (one per
 * data point) through the ingest pipeline, so they are redacted, durable
 * when acknowledged and queryable with the query language like any event:
 * `event.type:metric metric.name:http.server.duration | stats avg(metric.value) by http.route`.
 *
 * Fields of a point: `metric.name`, `metric.type` (gauge, sum, histogram,
 * exponential_histogram, summary), `metric.unit`, `metric.description`;
 * gauges and sums `metric.value` (sums also `metric.monotonic` and
 * `metric.temporality`: delta or cumulative); histograms `metric.count`,
 * `metric.sum`, `metric.min`, `metric.max`, `metric.bucket_counts`,
 * `metric.explicit_bounds`; exponential histograms `metric.scale`,
 * `metric.zero_count` and their positive/negative buckets; summaries
 * `metric.count`, `metric.sum` and `metric.quantiles`. The point's start
 * time is `metric.start_time`; its attributes and the resource's keep their
 * dotted names.
 */
import { AppError } from '../errors.ts';
import type { EventRecord } from '../schema/record.ts';
import {
  attributes,
  decodeOtlpRequest,
  int64,
  nanosToIso,
  resourceOf,
  scopeAttrs,
  type OtlpEncoding,
  type OtlpOutcome,
} from './otlp-common.ts';
import type { IngestContext, IngestPipeline } from './pipeline.ts';

const ENDPOINT = 'otlp_metrics';
const TEMPORALITY = ['unspecified', 'delta', 'cumulative'];
const KINDS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;
const KIND_NAMES: Record<(typeof KINDS)[number], string> = {
  gauge: 'gauge',
  sum: 'sum',
  histogram: 'histogram',
  exponentialHistogram: 'exponential_histogram',
  summary: 'summary',
};

type Point = Record<string, unknown>;

function numberValue(p: Point): number | undefined {
  if (p['asDouble'] !== undefined) return Number(p['asDouble']);
  if (p['asInt'] !== undefined) return Number(p['asInt']);
  return undefined;
}

function counts(v: unknown): number[] {
  return Array.isArray(v) ? v.map((c) => Number(c)) : [];
}

/** The fields of one data point of a metric of `kind`, or what is wrong with it. */
function pointFields(kind: (typeof KINDS)[number], p: Point): Record<string, unknown> | string {
  const out: Record<string, unknown> = {};
  if (kind === 'gauge' || kind === 'sum') {
    const value = numberValue(p);
    if (value === undefined || !Number.isFinite(value)) return 'the point has no value (asDouble or asInt)';
    out['metric.value'] = value;
  } else if (kind === 'histogram') {
    out['metric.count'] = int64(p['count']) ?? 0;
    if (p['sum'] !== undefined) out['metric.sum'] = p['sum'];
    if (p['min'] !== undefined) out['metric.min'] = p['min'];
    if (p['max'] !== undefined) out['metric.max'] = p['max'];
    const buckets = counts(p['bucketCounts']);
    const bounds = Array.isArray(p['explicitBounds']) ? (p['explicitBounds'] as number[]) : [];
    if (buckets.length > 0 && buckets.length !== bounds.length + 1) {
      return `bucketCounts has ${buckets.length} entries; with ${bounds.length} explicitBounds it must have ${bounds.length + 1}`;
    }
    out['metric.bucket_counts'] = buckets;
    out['metric.explicit_bounds'] = bounds;
  } else if (kind === 'exponentialHistogram') {
    out['metric.count'] = int64(p['count']) ?? 0;
    if (p['sum'] !== undefined) out['metric.sum'] = p['sum'];
    if (p['min'] !== undefined) out['metric.min'] = p['min'];
    if (p['max'] !== undefined) out['metric.max'] = p['max'];
    out['metric.scale'] = p['scale'] ?? 0;
    out['metric.zero_count'] = int64(p['zeroCount']) ?? 0;
    const pos = (p['positive'] ?? {}) as { offset?: number; bucketCounts?: unknown };
    const neg = (p['negative'] ?? {}) as { offset?: number; bucketCounts?: unknown };
    out['metric.positive_offset'] = pos.offset ?? 0;
    out['metric.positive_bucket_counts'] = counts(pos.bucketCounts);
    out['metric.negative_offset'] = neg.offset ?? 0;
    out['metric.negative_bucket_counts'] = counts(neg.bucketCounts);
  } else {
    out['metric.count'] = int64(p['count']) ?? 0;
    out['metric.sum'] = p['sum'] ?? 0;
    const q = Array.isArray(p['quantileValues'])
      ? (p['quantileValues'] as { quantile?: number; value?: number }[])
      : [];
    out['metric.quantiles'] = q.map((x) => ({ quantile: x.quantile ?? 0, value: x.value ?? 0 }));
  }
  return out;
}

/** Ingests one ExportMetricsServiceRequest body (already decompressed). */
export async function ingestOtlpMetrics(
  pipeline: IngestPipeline,
  body: Buffer,
  encoding: OtlpEncoding,
  ctx: IngestContext,
): Promise<OtlpOutcome> {
  pipeline.countBytes(ENDPOINT, body.length);
  const request = decodeOtlpRequest('metrics', body, encoding);
  const records: EventRecord[] = [];
  const codes: string[] = [];
  const errors: string[] = [];
  const reject = (code: string, message: string): void => {
    codes.push(code);
    errors.push(message);
  };
  const resourceMetrics = (request['resourceMetrics'] as Record<string, unknown>[] | undefined) ?? [];
  resourceMetrics.forEach((rm, ri) => {
    const { attrs } = resourceOf(rm['resource']);
    const scopeMetrics = (rm['scopeMetrics'] as Record<string, unknown>[] | undefined) ?? [];
    scopeMetrics.forEach((sm, si) => {
      const scope = scopeAttrs(sm['scope']);
      const metrics = (sm['metrics'] as Record<string, unknown>[] | undefined) ?? [];
      metrics.forEach((m, mi) => {
        const where = `resourceMetrics[${ri}].scopeMetrics[${si}].metrics[${mi}]`;
        const name = typeof m['name'] === 'string' ? m['name'] : '';
        const kind = KINDS.find((k) => m[k] !== undefined);
        if (!kind) {
          // A metric of a type this server does not know (or none): its points cannot be read; counted as one.
          reject(
            'otlp.unknown_metric_type',
            `${where} ("${name}"): no known data type (gauge, sum, histogram, exponentialHistogram, summary)`,
          );
          return;
        }
        if (name === '') {
          reject('otlp.invalid_metric', `${where}: name is missing`);
          return;
        }
        const data = m[kind] as { dataPoints?: Point[]; aggregationTemporality?: number; isMonotonic?: boolean };
        const common: Record<string, unknown> = {
          ...attrs,
          ...scope,
          'event.type': 'metric',
          'metric.name': name,
          'metric.type': KIND_NAMES[kind],
        };
        if (typeof m['unit'] === 'string' && m['unit'] !== '') common['metric.unit'] = m['unit'];
        if (typeof m['description'] === 'string' && m['description'] !== '')
          common['metric.description'] = m['description'];
        if (data.aggregationTemporality !== undefined) {
          common['metric.temporality'] = TEMPORALITY[data.aggregationTemporality] ?? 'unspecified';
        }
        if (kind === 'sum') common['metric.monotonic'] = data.isMonotonic === true;
        (data.dataPoints ?? []).forEach((p, pi) => {
          const pointWhere = `${where} ("${name}").dataPoints[${pi}]`;
          const fields = pointFields(kind, p);
          if (typeof fields === 'string') {
            reject('otlp.invalid_data_point', `${pointWhere}: ${fields}`);
            return;
          }
          const raw: Record<string, unknown> = { ...common, ...attributes(p['attributes']), ...fields };
          const ts = nanosToIso(p['timeUnixNano']);
          if (ts) raw['@timestamp'] = ts;
          const start = nanosToIso(p['startTimeUnixNano']);
          if (start) raw['metric.start_time'] = start;
          const normalized = pipeline.normalize(raw, ctx);
          if (!normalized.ok) {
            reject(normalized.code, `${pointWhere}: ${normalized.message}`);
            return;
          }
          records.push(normalized.record);
        });
      });
    });
  });
  if (records.length === 0 && errors.length > 0) {
    pipeline.countRejected(ENDPOINT, codes);
    throw new AppError(
      400,
      'otlp.no_valid_data_points',
      `No valid data point in the request; first problem: ${errors[0]}`,
    );
  }
  await pipeline.commit(ENDPOINT, records, codes);
  return { accepted: records.length, rejected: errors.length, errors };
}
