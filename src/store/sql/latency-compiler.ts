/**
 * Percentiles of `event.duration` from the hourly latency histograms
 * (`latency_1h`, see rollups.ts): whole hours from the histograms, the
 * rest of the range from raw events put in the same buckets, merged per
 * group; a percentile interpolates, as `quantile_cont` does at position
 * p × (n − 1), between the middles of the buckets holding the values on
 * either side of that position, each within 1 % of the value it stands
 * for. Counts are exact.
 */
import type { GroupKey, Stage } from '../../query/ir.ts';
import type { ResultColumn, ResultType } from '../store.ts';
import { LATENCY_DIMENSIONS, latencyBucketSql, latencyValueSql, type UnionPart } from './rollups.ts';

export interface LatencyStatsInput {
  readonly quote: (name: string) => string;
  readonly stage: Extract<Stage, { kind: 'stats' }>;
  /** Raw events and histogram rows of the range. */
  readonly parts: readonly UnionPart[];
  /** How the query compiler groups by a key over the relation (display SQL, type, GROUP BY SQL). */
  readonly groupKey: (key: GroupKey) => { sql: string; type: ResultType; groupSql?: string };
}

export function latencyStatsTable(input: LatencyStatsInput): {
  sql: string;
  columns: ResultColumn[];
  order: string[];
} {
  const { quote: q, stage } = input;
  const dims = ['tenant', 'data_class', 'ts', ...LATENCY_DIMENSIONS].map(q);
  const relation = input.parts
    .map((p) => {
      const bucket = p.rollup
        ? `${q('bucket')} AS __bucket, ${q('events')} AS __n`
        : `${latencyBucketSql(q('duration_ms'))} AS __bucket, 1 AS __n`;
      return `SELECT ${dims.join(', ')}, ${bucket} FROM ${q(p.table)} WHERE ${p.where}`;
    })
    .join(' UNION ALL ');

  const keys = stage.by.map((k) => ({ key: k, ...input.groupKey(k) }));
  const keyNames = keys.map((_, i) => `__k${i}`);
  // 1. Events per group and bucket.
  const select1 = [...keys.map((k, i) => `${k.sql} AS ${keyNames[i]}`), '__bucket', 'sum(__n) AS __n'];
  const group1 = [...keys.map((k) => k.groupSql ?? k.sql), '__bucket'];
  const merged = `SELECT ${select1.join(', ')} FROM (${relation}) AS e GROUP BY ${group1.join(', ')}`;
  // 2. Running count over the buckets of each group, and the events with a duration.
  const partition = keyNames.length > 0 ? `PARTITION BY ${keyNames.join(', ')} ` : '';
  const running =
    `SELECT *, sum(__n) OVER (${partition}ORDER BY __bucket NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __cum, ` +
    `sum(CASE WHEN __bucket IS NULL THEN 0 ELSE __n END) OVER (${partition.trim()}) AS __valued FROM (${merged}) AS m`;
  // 3. One row per group.
  const columns: ResultColumn[] = [];
  const select3: string[] = [];
  keys.forEach((k, i) => {
    select3.push(`${keyNames[i]} AS ${q(k.key.as)}`);
    columns.push({ name: k.key.as, type: k.type });
  });
  for (const agg of stage.aggs) {
    if (agg.fn === 'count') {
      select3.push(`sum(__n) AS ${q(agg.as)}`);
      columns.push({ name: agg.as, type: 'integer' });
    } else {
      // Between the buckets of the values at floor(pos) and ceil(pos), interpolated like quantile_cont.
      const pos = `${(agg.percentile ?? 50) / 100} * (__valued - 1)`;
      const at = (rank: string) =>
        `min(CASE WHEN __bucket IS NOT NULL AND __cum > ${rank} THEN ${latencyValueSql('__bucket')} END)`;
      const lower = at(`floor(${pos})`);
      const upper = at(`ceil(${pos})`);
      const weight = `(max(${pos}) - floor(max(${pos})))`;
      select3.push(`${lower} + (${upper} - ${lower}) * ${weight} AS ${q(agg.as)}`);
      columns.push({ name: agg.as, type: 'double' });
    }
  }
  let sql = `SELECT ${select3.join(', ')} FROM (${running}) AS w`;
  if (keyNames.length > 0) sql += ` GROUP BY ${keyNames.join(', ')}`;
  // Time series read left to right; other breakdowns biggest first (as plain stats).
  const timeKeys = keys.filter((k) => k.key.kind === 'bin').map((k) => q(k.key.as));
  const first = stage.aggs[0];
  const order =
    timeKeys.length > 0
      ? [...timeKeys, ...keys.filter((k) => k.key.kind !== 'bin').map((k) => q(k.key.as))]
      : keys.length > 0 && first
        ? [`${q(first.as)} DESC`, ...keys.map((k) => q(k.key.as))]
        : [];
  return { sql, columns, order };
}
