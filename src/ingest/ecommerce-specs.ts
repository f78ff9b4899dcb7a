/**
 * Recognises tracking payloads of the Segment e-commerce spec v2 (`track`
 * calls: `{event, properties, userId, anonymousId, timestamp, context}`) and
 * GA4 events (`{name | event_name, params}`) and maps them onto the
 * canonical dotted names, so that they land in the same typed columns as
 * ECS-style events. Other objects pass through unchanged.
 *
 * The mapped payload is keyed by client names (`properties.__proto__`, or a
 * top-level `constructor` carried over): it has no prototype, so each is a
 * plain data key.
 */
import { dataObject } from '../schema/data-object.ts';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Segment / GA4 property names with a canonical field (a Map: `constructor` is no property name here). */
const PROPERTY_FIELDS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    order_id: 'order.id',
    checkout_id: 'checkout.id',
    transaction_id: 'order.id',
    total: 'transaction.amount',
    revenue: 'transaction.amount',
    value: 'transaction.amount',
    currency: 'transaction.currency',
    payment_method: 'payment.method',
    payment_type: 'payment.method',
    product_id: 'product.id',
    item_id: 'product.id',
    sku: 'product.sku',
    name: 'product.name',
    item_name: 'product.name',
    category: 'product.category',
    item_category: 'product.category',
    price: 'product.price',
    quantity: 'product.quantity',
    coupon: 'order.coupon',
    shipping: 'order.shipping_cost',
    tax: 'order.tax_amount',
    cart_id: 'cart.id',
  }),
);

/** Top-level Segment keys consumed by the mapping (the rest are carried over as sent). */
const SEGMENT_KEYS = new Set([
  'event',
  'properties',
  'timestamp',
  'originalTimestamp',
  'sentAt',
  'userId',
  'anonymousId',
  'messageId',
  'type',
  'context',
]);

function mapProperties(props: Json, out: Json): void {
  for (const [key, value] of Object.entries(props)) {
    const field = PROPERTY_FIELDS.get(key);
    if (field !== undefined && out[field] === undefined) out[field] = value;
    else out[`properties.${key}`] = value;
  }
}

/** Returns the payload in canonical names when it is a Segment or GA4 event. */
export function mapSegmentOrGa4(raw: Json): Json {
  // Segment: a track call names its event in `event` and carries `properties`.
  if (typeof raw['event'] === 'string' && (isObject(raw['properties']) || raw['type'] === 'track')) {
    const out = dataObject();
    out['event.type'] = raw['event'];
    out['tracking.spec'] = 'segment';
    const ts = raw['timestamp'] ?? raw['originalTimestamp'] ?? raw['sentAt'];
    if (ts !== undefined) out['@timestamp'] = ts;
    if (raw['userId'] !== undefined) out['user.id'] = raw['userId'];
    if (raw['anonymousId'] !== undefined) out['user.anonymous_id'] = raw['anonymousId'];
    if (raw['messageId'] !== undefined) out['event.id'] = raw['messageId'];
    const context = raw['context'];
    if (isObject(context)) {
      const page = context['page'];
      if (isObject(page) && page['url'] !== undefined) out['page.url'] = page['url'];
      if (context['ip'] !== undefined) out['security.ip_address'] = context['ip'];
      if (context['userAgent'] !== undefined) out['user_agent.original'] = context['userAgent'];
    }
    if (isObject(raw['properties'])) mapProperties(raw['properties'], out);
    for (const [k, v] of Object.entries(raw)) if (!SEGMENT_KEYS.has(k)) out[k] = v;
    return out;
  }
  // GA4: `{ name, params }` as in the Measurement Protocol's events[], or BigQuery export's `event_name`.
  const gaName =
    typeof raw['event_name'] === 'string' ? raw['event_name'] : isObject(raw['params']) ? raw['name'] : undefined;
  if (typeof gaName === 'string') {
    const out = dataObject();
    out['event.type'] = gaName;
    out['tracking.spec'] = 'ga4';
    const params = raw['params'] ?? raw['event_params'];
    if (isObject(params)) mapProperties(params, out);
    for (const [k, v] of Object.entries(raw)) {
      if (k === 'event_name' || k === 'name' || k === 'params' || k === 'event_params') continue;
      if (k === 'user_id') out['user.id'] = v;
      else if (k === 'client_id') out['user.anonymous_id'] = v;
      else if (k === 'timestamp_micros') out['@timestamp'] = Number(v) / 1000;
      else out[k] = v;
    }
    return out;
  }
  return raw;
}
