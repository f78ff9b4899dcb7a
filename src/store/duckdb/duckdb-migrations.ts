/**
 * Versioned schema migrations of the embedded store. Append new versions;
 * never edit an applied one. `schema_migrations` records what ran.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

export const DUCKDB_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events table',
    statements: [
      `CREATE TABLE events (
        ts TIMESTAMP NOT NULL,
        tenant VARCHAR NOT NULL,
        data_class VARCHAR NOT NULL,
        event_id VARCHAR,
        index_name VARCHAR,
        service VARCHAR,
        environment VARCHAR,
        pod VARCHAR,
        event_type VARCHAR,
        event_category VARCHAR,
        event_outcome VARCHAR,
        event_action VARCHAR,
        level VARCHAR,
        message VARCHAR,
        duration_ms DOUBLE,
        transaction_id VARCHAR,
        amount DOUBLE,
        currency VARCHAR,
        gateway VARCHAR,
        payment_method VARCHAR,
        card_type VARCHAR,
        risk_score DOUBLE,
        fraud_indicators VARCHAR[],
        client_ip VARCHAR,
        customer_id VARCHAR,
        customer_segment VARCHAR,
        customer_country VARCHAR,
        region VARCHAR,
        user_id VARCHAR,
        session_id VARCHAR,
        order_id VARCHAR,
        page_url VARCHAR,
        page_category VARCHAR,
        channel VARCHAR,
        device VARCHAR,
        http_method VARCHAR,
        http_route VARCHAR,
        url_path VARCHAR,
        http_status INTEGER,
        error_type VARCHAR,
        error_message VARCHAR,
        error_fingerprint VARCHAR,
        trace_id VARCHAR,
        span_id VARCHAR,
        attributes JSON
      )`,
    ],
  },
  {
    version: 2,
    name: 'documents table',
    statements: [
      `CREATE TABLE documents (
        tenant VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        body JSON NOT NULL,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (tenant, kind, id)
      )`,
    ],
  },
  {
    version: 3,
    name: 'hourly rollups',
    statements: [
      `CREATE TABLE events_1h (
        tenant VARCHAR NOT NULL,
        data_class VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        service VARCHAR,
        environment VARCHAR,
        event_type VARCHAR,
        event_category VARCHAR,
        event_outcome VARCHAR,
        event_action VARCHAR,
        level VARCHAR,
        currency VARCHAR,
        gateway VARCHAR,
        payment_method VARCHAR,
        card_type VARCHAR,
        customer_segment VARCHAR,
        customer_country VARCHAR,
        region VARCHAR,
        page_category VARCHAR,
        channel VARCHAR,
        device VARCHAR,
        http_method VARCHAR,
        http_route VARCHAR,
        http_status INTEGER,
        error_type VARCHAR,
        events BIGINT NOT NULL,
        amount_sum DOUBLE,
        amount_count BIGINT,
        amount_min DOUBLE,
        amount_max DOUBLE,
        duration_ms_sum DOUBLE,
        duration_ms_count BIGINT,
        duration_ms_min DOUBLE,
        duration_ms_max DOUBLE,
        risk_score_sum DOUBLE,
        risk_score_count BIGINT,
        risk_score_min DOUBLE,
        risk_score_max DOUBLE
      )`,
      // Per data class: raw events before this instant have been rolled up and deleted.
      'CREATE TABLE rollup_state (data_class VARCHAR PRIMARY KEY, rolled_until TIMESTAMP NOT NULL)',
    ],
  },
  {
    version: 4,
    name: 'minute rollups',
    statements: [
      // The columns of events_1h, one row per minute and combination of dimensions.
      'CREATE TABLE events_1m AS SELECT * FROM events_1h LIMIT 0',
      // Minutes before rolled_until are in events_1m (one row, id 1).
      'CREATE TABLE rollup_1m_state (id INTEGER PRIMARY KEY, rolled_until TIMESTAMP NOT NULL)',
    ],
  },
  {
    version: 5,
    name: 'hourly latency histograms',
    statements: [
      // Hours before the minute watermark's hour are complete here.
      `CREATE TABLE latency_1h (
        tenant VARCHAR NOT NULL,
        data_class VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        service VARCHAR,
        environment VARCHAR,
        event_type VARCHAR,
        event_outcome VARCHAR,
        http_method VARCHAR,
        http_route VARCHAR,
        http_status INTEGER,
        bucket INTEGER,
        events BIGINT NOT NULL
      )`,
      // The minute rollups start over, so that the job builds both from the first event on.
      'DELETE FROM events_1m',
      'DELETE FROM rollup_1m_state',
    ],
  },
  {
    version: 6,
    name: 'ingest log state',
    statements: [
      // The id of the last ingest log segment loaded (one row, id 1), written in the load's own transaction.
      'CREATE TABLE ingest_log_state (id INTEGER PRIMARY KEY, loaded_segment BIGINT NOT NULL)',
    ],
  },
  {
    version: 7,
    name: 'payment processor response column',
    statements: [
      // The payment rules of the alert pack split failures by the gateway's answer at every
      // evaluation: read from the attributes JSON, that parsed every payment event of the window.
      'ALTER TABLE events ADD COLUMN processor_response VARCHAR',
      `UPDATE events SET processor_response = json_extract_string(attributes, '$."payment.processor_response"')
        WHERE attributes IS NOT NULL AND json_exists(attributes, '$."payment.processor_response"')`,
    ],
  },
  {
    version: 8,
    name: 'spans table',
    statements: [
      // OTLP spans (src/ingest/otlp-traces.ts): one row per span, ids as lowercase hex, '' for no parent.
      `CREATE TABLE spans (
        tenant VARCHAR NOT NULL,
        trace_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        parent_span_id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        kind TINYINT NOT NULL,
        start_ts TIMESTAMP NOT NULL,
        end_ts TIMESTAMP NOT NULL,
        duration_ms DOUBLE NOT NULL,
        status_code TINYINT NOT NULL,
        status_message VARCHAR,
        service VARCHAR,
        scope_name VARCHAR,
        resource_attributes JSON,
        attributes JSON,
        events JSON,
        links JSON
      )`,
      // One column: DuckDB answers `trace_id = $1` alone from this index (1 ms over millions of spans), while
      // any further condition (tenant) makes it scan the table; readTrace filters the tenant afterwards.
      'CREATE INDEX spans_trace ON spans (trace_id)',
    ],
  },
  {
    version: 9,
    name: 'hourly error group rollups',
    statements: [
      // The error events of each hour (complete before the minute watermark's hour, as latency_1h), one row per
      // group and what the error list counts apart: service, environment, release (in `attributes`, as the
      // events hold it, so that filters compile alike), user, customer and session (src/store/sql/error-groups-compiler.ts).
      `CREATE TABLE errors_1h (
        tenant VARCHAR NOT NULL,
        data_class VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        error_fingerprint VARCHAR NOT NULL,
        service VARCHAR,
        environment VARCHAR,
        attributes JSON,
        user_id VARCHAR,
        customer_id VARCHAR,
        session_id VARCHAR,
        events BIGINT NOT NULL,
        first_ts TIMESTAMP NOT NULL,
        last_ts TIMESTAMP NOT NULL,
        error_type VARCHAR,
        msg VARCHAR,
        level VARCHAR
      )`,
      // The rollups start over, so that the job builds all three from the first event on.
      'DELETE FROM events_1m',
      'DELETE FROM latency_1h',
      'DELETE FROM rollup_1m_state',
    ],
  },
];
