/**
 * The fixed shape of the demo shop's platform: its services and routes,
 * payment gateways, and the devices, browsers and traffic sources of its
 * visitors. Names are the customary ones (`payment-service`,
 * `order-service`; `/api/cart/add`, `/api/checkout`,
 * `/api/payment/process`).
 */
import { Weighted } from './random.ts';

export const SERVICES = [
  'api-gateway',
  'user-service',
  'catalog-service',
  'cart-service',
  'order-service',
  'payment-service',
  'inventory-service',
  'shipping-service',
] as const;
export type Service = (typeof SERVICES)[number];

/** Deployed version and replica count of each service. */
export const SERVICE_DEPLOYMENTS: Readonly<Record<Service, { readonly version: string; readonly replicas: number }>> =
  Object.freeze({
    'api-gateway': { version: '2.4.0', replicas: 3 },
    'user-service': { version: '1.12.3', replicas: 2 },
    'catalog-service': { version: '3.0.7', replicas: 3 },
    'cart-service': { version: '1.9.1', replicas: 2 },
    'order-service': { version: '1.8.2', replicas: 2 },
    'payment-service': { version: '2.1.5', replicas: 2 },
    'inventory-service': { version: '1.4.0', replicas: 2 },
    'shipping-service': { version: '1.2.6', replicas: 1 },
  });

/** Services that own a database (their infra samples carry connection-pool figures). */
export const SERVICES_WITH_DATABASE: ReadonlySet<Service> = new Set<Service>([
  'user-service',
  'catalog-service',
  'cart-service',
  'order-service',
  'payment-service',
  'inventory-service',
  'shipping-service',
]);

/** Kubernetes nodes the pods are spread over. */
export const NODES = ['worker-node-01', 'worker-node-02', 'worker-node-03', 'worker-node-04', 'worker-node-05'];
export const K8S_NAMESPACE = 'ecommerce-prod';
export const K8S_CLUSTER = 'production-cluster';

/** The web front end that emits the tracking events (page views, cart, checkout). */
export const FRONTEND_SERVICE = { name: 'frontend-service', version: '3.2.1' } as const;

/** One API endpoint. */
export interface Route {
  readonly service: Service;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Route template as `http.route`: `/api/products/:id`. */
  readonly route: string;
  /** Median latency in ms at average load. */
  readonly medianMs: number;
}

function route(service: Service, method: Route['method'], path: string, medianMs: number): Route {
  return Object.freeze({ service, method, route: path, medianMs });
}

/** The endpoints the simulated visitors and services call. */
export const ROUTES = Object.freeze({
  home: route('api-gateway', 'GET', '/api/home', 45),
  login: route('user-service', 'POST', '/api/users/login', 95),
  me: route('user-service', 'GET', '/api/users/me', 22),
  search: route('catalog-service', 'GET', '/api/search', 85),
  product: route('catalog-service', 'GET', '/api/products/:id', 38),
  cartAdd: route('cart-service', 'POST', '/api/cart/add', 55),
  cartView: route('cart-service', 'GET', '/api/cart', 30),
  checkout: route('order-service', 'POST', '/api/checkout', 160),
  inventoryReserve: route('inventory-service', 'POST', '/api/inventory/reserve', 35),
  shippingQuote: route('shipping-service', 'POST', '/api/shipping/quote', 110),
  payment: route('payment-service', 'POST', '/api/payment/process', 30),
  orders: route('order-service', 'POST', '/api/orders', 125),
});
export type RouteName = keyof typeof ROUTES;

export const GATEWAYS = ['stripe', 'paypal', 'adyen'] as const;
export type Gateway = (typeof GATEWAYS)[number];

/** Median processing time of each gateway, ms (a card payment through stripe takes about 250 ms). */
export const GATEWAY_MEDIAN_MS: Readonly<Record<Gateway, number>> = { stripe: 240, paypal: 420, adyen: 280 };

/** How long a gateway call may take before the payment service gives up, ms. */
export const GATEWAY_TIMEOUT_MS = 30_000;

export const CARD_TYPES = new Weighted([
  ['visa', 52],
  ['mastercard', 33],
  ['amex', 10],
  ['discover', 5],
] as const);

/** Payment method → how often it is chosen. PayPal goes through the paypal gateway; cards and wallets through stripe or adyen. */
export const PAYMENT_METHODS = new Weighted([
  ['credit_card', 62],
  ['paypal', 25],
  ['apple_pay', 8],
  ['google_pay', 5],
] as const);

/** Issuer decline reasons and how often each occurs among declines. */
export const DECLINE_CODES = new Weighted([
  ['insufficient_funds', 34],
  ['card_declined', 25],
  ['do_not_honor', 14],
  ['expired_card', 9],
  ['incorrect_cvc', 10],
  ['fraud_suspected', 8],
] as const);

export type DeviceType = 'mobile' | 'desktop' | 'tablet';

/** Browser and OS combinations per device, with weights. */
export const PLATFORMS: Readonly<Record<DeviceType, Weighted<readonly [browser: string, os: string]>>> = {
  mobile: new Weighted([
    [['Safari', 'iOS'], 45],
    [['Chrome', 'Android'], 42],
    [['Chrome', 'iOS'], 8],
    [['Samsung Internet', 'Android'], 5],
  ] as const),
  desktop: new Weighted([
    [['Chrome', 'Windows'], 44],
    [['Chrome', 'macOS'], 18],
    [['Safari', 'macOS'], 14],
    [['Edge', 'Windows'], 14],
    [['Firefox', 'Windows'], 6],
    [['Firefox', 'Linux'], 4],
  ] as const),
  tablet: new Weighted([
    [['Safari', 'iPadOS'], 70],
    [['Chrome', 'Android'], 30],
  ] as const),
};

/** Where visitors come from, and the campaigns paid and e-mail traffic carries. */
export const TRAFFIC_SOURCES = new Weighted([
  [{ source: 'organic_search', campaigns: [] as string[] }, 34],
  [{ source: 'direct', campaigns: [] as string[] }, 22],
  [{ source: 'paid_search', campaigns: ['google_ads_always_on', 'google_ads_brand'] }, 16],
  [{ source: 'social', campaigns: ['instagram_reels', 'tiktok_creators'] }, 12],
  [{ source: 'email', campaigns: ['newsletter_weekly', 'cart_reminder'] }, 9],
  [{ source: 'referral', campaigns: ['affiliate_techblog'] }, 7],
] as const);

/** Probability that a visitor from a traffic source leaves after the homepage. */
export const BOUNCE_RATE: Readonly<Record<string, number>> = {
  organic_search: 0.42,
  direct: 0.35,
  paid_search: 0.48,
  social: 0.55,
  email: 0.3,
  referral: 0.45,
};

export const REFERRERS: Readonly<Record<string, string>> = {
  organic_search: 'https://www.google.com/search',
  paid_search: 'https://www.google.com/aclk',
  social: 'https://www.instagram.com/',
  email: 'https://mail.example.com/',
  referral: 'https://techblog.example.org/reviews',
  direct: '',
};

/** The `User-Agent` a browser on an OS sends (shortened: `Mozilla/5.0 (...)`). */
export function userAgentOf(browser: string, os: string, device: DeviceType): string {
  const platform =
    os === 'iOS'
      ? 'iPhone; CPU iPhone OS 17_5 like Mac OS X'
      : os === 'iPadOS'
        ? 'iPad; CPU OS 17_5 like Mac OS X'
        : os === 'Android'
          ? `Linux; Android 14; ${device === 'tablet' ? 'SM-X710' : 'Pixel 8'}`
          : os === 'macOS'
            ? 'Macintosh; Intel Mac OS X 14_5'
            : os === 'Linux'
              ? 'X11; Linux x86_64'
              : 'Windows NT 10.0; Win64; x64';
  return `Mozilla/5.0 (${platform}) ${browser.replace(' ', '')}`;
}
