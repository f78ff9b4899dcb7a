/**
 * Error grouping (src/errors/fingerprint.ts, docs/errors.md): which
 * occurrences become one group, through the ingest normaliser as events
 * arrive, and the documented normalisation worked by hand.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ErrorGrouper, errorGroupingSchema } from '../../src/errors/grouping-rules.ts';
import { groupingFrames, normalizeMessage } from '../../src/errors/fingerprint.ts';
import { parseStackText } from '../../src/errors/stack-text.ts';
import { normalizeEvent } from '../../src/ingest/normalize.ts';
import { ERROR_KINDS, stackTrace } from '../../src/demo/app-errors.ts';
import { OPTIONS } from '../ingest/normalize-options.ts';

function fingerprintOf(event: Record<string, unknown>, grouper?: ErrorGrouper): string {
  const r = normalizeEvent(event, { ...OPTIONS, ...(grouper ? { grouper } : {}) });
  if (!r.ok) assert.fail(`${r.code}: ${r.message}`);
  const fp = r.record.columns['error_fingerprint'];
  assert.equal(typeof fp, 'string');
  return fp as string;
}

function sha1Prefix(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}

const frame = (fn: string, file: string, line: number, extra: Record<string, unknown> = {}) => ({
  function: fn,
  filename: file,
  lineno: line,
  colno: 7,
  ...extra,
});

describe('error grouping', () => {
  it('groups "Payment declined for order ORD-123 (amount 149.99)" with "... ORD-456 (amount 20.00)"', () => {
    const a = fingerprintOf({
      exception: { type: 'PaymentDeclinedException', message: 'Payment declined for order ORD-123 (amount 149.99)' },
    });
    const b = fingerprintOf({
      exception: { type: 'PaymentDeclinedException', message: 'Payment declined for order ORD-456 (amount 20.00)' },
    });
    assert.equal(a, b);
    // The documented components, hashed here: version, basis, type, normalised message.
    assert.equal(a, sha1Prefix('v1\nmessage\nPaymentDeclinedException\nPayment declined for order <id> (amount <n>)'));
    // Another message is another group, and so is another type with the same message.
    assert.notEqual(
      a,
      fingerprintOf({ exception: { type: 'PaymentDeclinedException', message: 'Card expired for order ORD-1' } }),
    );
    assert.notEqual(
      a,
      fingerprintOf({
        exception: { type: 'FraudException', message: 'Payment declined for order ORD-9 (amount 1.00)' },
      }),
    );
  });

  it('keeps two call sites of one exception type apart, and one call site together across deploys', () => {
    const viaCheckout = [
      frame('CheckoutController.submit', '/app/src/http/checkout-controller.ts', 27),
      frame('PaymentProcessor.charge', '/app/src/payment/payment-processor.ts', 88),
    ];
    const viaWebhook = [
      frame('WebhookHandler.handle', '/app/src/webhooks/webhook-handler.ts', 33),
      frame('PaymentProcessor.charge', '/app/src/payment/payment-processor.ts', 88),
    ];
    const error = (frames: unknown[], message = 'Gateway timed out after 30000 ms') => ({
      exception: { type: 'GatewayTimeoutException', message, frames },
    });
    const checkout = fingerprintOf(error(viaCheckout));
    assert.notEqual(checkout, fingerprintOf(error(viaWebhook)));
    // The next release moved every line and changed the message: still the same group.
    const moved = viaCheckout.map((f) => ({ ...f, lineno: f.lineno + 40, colno: 3 }));
    assert.equal(checkout, fingerprintOf(error(moved, 'Gateway did not answer')));
    // Library frames do not count while in-app frames exist.
    const withLibrary = [...viaCheckout, frame('Socket.emit', '/app/node_modules/undici/lib/core.js', 10)];
    assert.equal(checkout, fingerprintOf(error(withLibrary)));
    // The components: in-app frames as module:function, outermost first.
    assert.equal(
      checkout,
      sha1Prefix(
        'v1\nframes\nGatewayTimeoutException\nhttp/checkout-controller:CheckoutController.submit\npayment/payment-processor:PaymentProcessor.charge',
      ),
    );
  });

  it('reads frames from the text of V8, JVM and Python stack traces', () => {
    const v8 = parseStackText(
      [
        "TypeError: Cannot read properties of undefined (reading 'price')",
        '    at CartPricing.lineTotal (/app/src/cart/cart-pricing.ts:58:31)',
        '    at async CartService.add (/app/src/cart/cart-service.ts:104:22)',
        '    at /app/src/http/cart-controller.ts:31:14',
        '    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)',
      ].join('\n'),
    );
    assert.deepEqual(
      v8.map((f) => [f.function ?? '', f.file, f.line]),
      [
        ['Layer.handle [as handle_request]', '/app/node_modules/express/lib/router/layer.js', 95],
        ['', '/app/src/http/cart-controller.ts', 31],
        ['CartService.add', '/app/src/cart/cart-service.ts', 104],
        ['CartPricing.lineTotal', '/app/src/cart/cart-pricing.ts', 58],
      ],
    );
    assert.deepEqual(groupingFrames(v8), [
      'http/cart-controller:<anonymous>',
      'cart/cart-service:CartService.add',
      'cart/cart-pricing:CartPricing.lineTotal',
    ]);
    const jvm = parseStackText(
      [
        'com.shop.payment.GatewayTimeoutException: timed out',
        '\tat com.shop.payment.GatewayClient.charge(GatewayClient.java:142)',
        '\tat com.shop.payment.PaymentService.lambda$process$0(PaymentService.java:88)',
        '\tat java.base/java.util.concurrent.FutureTask.run(FutureTask.java:264)',
        'Caused by: java.net.SocketTimeoutException: Read timed out',
        '\tat java.net.SocketInputStream.read(SocketInputStream.java:1)',
      ].join('\n'),
    );
    assert.deepEqual(groupingFrames(jvm), [
      'com.shop.payment.PaymentService:lambda$process',
      'com.shop.payment.GatewayClient:charge',
    ]);
    const python = parseStackText(
      [
        'Traceback (most recent call last):',
        '  File "/app/shop/checkout.py", line 40, in submit',
        '    charge(order)',
        '  File "/app/shop/payments.py", line 12, in charge',
        'ValueError: bad amount',
      ].join('\n'),
    );
    assert.deepEqual(groupingFrames(python), ['shop/checkout:submit', 'shop/payments:charge']);
  });

  it("groups the demo shop's errors by their stack trace, whatever the ids in their messages", () => {
    const event = (orderId: string) => {
      const kind = ERROR_KINDS.gatewayTimeout;
      const message = kind.message({ gateway: 'stripe', orderId }, undefined as never);
      return {
        service: 'payment-service',
        exception: { type: kind.type, message, stacktrace: stackTrace(kind, message) },
      };
    };
    // ORD-KX7QPMZBTA has no digit: the message differs in a way normalisation does not see, the frames do not.
    assert.equal(fingerprintOf(event('ORD-123456')), fingerprintOf(event('ORD-KX7QPMZBTA')));
    const declined = ERROR_KINDS.paymentDeclined;
    const message = declined.message({ orderId: 'ORD-1' }, undefined as never);
    assert.notEqual(
      fingerprintOf(event('ORD-1')),
      fingerprintOf({ exception: { type: declined.type, message, stacktrace: stackTrace(declined, message) } }),
    );
  });

  it('normalises the variable parts of messages as documented', () => {
    const cases: [string, string][] = [
      ['Order 123e4567-e89b-12d3-a456-426614174000 not found', 'Order <uuid> not found'],
      ['Object 0x7f3a9c at 5f3a9c1b7d4e', 'Object <hex> at <hex>'],
      ['Mail to john.doe@example.com bounced (j***@gmail.com too)', 'Mail to <email> bounced (<email> too)'],
      [
        'GET https://api.stripe.com/v1/charges/ch_3Nx9?expand=customer failed',
        'GET https://api.stripe.com/<id>/charges/<id>?<query> failed',
      ],
      ['Quantity 3 exceeds stock 2.5 for SKU-00123', 'Quantity <n> exceeds stock <n> for <id>'],
      ['Duplicate webhook evt_9f8e7d6c5b4a3 from stripe', 'Duplicate webhook <id> from stripe'],
      ["Unknown coupon 'SUMMER25'", 'Unknown coupon <str>'],
      ['Order ORD-KX7QPMZBTA   was\tcancelled', 'Order <id> was cancelled'],
      ['Payment declined: card_declined', 'Payment declined: card_declined'],
    ];
    for (const [input, expected] of cases) assert.equal(normalizeMessage(input), expected, input);
  });

  it('lets a client fingerprint win, in string or Sentry list form', () => {
    const base = { exception: { type: 'TypeError', message: 'x is undefined' } };
    assert.equal(fingerprintOf({ ...base, error: { fingerprint: 'checkout-broken' } }), 'checkout-broken');
    const listed = fingerprintOf({ ...base, error: { fingerprint: ['{{ default }}', 'eu-west'] } });
    const other = fingerprintOf({ ...base, error: { fingerprint: ['{{ default }}', 'us-east'] } });
    assert.notEqual(listed, other);
    assert.equal(listed, sha1Prefix(`v1\nclient\ndefault:${fingerprintOf(base)}\neu-west`));
  });

  it('applies per-project rules that force or merge groups', () => {
    const grouper = new ErrorGrouper(
      errorGroupingSchema.parse({
        rules: [
          { match: { type: 'Gateway*', service: 'payment-service' }, fingerprint: 'gateway-trouble' },
          { match: { function: '*Sweeper.sweep', project: '42' }, fingerprint: 'sweeper' },
          { merge: ['a-group'], into: 'b-group' },
        ],
      }),
    );
    const gateway = (type: string, service: string) => ({ service, exception: { type, message: `${type} happened` } });
    assert.equal(fingerprintOf(gateway('GatewayTimeoutException', 'payment-service'), grouper), 'gateway-trouble');
    assert.equal(fingerprintOf(gateway('GatewayUnavailableException', 'payment-service'), grouper), 'gateway-trouble');
    assert.notEqual(fingerprintOf(gateway('GatewayTimeoutException', 'cart-service'), grouper), 'gateway-trouble');
    const sweep = {
      sentry: { project_id: '42' },
      exception: {
        type: 'E',
        message: 'm',
        frames: [frame('ReservationSweeper.sweep', '/app/src/jobs/sweeper.ts', 3)],
      },
    };
    assert.equal(fingerprintOf(sweep, grouper), 'sweeper');
    assert.notEqual(fingerprintOf({ ...sweep, sentry: { project_id: '7' } }, grouper), 'sweeper');
    assert.equal(
      fingerprintOf({ exception: { type: 'E', message: 'm' }, error: { fingerprint: 'a-group' } }, grouper),
      'b-group',
    );
    assert.throws(
      () => errorGroupingSchema.parse({ rules: [{ match: {}, fingerprint: 'x' }] }),
      /at least one pattern/,
    );
  });

  it('never makes a fingerprint that redaction would take for a card number', () => {
    // 13+ consecutive decimal digits are re-hashed away; over many random inputs none remains.
    for (let i = 0; i < 20_000; i++) {
      const fp = fingerprintOf({ exception: { type: `T${i}`, message: 'm' } });
      assert.match(fp, /^[0-9a-f]{16}$/);
      assert.doesNotMatch(fp, /\d{13}/);
    }
  });
});
