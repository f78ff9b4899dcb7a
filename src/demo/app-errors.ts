/**
 * Application errors of the demo shop, in the usual e-commerce categories
 * (payment processing, inventory, user session, data validation,
 * integrations, plus plain internal errors), each with an exception type, a message built from
 * the context, and a Node.js-style stack trace.
 */
import type { Random } from './random.ts';
import type { Service } from './shop-model.ts';

export type ErrorCategory =
  'payment_processing' | 'inventory' | 'user_session' | 'data_validation' | 'integration' | 'internal';

/** What the error message may mention. */
export interface ErrorContext {
  readonly gateway?: string;
  readonly orderId?: string;
  readonly transactionId?: string;
  readonly sessionId?: string;
  readonly customerId?: string;
  readonly productId?: string;
  readonly amount?: number;
  readonly currency?: string;
  readonly declineCode?: string;
  readonly country?: string;
}

/** One kind of exception. */
export interface ErrorKind {
  readonly type: string;
  readonly category: ErrorCategory;
  readonly service: Service;
  /** `ERROR` for faults, `WARN` for expected business failures (declines, validation). */
  readonly level: 'ERROR' | 'WARN';
  readonly message: (ctx: ErrorContext, random: Random) => string;
  /** Call sites from innermost to outermost: `Class.method (file)`. */
  readonly frames: readonly string[];
}

function kind(
  type: string,
  category: ErrorCategory,
  service: Service,
  level: ErrorKind['level'],
  message: ErrorKind['message'],
  frames: string[],
): ErrorKind {
  return Object.freeze({ type, category, service, level, message, frames: Object.freeze(frames) });
}

const WAREHOUSES = ['WH-US-EAST-1', 'WH-US-WEST-2', 'WH-EU-1', 'WH-APAC-1'];
const CARRIERS = ['Colissimo', 'Chronopost', 'UPS', 'DHL Express'];

/** Every error kind the shop raises, by a short key. */
export const ERROR_KINDS = Object.freeze({
  gatewayTimeout: kind(
    'GatewayTimeoutException',
    'payment_processing',
    'payment-service',
    'ERROR',
    (c) => `Payment gateway ${c.gateway ?? 'stripe'} did not respond within 30000 ms for order ${c.orderId ?? '?'}`,
    [
      'GatewayClient.charge (/app/src/gateways/gateway-client.ts:142:11)',
      'PaymentProcessor.process (/app/src/payment/payment-processor.ts:88:24)',
      'PaymentController.processPayment (/app/src/http/payment-controller.ts:41:20)',
    ],
  ),
  gatewayUnavailable: kind(
    'PaymentGatewayUnavailableException',
    'payment_processing',
    'payment-service',
    'ERROR',
    (c) => `Bad gateway from ${c.gateway ?? 'stripe'}: upstream connect error or disconnect/reset before headers`,
    [
      'GatewayClient.send (/app/src/gateways/gateway-client.ts:97:13)',
      'PaymentProcessor.process (/app/src/payment/payment-processor.ts:88:24)',
      'PaymentController.processPayment (/app/src/http/payment-controller.ts:41:20)',
    ],
  ),
  paymentDeclined: kind(
    'PaymentDeclinedException',
    'payment_processing',
    'payment-service',
    'WARN',
    (c) => `Payment declined for order ${c.orderId ?? '?'}: ${c.declineCode ?? 'card_declined'}`,
    [
      'PaymentProcessor.assertApproved (/app/src/payment/payment-processor.ts:131:15)',
      'PaymentProcessor.process (/app/src/payment/payment-processor.ts:94:12)',
      'PaymentController.processPayment (/app/src/http/payment-controller.ts:41:20)',
    ],
  ),
  threeDSecureFailed: kind(
    'ThreeDSecureFailedException',
    'payment_processing',
    'payment-service',
    'WARN',
    (c) => `3D Secure authentication failed for transaction ${c.transactionId ?? '?'}`,
    [
      'ThreeDSecureVerifier.verify (/app/src/payment/three-d-secure.ts:58:13)',
      'PaymentProcessor.process (/app/src/payment/payment-processor.ts:79:7)',
      'PaymentController.processPayment (/app/src/http/payment-controller.ts:41:20)',
    ],
  ),
  webhookDuplicate: kind(
    'DuplicateWebhookException',
    'payment_processing',
    'payment-service',
    'WARN',
    (c, r) => `Duplicate webhook evt_${r.hex(14)} from ${c.gateway ?? 'stripe'} ignored`,
    [
      'WebhookHandler.ensureFirstDelivery (/app/src/webhooks/webhook-handler.ts:64:13)',
      'WebhookHandler.handle (/app/src/webhooks/webhook-handler.ts:33:10)',
    ],
  ),
  stockRace: kind(
    'StockReservationConflictException',
    'inventory',
    'inventory-service',
    'WARN',
    (c, r) => `Concurrent reservation conflict on SKU ${c.productId ?? '?'}: requested ${r.int(1, 2)}, available 0`,
    [
      'StockLedger.reserve (/app/src/stock/stock-ledger.ts:77:15)',
      'ReservationService.reserve (/app/src/reservations/reservation-service.ts:45:22)',
      'InventoryController.reserve (/app/src/http/inventory-controller.ts:29:18)',
    ],
  ),
  warehouseSync: kind(
    'WarehouseSyncException',
    'inventory',
    'inventory-service',
    'ERROR',
    (_c, r) =>
      `Stock sync with warehouse ${r.pick(WAREHOUSES)} failed: version mismatch (expected ${r.int(1000, 9999)})`,
    [
      'WarehouseClient.pushLevels (/app/src/warehouses/warehouse-client.ts:118:11)',
      'SyncJob.run (/app/src/jobs/sync-job.ts:52:9)',
    ],
  ),
  reservationExpired: kind(
    'ReservationExpiredException',
    'inventory',
    'inventory-service',
    'WARN',
    (_c, r) => `Reservation res_${r.hex(10)} expired after 900 s before payment`,
    [
      'ReservationService.confirm (/app/src/reservations/reservation-service.ts:88:13)',
      'ReservationSweeper.sweep (/app/src/jobs/reservation-sweeper.ts:30:7)',
    ],
  ),
  sessionExpired: kind(
    'SessionExpiredException',
    'user_session',
    'user-service',
    'WARN',
    (c) => `Session ${c.sessionId ?? '?'} expired during checkout`,
    [
      'SessionStore.require (/app/src/sessions/session-store.ts:41:13)',
      'AuthMiddleware.authenticate (/app/src/http/auth-middleware.ts:22:30)',
    ],
  ),
  mfaTimeout: kind(
    'MfaTimeoutException',
    'user_session',
    'user-service',
    'WARN',
    (c) => `MFA challenge for customer ${c.customerId ?? '?'} timed out after 120 s`,
    [
      'MfaService.awaitChallenge (/app/src/mfa/mfa-service.ts:73:11)',
      'LoginController.login (/app/src/http/login-controller.ts:36:16)',
    ],
  ),
  tokenRefreshFailed: kind(
    'TokenRefreshException',
    'user_session',
    'user-service',
    'ERROR',
    () => 'Token refresh failed: refresh token expired or revoked',
    [
      'TokenService.refresh (/app/src/tokens/token-service.ts:95:13)',
      'AuthMiddleware.renew (/app/src/http/auth-middleware.ts:58:24)',
    ],
  ),
  invalidAddress: kind(
    'InvalidAddressException',
    'data_validation',
    'order-service',
    'WARN',
    (c, r) =>
      `Shipping address rejected: postal code ${r.int(1000, 99999)}X is not valid for country ${c.country ?? 'US'}`,
    [
      'AddressValidator.validate (/app/src/validation/address-validator.ts:47:13)',
      'CheckoutService.start (/app/src/checkout/checkout-service.ts:61:5)',
      'CheckoutController.checkout (/app/src/http/checkout-controller.ts:27:18)',
    ],
  ),
  malformedEmail: kind(
    'MalformedEmailException',
    'data_validation',
    'user-service',
    'WARN',
    () => 'Email address is malformed: missing domain part',
    [
      'ContactValidator.email (/app/src/validation/contact-validator.ts:19:11)',
      'ProfileController.update (/app/src/http/profile-controller.ts:44:9)',
    ],
  ),
  invalidCardData: kind(
    'InvalidCardDataException',
    'data_validation',
    'payment-service',
    'WARN',
    (_c, r) =>
      r.pick(['Card expiry date is in the past', 'Card number fails the Luhn check', 'CVC must be 3 or 4 digits']),
    [
      'CardValidator.validate (/app/src/validation/card-validator.ts:33:13)',
      'PaymentController.processPayment (/app/src/http/payment-controller.ts:36:7)',
    ],
  ),
  shippingApiDown: kind(
    'ShippingApiUnavailableException',
    'integration',
    'shipping-service',
    'ERROR',
    (_c, r) => `Carrier API ${r.pick(CARRIERS)} unavailable: HTTP 503 after 3 retries`,
    [
      'CarrierClient.quote (/app/src/carriers/carrier-client.ts:84:11)',
      'QuoteService.quote (/app/src/quotes/quote-service.ts:39:20)',
      'ShippingController.quote (/app/src/http/shipping-controller.ts:21:16)',
    ],
  ),
  emailDelivery: kind(
    'EmailDeliveryException',
    'integration',
    'order-service',
    'ERROR',
    (c) => `Order confirmation email for ${c.orderId ?? 'order'} not sent: SMTP 421 service not available`,
    [
      'MailClient.send (/app/src/notifications/mail-client.ts:66:13)',
      'OrderNotifier.confirmation (/app/src/notifications/order-notifier.ts:28:5)',
    ],
  ),
  crmSync: kind(
    'CrmSyncException',
    'integration',
    'user-service',
    'ERROR',
    (c) => `CRM sync failed for customer ${c.customerId ?? '?'}: timeout after 10000 ms`,
    [
      'CrmClient.upsertContact (/app/src/crm/crm-client.ts:51:11)',
      'CrmSyncJob.run (/app/src/jobs/crm-sync-job.ts:24:9)',
    ],
  ),
  databaseTimeout: kind(
    'DatabaseTimeoutError',
    'internal',
    'order-service',
    'ERROR',
    (_c, r) => `Query read timeout after 5000 ms on pool primary (active ${r.int(18, 20)}/20)`,
    [
      'Pool.query (/app/node_modules/pg-pool/index.js:45:11)',
      'OrderRepository.insert (/app/src/orders/order-repository.ts:72:18)',
      'CheckoutService.start (/app/src/checkout/checkout-service.ts:83:7)',
    ],
  ),
  nullReference: kind(
    'TypeError',
    'internal',
    'cart-service',
    'ERROR',
    (_c, r) => `Cannot read properties of undefined (reading '${r.pick(['price', 'quantity', 'variantId'])}')`,
    [
      'CartPricing.lineTotal (/app/src/cart/cart-pricing.ts:58:31)',
      'CartService.add (/app/src/cart/cart-service.ts:104:22)',
      'CartController.add (/app/src/http/cart-controller.ts:31:14)',
    ],
  ),
  bundleDiscount: kind(
    'TypeError',
    'data_validation',
    'cart-service',
    'ERROR',
    (c) =>
      `Cannot read properties of null (reading 'discountRate') in bundle of cart ${c.sessionId ?? c.orderId ?? '?'}`,
    [
      'PromotionEngine.applyBundle (/app/src/promotions/promotion-engine.ts:211:38)',
      'CartPricing.total (/app/src/cart/cart-pricing.ts:74:19)',
      'CartController.view (/app/src/http/cart-controller.ts:52:14)',
    ],
  ),
  upstreamUnavailable: kind(
    'UpstreamUnavailableError',
    'internal',
    'api-gateway',
    'ERROR',
    (_c, r) =>
      `No healthy upstream for ${r.pick(['catalog-service', 'user-service', 'cart-service'])}: 0/2 endpoints ready`,
    ['ProxyRouter.forward (/app/src/proxy/proxy-router.ts:112:13)', 'GatewayServer.handle (/app/src/server.ts:64:9)'],
  ),
} satisfies Record<string, ErrorKind>);

/** The 5xx exception a service raises for a failed request. */
export function serverErrorKind(service: Service, status: number): ErrorKind {
  switch (service) {
    case 'payment-service':
      return status === 504 ? ERROR_KINDS.gatewayTimeout : ERROR_KINDS.gatewayUnavailable;
    case 'shipping-service':
      return ERROR_KINDS.shippingApiDown;
    case 'inventory-service':
      return ERROR_KINDS.warehouseSync;
    case 'user-service':
      return ERROR_KINDS.tokenRefreshFailed;
    case 'api-gateway':
      return ERROR_KINDS.upstreamUnavailable;
    case 'cart-service':
      return ERROR_KINDS.nullReference;
    default:
      return { ...ERROR_KINDS.databaseTimeout, service };
  }
}

/**
 * Background errors not tied to a visitor's request, with their relative frequency: a few dominant ones
 * (duplicate webhooks, expired reservations) and a long tail, as an error tracker usually shows.
 */
export const BACKGROUND_ERRORS: readonly (readonly [ErrorKind, number])[] = [
  [ERROR_KINDS.webhookDuplicate, 10],
  [ERROR_KINDS.warehouseSync, 1.5],
  [ERROR_KINDS.reservationExpired, 6],
  [ERROR_KINDS.mfaTimeout, 3],
  [ERROR_KINDS.tokenRefreshFailed, 1],
  [ERROR_KINDS.malformedEmail, 0.5],
  [ERROR_KINDS.emailDelivery, 1],
  [ERROR_KINDS.crmSync, 2],
  [ERROR_KINDS.shippingApiDown, 0.5],
];

/** `Type: message` followed by `    at frame` lines, as Node prints a stack. */
export function stackTrace(errorKind: ErrorKind, message: string): string {
  return [`${errorKind.type}: ${message}`, ...errorKind.frames.map((f) => `    at ${f}`)].join('\n');
}
