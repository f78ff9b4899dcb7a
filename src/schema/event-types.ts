/**
 * One canonical event-type vocabulary (snake_case `event.type` values such as
 * `payment_transaction`, `page_view`, `api_request`), with Segment e-commerce spec v2 names and GA4 recommended
 * event names recognised as aliases, at ingest and in queries alike.
 */
import type { DataClass } from './fields.ts';

interface EventTypeDef {
  readonly name: string;
  /** Segment spec v2 event name. */
  readonly segment?: string;
  /** GA4 recommended event name. */
  readonly ga4?: string;
  /** Other spellings seen in the wild. */
  readonly other?: readonly string[];
  readonly dataClass: DataClass;
}

/** The canonical vocabulary. Snake_case names already common in e-commerce logs (`payment_transaction`, `add_to_cart`) are kept as they are. */
export const EVENT_TYPES: readonly EventTypeDef[] = Object.freeze([
  { name: 'page_view', segment: 'Page Viewed', ga4: 'page_view', other: ['pageview', 'page'], dataClass: 'business' },
  { name: 'products_searched', segment: 'Products Searched', ga4: 'search', dataClass: 'business' },
  { name: 'product_list_viewed', segment: 'Product List Viewed', ga4: 'view_item_list', dataClass: 'business' },
  { name: 'product_clicked', segment: 'Product Clicked', ga4: 'select_item', dataClass: 'business' },
  { name: 'product_viewed', segment: 'Product Viewed', ga4: 'view_item', dataClass: 'business' },
  { name: 'add_to_cart', segment: 'Product Added', ga4: 'add_to_cart', dataClass: 'business' },
  { name: 'remove_from_cart', segment: 'Product Removed', ga4: 'remove_from_cart', dataClass: 'business' },
  { name: 'cart_viewed', segment: 'Cart Viewed', ga4: 'view_cart', dataClass: 'business' },
  { name: 'add_to_wishlist', segment: 'Product Added to Wishlist', ga4: 'add_to_wishlist', dataClass: 'business' },
  { name: 'checkout_started', segment: 'Checkout Started', ga4: 'begin_checkout', dataClass: 'business' },
  { name: 'checkout_step_viewed', segment: 'Checkout Step Viewed', dataClass: 'business' },
  { name: 'checkout_step_completed', segment: 'Checkout Step Completed', dataClass: 'business' },
  { name: 'shipping_info_entered', segment: 'Shipping Info Entered', ga4: 'add_shipping_info', dataClass: 'business' },
  { name: 'payment_info_entered', segment: 'Payment Info Entered', ga4: 'add_payment_info', dataClass: 'business' },
  { name: 'payment_transaction', dataClass: 'business' },
  { name: 'payment_completed', dataClass: 'business' },
  { name: 'payment_failed', dataClass: 'business' },
  { name: 'order_completed', segment: 'Order Completed', ga4: 'purchase', dataClass: 'business' },
  { name: 'order_updated', segment: 'Order Updated', dataClass: 'business' },
  { name: 'order_refunded', segment: 'Order Refunded', ga4: 'refund', dataClass: 'business' },
  { name: 'order_cancelled', segment: 'Order Cancelled', dataClass: 'business' },
  { name: 'coupon_applied', segment: 'Coupon Applied', dataClass: 'business' },
  { name: 'promotion_viewed', segment: 'Promotion Viewed', ga4: 'view_promotion', dataClass: 'business' },
  { name: 'promotion_clicked', segment: 'Promotion Clicked', ga4: 'select_promotion', dataClass: 'business' },
  { name: 'cart_abandoned', dataClass: 'business' },
  { name: 'signed_up', segment: 'Signed Up', ga4: 'sign_up', dataClass: 'business' },
  { name: 'signed_in', segment: 'Signed In', ga4: 'login', dataClass: 'security' },
  { name: 'api_request', dataClass: 'app' },
  { name: 'error', dataClass: 'app' },
  { name: 'infrastructure', dataClass: 'app' },
  { name: 'health_check', dataClass: 'app' },
]);

/** Lower-cased alias → canonical name. */
const aliasMap = new Map<string, string>();
const dataClassOf = new Map<string, DataClass>();
for (const t of EVENT_TYPES) {
  dataClassOf.set(t.name, t.dataClass);
  for (const alias of [t.name, t.segment, t.ga4, ...(t.other ?? [])]) {
    if (alias !== undefined) aliasMap.set(alias.toLowerCase(), t.name);
  }
}

/**
 * The canonical name for an event type as sent (`Order Completed`,
 * `purchase` → `order_completed`). Unknown types are kept as written, so a
 * shop's own event types work too.
 */
export function canonicalEventType(type: string): string {
  return aliasMap.get(type.toLowerCase()) ?? type;
}

/** The data class a canonical event type implies, if it is in the vocabulary. */
export function eventTypeDataClass(canonical: string): DataClass | undefined {
  return dataClassOf.get(canonical);
}
