/**
 * An ECS-shaped API-request log event, what a shop's services send for every
 * HTTP request they serve: `@timestamp`, service.name, event.type/outcome/
 * duration, http.request.method, http.route, http.response.status_code,
 * client.ip and a 32-hex trace.id. About 300 bytes serialised: the issue's
 * ~265 B needs a shorter trace id or fewer fields.
 *
 * Kept apart from bench/events.ts until `apiRequestEvent` lands there (same
 * signature); then this file goes.
 */
import { weighted } from './stats.ts';

interface ApiRoute {
  readonly service: string;
  readonly method: string;
  readonly route: string;
  /** Median duration, ms. */
  readonly medianMs: number;
}

const ROUTES = weighted<ApiRoute>([
  [{ service: 'api-gateway', method: 'GET', route: '/api/products', medianMs: 35 }, 22],
  [{ service: 'product', method: 'GET', route: '/api/products/:id', medianMs: 25 }, 18],
  [{ service: 'search', method: 'GET', route: '/api/search', medianMs: 60 }, 10],
  [{ service: 'recommendation', method: 'GET', route: '/api/recommendations', medianMs: 45 }, 8],
  [{ service: 'cart', method: 'POST', route: '/api/cart/add', medianMs: 40 }, 9],
  [{ service: 'cart', method: 'GET', route: '/api/cart', medianMs: 20 }, 7],
  [{ service: 'inventory', method: 'GET', route: '/api/inventory/check', medianMs: 15 }, 5],
  [{ service: 'user', method: 'POST', route: '/api/auth/login', medianMs: 120 }, 3],
  [{ service: 'checkout', method: 'POST', route: '/api/checkout', medianMs: 180 }, 3],
  [{ service: 'order', method: 'GET', route: '/api/orders/:id', medianMs: 30 }, 3],
]);

const ERROR_STATUS = weighted([
  [400, 20],
  [404, 35],
  [429, 10],
  [500, 20],
  [503, 15],
] as const);

function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(width, '0').slice(-width);
}

/** One API-request event, varied by `i` and the random source. */
export function apiRequestEvent(i: number, tsMs: number, random: () => number): Record<string, unknown> {
  const r = ROUTES(random());
  const failed = random() < 0.03;
  const status = failed ? ERROR_STATUS(random()) : r.method === 'POST' && r.route === '/api/checkout' ? 201 : 200;
  // Log-normal-ish: most requests near the median, a long tail.
  const duration = Math.round(r.medianMs * Math.exp((random() + random() + random() - 1.5) * 1.2));
  return {
    '@timestamp': new Date(tsMs).toISOString(),
    service: { name: r.service },
    event: { type: 'api_request', outcome: status >= 400 ? 'failure' : 'success', duration },
    http: { request: { method: r.method }, route: r.route, response: { status_code: status } },
    client: { ip: `10.${(random() * 256) | 0}.${(random() * 256) | 0}.${1 + ((random() * 254) | 0)}` },
    trace: { id: `${hex(i * 2654435761, 8)}${hex(random() * 2 ** 32, 8)}${hex(random() * 2 ** 32, 8)}${hex(i, 8)}` },
  };
}
