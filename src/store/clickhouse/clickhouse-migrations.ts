/**
 * Versioned schema migrations of the ClickHouse store. Append new versions;
 * never edit an applied one. `schema_migrations` records what ran (ClickHouse
 * has no transactional DDL: each statement is idempotent, `IF NOT EXISTS`,
 * so a migration cut off half way runs again whole).
 *
 * Every statement runs on 18.16 and current releases. `ts` is Int64 epoch
 * microseconds (18.16 has no DateTime64). Events are partitioned by day and
 * data class, so that retention can drop whole partitions, and ordered for
 * the dashboards' filters: tenant, data class, service, type, time.
 */
import type { Migration } from '../duckdb/duckdb-migrations.ts';

export const CLICKHOUSE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events table',
    statements: [
      `CREATE TABLE IF NOT EXISTS events (
        ts Int64,
        tenant String,
        data_class String,
        event_id Nullable(String),
        index_name Nullable(String),
        service Nullable(String),
        environment Nullable(String),
        pod Nullable(String),
        event_type Nullable(String),
        event_category Nullable(String),
        event_outcome Nullable(String),
        event_action Nullable(String),
        level Nullable(String),
        message Nullable(String),
        duration_ms Nullable(Float64),
        transaction_id Nullable(String),
        amount Nullable(Float64),
        currency Nullable(String),
        gateway Nullable(String),
        payment_method Nullable(String),
        card_type Nullable(String),
        risk_score Nullable(Float64),
        fraud_indicators Array(String),
        client_ip Nullable(String),
        customer_id Nullable(String),
        customer_segment Nullable(String),
        customer_country Nullable(String),
        region Nullable(String),
        user_id Nullable(String),
        session_id Nullable(String),
        order_id Nullable(String),
        page_url Nullable(String),
        page_category Nullable(String),
        channel Nullable(String),
        device Nullable(String),
        http_method Nullable(String),
        http_route Nullable(String),
        url_path Nullable(String),
        http_status Nullable(Int32),
        error_type Nullable(String),
        error_message Nullable(String),
        error_fingerprint Nullable(String),
        trace_id Nullable(String),
        span_id Nullable(String),
        processor_response Nullable(String),
        attributes String DEFAULT '{}'
      ) ENGINE = MergeTree
      PARTITION BY (toDate(toDateTime(intDiv(ts, 1000000))), data_class)
      ORDER BY (tenant, data_class, ifNull(service, ''), ifNull(event_type, ''), ts)`,
    ],
  },
  {
    version: 2,
    name: 'documents table',
    statements: [
      // Every write is a new row; the newest seq of a key is the document (argMax), a tombstone
      // (deleted = 1) removes it. ReplacingMergeTree folds old rows away in the background.
      `CREATE TABLE IF NOT EXISTS documents (
        tenant String,
        kind String,
        id String,
        body String,
        created_at Int64,
        updated_at Int64,
        version UInt32,
        deleted UInt8,
        seq UInt64
      ) ENGINE = ReplacingMergeTree(seq)
      ORDER BY (tenant, kind, id)`,
    ],
  },
];
