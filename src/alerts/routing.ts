/**
 * Routing: an alert's labels pick routes (first match, unless `continue`),
 * each route names receivers and how to group. Grouping key = receiver +
 * the route's group_by labels, as in Alertmanager.
 */
import { createHash } from 'node:crypto';
import type { RouteConfig } from './alerts-config.ts';

export interface RoutedGroup {
  readonly receiver: string;
  readonly route: RouteConfig;
  readonly routeIndex: number;
  readonly groupLabels: Readonly<Record<string, string>>;
  /** Stable id of the group (document id and dedup key). */
  readonly key: string;
}

/** The routes whose matchers all equal the alert's labels. */
export function matchRoutes(routes: readonly RouteConfig[], labels: Readonly<Record<string, string>>): number[] {
  const matched: number[] = [];
  for (const [i, route] of routes.entries()) {
    if (Object.entries(route.match).every(([k, v]) => labels[k] === v)) {
      matched.push(i);
      if (!route.continue) break;
    }
  }
  return matched;
}

/** Every (receiver, group) an alert with these labels goes to. */
export function routeAlert(routes: readonly RouteConfig[], labels: Readonly<Record<string, string>>): RoutedGroup[] {
  const out: RoutedGroup[] = [];
  for (const index of matchRoutes(routes, labels)) {
    const route = routes[index] as RouteConfig;
    const groupLabels: Record<string, string> = {};
    for (const name of route.group_by) groupLabels[name] = labels[name] ?? '';
    for (const receiver of route.receivers) {
      const key = createHash('sha256')
        .update(JSON.stringify([index, receiver, Object.entries(groupLabels)]))
        .digest('hex')
        .slice(0, 20);
      out.push({ receiver, route, routeIndex: index, groupLabels, key });
    }
  }
  return out;
}
