/**
 * The field catalog: which dotted field names (Elastic Common Schema names
 * such as `transaction.amount` or `payment.risk_score`, OpenTelemetry
 * semantic-convention names) live in typed columns, and with
 * which type. Every other field is kept in the `attributes` JSON column under
 * its flattened dotted name and stays queryable by that name.
 */

/** Storage type of a typed column. */
export type FieldType =
  /** Instant, stored with microsecond precision. */
  | 'timestamp'
  /** Exact-match string (ids, enums, names). */
  | 'keyword'
  /** Free text (searched by words and phrases). */
  | 'text'
  | 'double'
  | 'integer'
  /** Array of strings; `field:*` means "not empty". */
  | 'keyword[]';

/** Data classes; each has its own retention (docs/operations.md, "Retention"). */
export const DATA_CLASSES = ['app', 'security', 'audit', 'business'] as const;
export type DataClass = (typeof DATA_CLASSES)[number];

/** One typed field. */
export interface FieldDef {
  /** Canonical dotted name, as shown to users (`payment.risk_score`). */
  readonly name: string;
  /** Column name in the events table (snake_case, engine-neutral). */
  readonly column: string;
  readonly type: FieldType;
  /** Other input names stored in the same column (OTel / ECS / camelCase variants). */
  readonly aliases: readonly string[];
  /** One line for docs and the UI's field sidebar. */
  readonly description: string;
}

function f(name: string, column: string, type: FieldType, description: string, aliases: string[] = []): FieldDef {
  return Object.freeze({ name, column, type, aliases: Object.freeze(aliases), description });
}

/**
 * The typed columns of the events table, in table order. Keep this list in
 * step with the migrations in each store (a test checks it).
 */
export const EVENT_FIELDS: readonly FieldDef[] = Object.freeze([
  f('@timestamp', 'ts', 'timestamp', 'When the event happened (UTC).', ['timestamp', 'time']),
  f('tenant', 'tenant', 'keyword', 'Tenant that owns the event (from the API key).'),
  f('data_class', 'data_class', 'keyword', 'app, security, audit or business: decides retention.'),
  f('event.id', 'event_id', 'keyword', 'Unique id of the event (Elasticsearch _id).', ['_id']),
  f('_index', 'index_name', 'keyword', 'Elasticsearch index the event was sent to.'),
  f('service.name', 'service', 'keyword', 'Service that emitted the event.', ['service']),
  f('deployment.environment', 'environment', 'keyword', 'production, staging, ...', [
    'service.environment',
    'deployment.environment.name',
  ]),
  f('kubernetes.pod', 'pod', 'keyword', 'Pod or instance name.', ['k8s.pod.name', 'kubernetes.pod.name']),
  f('event.type', 'event_type', 'keyword', 'Canonical event type (Segment and GA4 names are aliases).'),
  f('event.category', 'event_category', 'keyword', 'financial, user_activity, performance, ...'),
  f('event.outcome', 'event_outcome', 'keyword', 'success, failure or unknown.'),
  f('event.action', 'event_action', 'keyword', 'What happened (view, click, ...).'),
  f('log.level', 'level', 'keyword', 'Log level (ERROR, WARN, INFO, ...).', ['level', 'severity_text']),
  f('message', 'message', 'text', 'Log message or event description.', ['msg']),
  f('event.duration', 'duration_ms', 'double', 'Duration in milliseconds.', ['duration', 'http.response.duration']),
  f('transaction.id', 'transaction_id', 'keyword', 'Payment transaction id.'),
  f('transaction.amount', 'amount', 'double', 'Transaction amount in its currency.', ['amount']),
  f('transaction.currency', 'currency', 'keyword', 'ISO 4217 currency code.', ['currency']),
  f('transaction.gateway', 'gateway', 'keyword', 'Payment gateway (stripe, paypal, adyen, ...).', ['payment.gateway']),
  f('payment.method', 'payment_method', 'keyword', 'credit_card, paypal, ...'),
  f('payment.card_type', 'card_type', 'keyword', 'visa, mastercard, amex, ...'),
  f('payment.risk_score', 'risk_score', 'double', 'Fraud risk score 0-100.', ['risk_score']),
  f('security.fraud_indicators', 'fraud_indicators', 'keyword[]', 'Fraud indicators raised for the event.'),
  f('security.ip_address', 'client_ip', 'keyword', 'Client IP address.', ['client.ip', 'source.ip']),
  f('customer.id', 'customer_id', 'keyword', 'Customer id.', ['customer_id']),
  f('customer.segment', 'customer_segment', 'keyword', 'Customer segment or tier.'),
  f('customer.country', 'customer_country', 'keyword', 'Customer country (ISO code).'),
  f('customer.region', 'region', 'keyword', 'Sales region (US-EAST, EU-WEST, ...).', ['region', 'geo.region']),
  f('user.id', 'user_id', 'keyword', 'User id.', ['userId', 'user_id', 'enduser.id']),
  f('user.session_id', 'session_id', 'keyword', 'Session id.', ['session.id', 'security.session_id', 'session_id']),
  f('order.id', 'order_id', 'keyword', 'Order id.', ['order_id', 'orderId']),
  f('page.url', 'page_url', 'keyword', 'Page URL or path.'),
  f('page.category', 'page_category', 'keyword', 'homepage, product_detail, cart, checkout, ...'),
  f('business.channel', 'channel', 'keyword', 'web, mobile_app, marketplace, ...', ['channel']),
  f('session.device_type', 'device', 'keyword', 'mobile, desktop or tablet.', ['device.type', 'device']),
  f('http.request.method', 'http_method', 'keyword', 'HTTP method.', ['http.method']),
  f('http.route', 'http_route', 'keyword', 'Route template or endpoint (/api/checkout).'),
  f('url.path', 'url_path', 'keyword', 'Request path.', ['http.request.url', 'http.target', 'url.original']),
  f('http.response.status_code', 'http_status', 'integer', 'HTTP status code.', ['http.status_code']),
  f('exception.type', 'error_type', 'keyword', 'Exception or error type.', ['error.type']),
  f('exception.message', 'error_message', 'text', 'Exception or error message.', ['error.message']),
  f('error.fingerprint', 'error_fingerprint', 'keyword', 'Groups errors of one kind (computed at ingest).'),
  f('trace_id', 'trace_id', 'keyword', 'Distributed trace id.', ['trace.id', 'traceId']),
  f('span_id', 'span_id', 'keyword', 'Span id.', ['span.id', 'spanId']),
  // Added by migration 7, so after the columns of the first table version.
  f('payment.processor_response', 'processor_response', 'keyword', 'Gateway answer: approved, declined, timeout, ...', [
    'processor_response',
  ]),
]);

/** Name of the JSON column that holds every field without a typed column. */
export const ATTRIBUTES_COLUMN = 'attributes';

const byName = new Map<string, FieldDef>();
for (const def of EVENT_FIELDS) {
  byName.set(def.name, def);
  for (const alias of def.aliases) byName.set(alias, def);
}

/** The typed field for a name or alias, or undefined when it is an attribute. */
export function typedField(name: string): FieldDef | undefined {
  return byName.get(name);
}

/** How a field name resolves for storage and queries. */
export type ResolvedField =
  { readonly kind: 'column'; readonly def: FieldDef } | { readonly kind: 'attribute'; readonly path: string };

/** Resolves a dotted name to its typed column or to an attribute path. */
export function resolveField(name: string): ResolvedField {
  const def = byName.get(name);
  return def ? { kind: 'column', def } : { kind: 'attribute', path: name };
}
