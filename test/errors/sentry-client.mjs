// A service instrumented with @sentry/node as Sentry's docs say (Sentry.init with a DSN), pointed at a
// Shoplens server by its DSN only. Run by sentry-sdk.test.ts as a child process:
//   DSN=http://<key>@127.0.0.1:<port>/<project> CARD=<card> SECRET=<secret> node sentry-client.mjs
// It sends a captured exception (with breadcrumbs, user and tags), a message, a handled error, and
// finally dies of an unhandled exception, which the SDK's default integration reports before exit.
import * as Sentry from '@sentry/node';

Sentry.init({
  dsn: process.env.DSN,
  release: 'checkout@2.1.0',
  environment: 'production',
  serverName: 'web-1',
  sendDefaultPii: true,
});

Sentry.setUser({ id: 'U-42', email: 'jane.doe@example.com', username: 'jane' });
Sentry.setTag('service', 'checkout-service');
Sentry.setTag('gateway', 'stripe');
Sentry.setTag('order_id', 'ORD-777');
Sentry.setExtra('card_on_file', process.env.CARD);
Sentry.setExtra('password', process.env.SECRET);
Sentry.addBreadcrumb({ category: 'cart', message: 'Added SKU-1 to cart', level: 'info' });
Sentry.addBreadcrumb({
  category: 'payment',
  message: `card ${process.env.CARD} submitted`,
  level: 'info',
  data: { authorization: `Bearer ${process.env.SECRET}`, amount: 149.99 },
});

function chargeCard(order) {
  return order.payment.amount; // order.payment is undefined: a TypeError
}
function submitCheckout() {
  return chargeCard({ id: 'ORD-777' });
}

try {
  submitCheckout();
} catch (err) {
  Sentry.captureException(err);
}

Sentry.captureMessage('Inventory sync is 42 s behind', 'warning');

class PaymentDeclinedError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PaymentDeclinedError';
  }
}
// A handled error: the shop catches it, reports it, and goes on.
Sentry.withScope((scope) => {
  scope.setTag('decline_code', 'insufficient_funds');
  Sentry.captureException(new PaymentDeclinedError('Payment declined for order ORD-777 (amount 149.99)'));
});

await Sentry.flush(10_000);

function nightlyJob() {
  throw new RangeError('Invalid time value in nightly report');
}
setTimeout(nightlyJob, 10);
