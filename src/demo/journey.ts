/**
 * One visitor's session walking the shop's conversion funnel:
 * homepage → product view → add to cart → checkout started → payment →
 * order completed, with realistic drop-off at each step. A cart left behind
 * becomes a `cart_abandoned` event when the session times out, with the
 * reason (session timeout, technical error, out of stock, payment declined).
 *
 * Rough shape at baseline: ~40 % of sessions bounce from the homepage,
 * add-to-cart is ~15 % of product views, ~70 % of carts are abandoned and
 * about 3 % of sessions end in an order.
 */
import { ERROR_KINDS } from './app-errors.ts';
import type { Product } from './catalog.ts';
import type { Customer, Tier } from './customers.ts';
import { attemptPayment, orderFields, toCurrency, type CartItem, type OrderDraft } from './payments.ts';
import { cents, type Random } from './random.ts';
import { SessionRecorder, type Visit } from './session-recorder.ts';
import {
  BOUNCE_RATE,
  PLATFORMS,
  REFERRERS,
  SERVICE_DEPLOYMENTS,
  TRAFFIC_SOURCES,
  userAgentOf,
  type DeviceType,
} from './shop-model.ts';
import type { ShopWorld } from './shop-world.ts';
import type { DemoEvent } from './demo-event.ts';

/** A visitor idle this long loses the session; an abandoned cart is reported then. */
export const SESSION_TIMEOUT_MS = 30 * 60_000;
/** A session stops browsing after this long (plus the request in flight). */
export const MAX_ACTIVE_MS = 15 * 60_000;
/**
 * No event of a session is later than its start plus this: active time, the
 * requests and think times after the last timeout check (bounded, well under
 * 15 minutes) and the session timeout.
 */
export const MAX_SESSION_SPAN_MS = 60 * 60_000;

export type AbandonReason = 'session_timeout' | 'technical_error' | 'out_of_stock' | 'payment_declined';

const TIER_INTENT: Readonly<Record<Tier, number>> = { BRONZE: 0.85, SILVER: 1, GOLD: 1.15, PLATINUM: 1.3 };
const TAX_RATE: Readonly<Record<string, number>> = { USD: 0.08, EUR: 0.2, GBP: 0.2 };

/** Who is visiting: picks the customer, device, traffic source and campaign. */
export function newVisit(world: ShopWorld, random: Random, startMs: number): Visit {
  const customer: Customer = world.customers.pickVisitor(random);
  const device: DeviceType = random.chance(0.75)
    ? customer.preferredDevice
    : random.pick(['mobile', 'desktop', 'tablet'] as const);
  const [browser, os] = random.weighted(PLATFORMS[device]);
  const promotion = world.calendar.activePromotion(startMs) ?? world.conditionsAt(startMs).promotion;
  let trafficSource: string;
  let campaign: string | undefined;
  if (promotion && random.chance(0.5)) {
    trafficSource = random.chance(0.6) ? 'email' : 'social';
    campaign = promotion.campaignId;
  } else {
    const source = random.weighted(TRAFFIC_SOURCES);
    trafficSource = source.source;
    campaign = source.campaigns.length > 0 ? random.pick(source.campaigns) : undefined;
  }
  return {
    sessionId: `sess_${random.hex(16)}`,
    customer,
    device,
    browser,
    os,
    channel: device !== 'desktop' && random.chance(0.45) ? 'mobile_app' : 'web',
    trafficSource,
    campaign,
    referrer: REFERRERS[trafficSource] ?? '',
    ipAddress: `${random.pick(['203.0.113', '198.51.100', '192.0.2'])}.${random.int(1, 254)}`,
    userAgent: userAgentOf(browser, os, device),
    promotion,
  };
}

class Journey {
  readonly #rec: SessionRecorder;
  readonly #world: ShopWorld;
  readonly #random: Random;
  readonly #cart: CartItem[] = [];
  readonly #cartId: string;
  #sawOutOfStock = false;
  #hitTechnicalError = false;

  constructor(rec: SessionRecorder) {
    this.#rec = rec;
    this.#world = rec.world;
    this.#random = rec.random;
    this.#cartId = `cart_${rec.random.hex(12)}`;
  }

  get #intent(): number {
    const promo = this.#rec.visit.promotion;
    return TIER_INTENT[this.#rec.visit.customer.tier] * (promo ? promo.conversionBoost : 1);
  }

  #timedOut(): boolean {
    return this.#rec.t - this.#rec.startMs > MAX_ACTIVE_MS;
  }

  #pageView(category: string, url: string, extra: Readonly<Record<string, unknown>> = {}, first = false): void {
    const rec = this.#rec;
    rec.track(
      'page_view',
      {
        page: {
          url,
          category,
          load_time: Math.round(this.#random.logNormal(rec.visit.device === 'mobile' ? 1100 : 750, 0.4)),
          ...(first && rec.visit.referrer ? { referrer: rec.visit.referrer } : {}),
        },
        ...extra,
      },
      { action: 'view' },
    );
  }

  run(): void {
    const rec = this.#rec;
    const random = this.#random;
    rec.newTrace();
    if (random.chance(0.1)) {
      if (rec.api('login') >= 400) return;
      rec.think(8_000);
      rec.newTrace();
    }
    let home = rec.api('home');
    if (home >= 500 && random.chance(0.5)) {
      rec.think(2_000); // the visitor reloads the page
      home = rec.api('home');
    }
    if (home >= 400) return;
    this.#pageView('homepage', '/', {}, true);
    if (random.chance((BOUNCE_RATE[rec.visit.trafficSource] ?? 0.4) * (rec.visit.promotion ? 0.8 : 1))) return;

    if (random.chance(0.2)) {
      rec.think(10_000);
      rec.newTrace();
      if (rec.api('search', { path: '/api/search' }) < 400) this.#pageView('search', '/search');
    }
    // One product page, now and then more: about 1.2 on average, so the funnel narrows at every step.
    const views = Math.min(6, 1 + Math.floor(random.exponential(0.55)));
    let category: string | undefined;
    for (let i = 0; i < views && !this.#timedOut(); i++) {
      rec.think(25_000);
      if (i > 0 && random.chance(0.12)) {
        rec.newTrace();
        if (rec.api('home') < 400) this.#pageView('homepage', '/');
        rec.think(8_000);
      }
      const promo = rec.visit.promotion;
      const product =
        promo && random.chance(0.5)
          ? this.#world.catalog.pickProduct(random, promo.category)
          : this.#world.catalog.pickProduct(
              random,
              category !== undefined && random.chance(0.4) ? category : undefined,
            );
      category = product.category;
      this.#viewProduct(product);
    }
    if (this.#cart.length === 0) return;
    this.#checkout();
  }

  #viewProduct(product: Product): void {
    const rec = this.#rec;
    const random = this.#random;
    rec.newTrace();
    const status = rec.api('product', { path: `/api/products/${product.id}` });
    if (status >= 400) {
      if (status >= 500) this.#hitTechnicalError = true;
      return;
    }
    const promo = rec.visit.promotion;
    const price =
      promo && promo.category === product.category ? cents(product.price * (1 - promo.discount)) : product.price;
    const stock = this.#stockOf(product);
    const inStock = stock > 0;
    this.#pageView('product_detail', `/products/${product.slug}`, {
      product: {
        id: product.id,
        name: product.name,
        category: product.category,
        subcategory: product.subcategory,
        price,
        in_stock: inStock,
        stock_quantity: stock,
        rating: product.rating,
      },
    });
    const priceDamping = product.price > 700 ? 0.65 : product.price > 300 ? 0.85 : 1;
    const addProbability =
      0.2 *
      this.#intent *
      priceDamping *
      (this.#cart.length > 0 ? 0.55 : 1) *
      this.#rec.conditions().addToCartMultiplier;
    if (!random.chance(addProbability)) return;
    rec.think(12_000);
    rec.newTrace();
    if (!inStock) {
      this.#sawOutOfStock = true;
      rec.api('cartAdd', { status: 409, error: null });
      return;
    }
    let added = rec.api('cartAdd');
    if (added >= 500) {
      this.#hitTechnicalError = true;
      if (!random.chance(0.5)) return;
      rec.think(4_000);
      added = rec.api('cartAdd');
    }
    if (added >= 400) return;
    const quantity = random.chance(0.88) ? 1 : random.int(2, 3);
    this.#cart.push({ product, quantity, unitPriceUsd: price });
    rec.track(
      'add_to_cart',
      {
        product: { id: product.id, name: product.name, category: product.category, price, quantity },
        cart: { id: this.#cartId, item_count: this.#itemCount(), value: this.#subtotal() },
      },
      { action: 'add' },
    );
  }

  /** Units on hand now: the restock cycle, unless an incident says otherwise. */
  #stockOf(product: Product): number {
    const conditions = this.#rec.conditions();
    if (conditions.outOfStock.includes(product.id)) return 0;
    return conditions.stockOverride[product.id] ?? this.#world.catalog.stockAt(product.id, this.#rec.t);
  }

  #itemCount(): number {
    return this.#cart.reduce((n, item) => n + item.quantity, 0);
  }

  #subtotal(): number {
    return cents(this.#cart.reduce((sum, item) => sum + item.quantity * item.unitPriceUsd, 0));
  }

  #checkout(): void {
    const rec = this.#rec;
    const random = this.#random;
    rec.think(20_000);
    if (random.chance(0.5)) {
      rec.newTrace();
      if (rec.api('cartView') < 400) this.#pageView('cart', '/cart');
      rec.think(15_000);
    }
    const wantsToCheckOut = random.chance(Math.min(0.9, 0.45 * this.#intent * (this.#sawOutOfStock ? 0.7 : 1)));
    if (!wantsToCheckOut || this.#timedOut()) return this.#abandon(this.#idleReason(), 'cart');

    rec.newTrace();
    if (rec.api('me') === 401) return this.#abandon('session_timeout', 'checkout');
    let checkout = rec.api('checkout', { errorContext: { country: rec.visit.customer.location.country } });
    if (checkout === 400 && random.chance(0.7)) {
      rec.think(30_000);
      checkout = rec.api('checkout', { errorContext: { country: rec.visit.customer.location.country } });
    }
    if (checkout === 401) return this.#abandon('session_timeout', 'checkout');
    if (checkout === 409) return this.#abandon('out_of_stock', 'checkout');
    if (checkout >= 400) {
      if (checkout >= 500) this.#hitTechnicalError = true;
      return this.#abandon(checkout >= 500 ? 'technical_error' : 'session_timeout', 'checkout');
    }
    // Another shopper may have taken the last units since the item went into the cart.
    const scarce = this.#cart.find((item) => this.#stockOf(item.product) < 0.15 * item.product.restockLevel);
    const reserved = rec.api('inventoryReserve', {
      errorContext: { productId: (scarce ?? (this.#cart[0] as CartItem)).product.id },
      ...(scarce && random.chance(0.6) ? { status: 409 } : {}),
    });
    if (reserved === 409) return this.#abandon('out_of_stock', 'checkout');
    const order = this.#draftOrder();
    rec.api('shippingQuote', { errorContext: { country: rec.visit.customer.location.country } });
    rec.track('checkout_started', {
      cart: { id: this.#cartId, item_count: order.itemCount, value: order.subtotalUsd },
      order: { id: order.orderId },
      transaction: { currency: order.currency },
    });

    rec.think(45_000);
    if (!random.chance(Math.min(0.95, 0.72 * this.#intent)) || this.#timedOut()) {
      return this.#abandon('session_timeout', 'payment');
    }
    for (let attempt = 1; ; attempt++) {
      const result = attemptPayment(rec, order, attempt);
      if (result === 'approved') break;
      const retry = attempt < 3 && random.chance(result === 'invalid_card' ? 0.75 : result === 'declined' ? 0.45 : 0.5);
      if (!retry || this.#timedOut()) {
        return this.#abandon(result === 'declined' ? 'payment_declined' : 'technical_error', 'payment');
      }
      rec.think(25_000);
    }
    this.#complete(order);
  }

  #draftOrder(): OrderDraft {
    const currency = this.#rec.visit.customer.location.currency;
    const subtotalUsd = this.#subtotal();
    const shippingUsd = subtotalUsd >= 50 ? 0 : 9.99;
    const taxUsd = cents(subtotalUsd * (TAX_RATE[currency] ?? 0.08));
    const totalUsd = cents(subtotalUsd + shippingUsd + taxUsd);
    const mostExpensive = this.#cart.reduce((a, b) => (b.unitPriceUsd > a.unitPriceUsd ? b : a));
    const margin = this.#cart.reduce((sum, item) => sum + item.product.margin * item.quantity * item.unitPriceUsd, 0);
    return {
      orderId: `ORD-${this.#random.base36(10).toUpperCase()}`,
      cartId: this.#cartId,
      items: [...this.#cart],
      itemCount: this.#itemCount(),
      subtotalUsd,
      shippingUsd,
      taxUsd,
      totalUsd,
      currency,
      total: toCurrency(totalUsd, currency),
      category: mostExpensive.product.category,
      profitMargin: Math.round((margin / Math.max(subtotalUsd, 0.01)) * 100) / 100,
    };
  }

  #complete(order: OrderDraft): void {
    const rec = this.#rec;
    const customer = rec.visit.customer;
    rec.track('payment_completed', { order: { id: order.orderId }, transaction: { currency: order.currency } });
    rec.newTrace();
    if (rec.api('orders', { errorContext: { orderId: order.orderId } }) >= 500) {
      rec.think(2_000);
      rec.api('orders', { status: 201 });
    }
    rec.track(
      'order_completed',
      {
        order: {
          ...orderFields(order),
          product_ids: order.items.map((item) => item.product.id),
          status: 'COMPLETED',
        },
        transaction: { amount: order.total, currency: order.currency },
        business: { revenue_impact: order.totalUsd, profit_margin: order.profitMargin, category: order.category },
      },
      {
        service: { name: 'order-service', version: SERVICE_DEPLOYMENTS['order-service'].version },
        category: 'business',
        action: 'purchase',
      },
    );
    if (this.#random.chance(0.004)) {
      const pod = this.#world.podFor('order-service', this.#random);
      rec.error(ERROR_KINDS.emailDelivery, { orderId: order.orderId, customerId: customer.id }, pod.name);
    }
  }

  #idleReason(): AbandonReason {
    if (this.#sawOutOfStock && this.#random.chance(0.8)) return 'out_of_stock';
    if (this.#hitTechnicalError && this.#random.chance(0.6)) return 'technical_error';
    return 'session_timeout';
  }

  #abandon(reason: AbandonReason, stage: 'cart' | 'checkout' | 'payment'): void {
    const rec = this.#rec;
    rec.track(
      'cart_abandoned',
      {
        cart: {
          id: this.#cartId,
          item_count: this.#itemCount(),
          value: this.#subtotal(),
          abandon_reason: reason,
          abandon_stage: stage,
          product_ids: this.#cart.map((item) => item.product.id),
        },
      },
      {
        service: { name: 'cart-service', version: SERVICE_DEPLOYMENTS['cart-service'].version },
        category: 'business',
        tsMs: rec.t + SESSION_TIMEOUT_MS,
      },
    );
  }
}

/** Simulates one session that starts at `startMs`, appending its events to `out`. */
export function simulateSession(world: ShopWorld, random: Random, startMs: number, out: DemoEvent[]): void {
  const rec = new SessionRecorder(world, newVisit(world, random, startMs), random, startMs, out);
  new Journey(rec).run();
}
