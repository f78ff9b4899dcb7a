/**
 * One payment attempt through a gateway (stripe, paypal or adyen): the
 * `POST /api/payment/process` request and a `payment_transaction` event
 * with nested ECS-style blocks (transaction, payment, customer, order,
 * security and business), plus the exception behind a failure.
 *
 * Outcomes follow the current `ShopConditions`: an incident that raises a
 * gateway's timeout or decline rate shows up here, and nowhere else needs
 * to know.
 */
import { ERROR_KINDS, type ErrorKind } from './app-errors.ts';
import type { Product } from './catalog.ts';
import { cents, clamp, Weighted } from './random.ts';
import { customerFields, type SessionRecorder } from './session-recorder.ts';
import {
  CARD_TYPES,
  DECLINE_CODES,
  GATEWAY_MEDIAN_MS,
  GATEWAY_TIMEOUT_MS,
  PAYMENT_METHODS,
  SERVICE_DEPLOYMENTS,
  type Gateway,
} from './shop-model.ts';

/** Units of one product in the cart, at the price paid (after any promotion), USD. */
export interface CartItem {
  readonly product: Product;
  readonly quantity: number;
  readonly unitPriceUsd: number;
}

/** An order waiting for payment. Amounts in USD unless said otherwise. */
export interface OrderDraft {
  readonly orderId: string;
  readonly cartId: string;
  readonly items: readonly CartItem[];
  readonly itemCount: number;
  readonly subtotalUsd: number;
  readonly shippingUsd: number;
  readonly taxUsd: number;
  readonly totalUsd: number;
  /** Currency charged (ISO 4217). */
  readonly currency: string;
  /** Total in `currency`. */
  readonly total: number;
  /** Category of the most expensive item (`business.category`). */
  readonly category: string;
  /** Weighted gross margin of the items, 0-1. */
  readonly profitMargin: number;
}

/** What happened to one attempt. */
export type PaymentResult = 'approved' | 'declined' | 'timeout' | 'gateway_error' | 'invalid_card';

/** Fixed exchange rates of the demo shop: units of the currency per USD. */
export const FX_PER_USD: Readonly<Record<string, number>> = { USD: 1, EUR: 0.92, GBP: 0.79 };

/** A USD amount in `currency`, rounded to cents. */
/** The `order.*` fields that payment and order events share. */
export function orderFields(order: OrderDraft): Record<string, unknown> {
  return {
    id: order.orderId,
    total_amount: order.total,
    item_count: order.itemCount,
    shipping_cost: toCurrency(order.shippingUsd, order.currency),
    tax_amount: toCurrency(order.taxUsd, order.currency),
  };
}

export function toCurrency(usd: number, currency: string): number {
  return cents(usd * (FX_PER_USD[currency] ?? 1));
}

const FRAUD_INDICATORS = ['velocity_anomaly', 'ip_country_mismatch', 'new_device', 'card_bin_country_mismatch'];

const THREE_DS_EU = new Weighted([
  ['authenticated', 94],
  ['attempted', 4.5],
  ['failed', 1.5],
] as const);
const THREE_DS_ELSEWHERE = new Weighted([
  ['not_required', 55],
  ['authenticated', 41],
  ['attempted', 3],
  ['failed', 1],
] as const);

const TRANSACTION_TYPES: Readonly<Record<string, string>> = {
  credit_card: 'credit_card_payment',
  paypal: 'paypal_payment',
  apple_pay: 'wallet_payment',
  google_pay: 'wallet_payment',
};

function gatewayFor(rec: SessionRecorder, method: string): Gateway {
  if (method === 'paypal') return 'paypal';
  const inEurope = rec.visit.customer.location.currency !== 'USD';
  return rec.random.chance(inEurope ? 0.55 : 0.25) ? 'adyen' : 'stripe';
}

/** A card-testing bot's attempt: a stolen card (these last four digits) tried on a small order. */
export interface CardTestAttempt {
  readonly cardLastFour: string;
}

/**
 * Pays for `order`. `attempt` counts from 1; a retry after a decline often
 * switches to PayPal. Advances the session clock by the request's duration.
 * With `cardTest`, the attempt is a fraud bot's: a card, a risk score of 80
 * or more, and mostly declined.
 */
export function attemptPayment(
  rec: SessionRecorder,
  order: OrderDraft,
  attempt: number,
  cardTest?: CardTestAttempt,
): PaymentResult {
  const random = rec.random;
  const customer = rec.visit.customer;
  const conditions = rec.conditions();
  const method = cardTest
    ? 'credit_card'
    : attempt > 1 && random.chance(0.35)
      ? 'paypal'
      : random.weighted(PAYMENT_METHODS);
  const gateway = gatewayFor(rec, method);
  const transactionId = `txn_${random.base36(12)}`;
  const isCard = method === 'credit_card';

  // Client-side validation failures never reach the gateway.
  if (!cardTest && isCard && random.chance(conditions.clientErrorRate * 0.9)) {
    rec.newTrace();
    rec.api('payment', { status: 400, errorContext: { orderId: order.orderId } });
    return 'invalid_card';
  }

  const newCustomer = customer.lifetimeOrders <= 1;
  const highRisk = cardTest !== undefined || random.chance(newCustomer ? 0.02 : 0.006);
  const riskScore = cardTest
    ? random.int(80, 99)
    : highRisk
      ? random.int(76, 99)
      : Math.round(clamp(random.logNormal(14, 0.55), 1, 74));
  const indicators = cardTest
    ? ['velocity_anomaly', 'card_bin_country_mismatch']
    : highRisk
      ? FRAUD_INDICATORS.filter(() => random.chance(0.45)).slice(0, 2)
      : [];
  if (highRisk && indicators.length === 0) indicators.push(random.pick(FRAUD_INDICATORS));
  const threeDs =
    method === 'paypal'
      ? 'not_applicable'
      : !isCard
        ? 'authenticated'
        : random.weighted(customer.location.currency === 'USD' ? THREE_DS_ELSEWHERE : THREE_DS_EU);

  let result: PaymentResult = 'approved';
  let declineCode: string | undefined;
  const u = random.next();
  const timeoutRate = conditions.gatewayTimeoutRate[gateway];
  if (u < timeoutRate) result = 'timeout';
  else if (u < timeoutRate + conditions.gatewayErrorRate[gateway] + conditions.serverErrorRate['payment-service']) {
    result = 'gateway_error';
  } else if (threeDs === 'failed') {
    result = 'declined';
    declineCode = 'authentication_required';
  } else if (highRisk && random.chance(0.7)) {
    result = 'declined';
    declineCode = 'fraud_suspected';
  } else if (cardTest && random.chance(0.8)) {
    result = 'declined';
    declineCode = random.pick(['incorrect_cvc', 'card_declined', 'expired_card']);
  } else if (random.chance(conditions.declineRate[gateway])) {
    result = 'declined';
    declineCode = random.weighted(DECLINE_CODES);
  }

  const gatewayMs =
    result === 'timeout'
      ? GATEWAY_TIMEOUT_MS + random.int(0, 40)
      : result === 'gateway_error'
        ? Math.round(random.logNormal(80, 0.5))
        : Math.round(random.logNormal(GATEWAY_MEDIAN_MS[gateway], 0.35) + conditions.gatewayExtraLatencyMs[gateway]);
  const durationMs = gatewayMs + Math.round(random.logNormal(30, 0.3));
  const status = { approved: 200, declined: 402, timeout: 504, gateway_error: 502, invalid_card: 400 }[result];
  const error: ErrorKind | null =
    result === 'declined'
      ? declineCode === 'authentication_required'
        ? ERROR_KINDS.threeDSecureFailed
        : ERROR_KINDS.paymentDeclined
      : result === 'timeout'
        ? ERROR_KINDS.gatewayTimeout
        : result === 'gateway_error'
          ? ERROR_KINDS.gatewayUnavailable
          : null;

  rec.newTrace();
  rec.api('payment', {
    status,
    durationMs,
    error,
    errorContext: {
      gateway,
      orderId: order.orderId,
      transactionId,
      declineCode,
      amount: order.total,
      currency: order.currency,
    },
    errorMessage: `Payment processing failed for Order ${order.orderId}, Amount ${order.total}, Gateway ${gateway}`,
    fields: { transaction: { id: transactionId, gateway } },
  });

  const approved = result === 'approved';
  rec.emit(rec.t, {
    service: {
      name: 'payment-service',
      version: SERVICE_DEPLOYMENTS['payment-service'].version,
      environment: 'production',
    },
    event: {
      category: 'financial',
      type: 'payment_transaction',
      outcome: approved ? 'success' : 'failure',
      duration: durationMs,
    },
    transaction: {
      id: transactionId,
      amount: order.total,
      currency: order.currency,
      type: TRANSACTION_TYPES[method] ?? 'payment',
      gateway,
      merchant_id: 'merchant_12345',
    },
    payment: {
      method,
      ...(isCard
        ? {
            card_type: random.weighted(CARD_TYPES),
            card_last_four: cardTest?.cardLastFour ?? String(random.int(0, 9999)).padStart(4, '0'),
          }
        : {}),
      ...(isCard ? { card_country: customer.location.country } : {}),
      processor_response: approved ? 'approved' : result === 'declined' ? 'declined' : result,
      ...(approved ? { approval_code: random.base36(6).toUpperCase() } : {}),
      ...(declineCode ? { decline_code: declineCode } : {}),
      risk_score: riskScore,
      '3ds_status': threeDs,
      attempt,
    },
    customer: {
      ...customerFields(customer),
      email: customer.maskedEmail,
      state: customer.location.state,
      signup_date: customer.signupDate,
      lifetime_value: customer.lifetimeValue,
    },
    order: orderFields(order),
    security: {
      ip_address: rec.visit.ipAddress,
      user_agent: rec.visit.userAgent,
      session_id: rec.visit.sessionId,
      fraud_indicators: indicators,
      velocity_check: indicators.includes('velocity_anomaly') ? 'flagged' : 'passed',
    },
    business: {
      revenue_impact: approved ? order.totalUsd : 0,
      profit_margin: order.profitMargin,
      category: order.category,
      channel: rec.visit.channel,
      ...(rec.visit.campaign ? { campaign_id: rec.visit.campaign } : {}),
    },
    user: { id: customer.id },
    trace_id: rec.traceId,
  });
  return result;
}
