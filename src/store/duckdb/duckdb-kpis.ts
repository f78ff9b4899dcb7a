/**
 * The business KPIs of one loaded segment (src/store/kpis.ts), by one
 * aggregate query over the segment file: DuckDB's NDJSON reader parses only
 * the dozen columns the KPIs read (about a microsecond per row), and answers
 * a few rows per tenant and label set.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { DURATION_BUCKETS_S, type KpiDefinitions, type KpiDelta } from '../kpis.ts';
import { MAX_OBJECT_BYTES } from './duckdb-batch-writer.ts';
import { sqlString } from './duckdb-driver.ts';

const COLUMNS: Readonly<Record<string, string>> = {
  tenant: 'VARCHAR',
  event_type: 'VARCHAR',
  event_outcome: 'VARCHAR',
  channel: 'VARCHAR',
  region: 'VARCHAR',
  currency: 'VARCHAR',
  amount: 'DOUBLE',
  gateway: 'VARCHAR',
  processor_response: 'VARCHAR',
  service: 'VARCHAR',
  http_route: 'VARCHAR',
  http_status: 'BIGINT',
  duration_ms: 'DOUBLE',
};

export function kpiSql(path: string, defs: KpiDefinitions): string {
  const spec = Object.entries(COLUMNS)
    .map(([k, t]) => `${k}: '${t}'`)
    .join(', ');
  const buckets = DURATION_BUCKETS_S.map((b) => `count(*) FILTER (WHERE duration_ms <= ${b * 1000})`).join(', ');
  const route = sqlString(defs.checkoutRoute);
  return (
    `WITH s AS MATERIALIZED (SELECT * FROM read_ndjson(${sqlString(path)}, columns = {${spec}}, ` +
    `format = 'newline_delimited', maximum_object_size = ${MAX_OBJECT_BYTES}) ` +
    `WHERE event_type IN ('order_completed', 'payment_transaction', 'api_request') AND tenant IS NOT NULL) ` +
    `SELECT 'orders' AS kind, tenant, coalesce(channel, '') AS a, coalesce(region, '') AS b, coalesce(currency, '') AS c, ` +
    `count(*) AS n, coalesce(sum(amount), 0) AS v, NULL::BIGINT[] AS buckets FROM s WHERE event_type = 'order_completed' GROUP BY ALL ` +
    `UNION ALL SELECT 'payments', tenant, coalesce(gateway, ''), ` +
    `CASE WHEN processor_response = 'declined' THEN 'decline' WHEN event_outcome = 'failure' THEN 'technical_failure' ELSE 'success' END, ` +
    `'', count(*), 0, NULL FROM s WHERE event_type = 'payment_transaction' GROUP BY ALL ` +
    `UNION ALL SELECT 'checkouts', tenant, CASE WHEN http_status >= 500 THEN 'failure' ELSE 'success' END, '', '', count(*), 0, NULL ` +
    `FROM s WHERE event_type = 'api_request' AND http_route = ${route} GROUP BY ALL ` +
    `UNION ALL SELECT 'request_duration', tenant, coalesce(service, ''), coalesce(http_route, ''), '', count(*), ` +
    `sum(duration_ms) / 1000, [${buckets}] FROM s WHERE event_type = 'api_request' AND duration_ms >= 0 GROUP BY ALL`
  );
}

/** The KPIs of the rows in `path` (an ingest log segment or a staged copy). */
export async function segmentKpis(c: DuckDBConnection, path: string, defs: KpiDefinitions): Promise<KpiDelta[]> {
  const rows = (await c.runAndReadAll(kpiSql(path, defs))).getRowsJS();
  const out: KpiDelta[] = [];
  for (const r of rows) {
    const [kind, tenant, a, b, c3, n, v, buckets] = r as [
      string,
      string,
      string,
      string,
      string,
      bigint,
      number,
      unknown,
    ];
    const count = Number(n);
    if (kind === 'orders') out.push({ kind, tenant, channel: a, region: b, currency: c3, count, revenue: Number(v) });
    else if (kind === 'payments')
      out.push({ kind, tenant, gateway: a, outcome: b as 'success' | 'decline' | 'technical_failure', count });
    else if (kind === 'checkouts') out.push({ kind, tenant, outcome: a as 'success' | 'failure', count });
    else if (kind === 'request_duration')
      out.push({
        kind,
        tenant,
        service: a,
        route: b,
        count,
        sumSeconds: Number(v),
        buckets: (buckets as (bigint | number)[]).map(Number),
      });
  }
  return out;
}
