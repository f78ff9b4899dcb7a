/**
 * Rules on error groups (`error_group: new | regression | rate`): instead of
 * a query, the reading lists the groups with events in the rule's window
 * (ErrorGroupService, which also moves resolved groups seen again to
 * regressed, group-state.ts) and makes one sample per group whose condition
 * holds, labelled with the group id, so the state machine, dispatch and
 * routing treat it as any alert: one instance per group, firing once per
 * episode.
 *
 * - `new`: first seen (ever) inside the window, and not before the rule
 *   started watching (`watchFromMs`: its first evaluation, persisted in its
 *   state; for a fresh state, when the engine started), so the groups a
 *   store already holds at start-up do not storm.
 * - `regression`: unresolved again after a resolution, the regression inside
 *   the window and after the rule started watching.
 * - `rate`: events a minute in the window above `per_minute` and/or above
 *   `factor` × the group's rate over the 24 h before the window, with at
 *   least `min_count` events in the window.
 *
 * Ignored groups never fire. `filter` narrows to a service, an environment
 * and groups with at least `min_users` distinct users and `min_events`
 * events in the window.
 */
import type { ErrorGroupService } from '../errors/error-group-service.ts';
import type { ErrorGroupView } from '../errors/error-group-types.ts';
import type { CompiledRule, ErrorGroupRule } from './rule.ts';
import type { RuleReading, Sample } from './rule-query.ts';
import { formatElapsed } from './templates.ts';

const DAY_MS = 86_400_000;
/** Groups read per evaluation (the busiest first). */
const MAX_GROUPS = 500;
/** The label that names an error group alert's group (its id, as in `/errors/<id>`). */
export const GROUP_LABEL = 'error.fingerprint';

/** What an error group rule needs beside the rule. */
export interface ErrorGroupReadDeps {
  readonly groups: ErrorGroupService;
  readonly tenant: string;
  readonly nowMs: number;
  /** Groups first seen or regressed before this do not fire (new, regression). */
  readonly watchFromMs: number;
}

export async function readErrorGroupRule(deps: ErrorGroupReadDeps, rule: CompiledRule): Promise<RuleReading> {
  const started = performance.now();
  const eg = rule.errorGroup as ErrorGroupRule;
  const { groups, tenant, nowMs } = deps;
  const window = rule.spec.window;
  const range = { fromMs: nowMs - window, toMs: nowMs + 1 };
  const list = await groups.list({
    tenant,
    range,
    status: 'all',
    sort: 'events',
    limit: MAX_GROUPS,
    ...(eg.service ? { service: eg.service } : {}),
    ...(eg.environment ? { environment: eg.environment } : {}),
  });
  const since = Math.max(deps.watchFromMs, nowMs - window);
  const minutes = Math.max(window, 60_000) / 60_000;
  let candidates = list.groups.filter(
    (g) => g.status !== 'ignored' && g.users >= eg.minUsers && g.events >= eg.minEvents,
  );
  const extra = new Map<string, Record<string, number>>();
  switch (eg.kind) {
    case 'new':
      candidates = candidates.filter((g) => Date.parse(g.firstSeen) >= since);
      break;
    case 'regression':
      candidates = candidates.filter(
        (g) => g.status === 'unresolved' && g.state.regressedAtMs !== undefined && g.state.regressedAtMs >= since,
      );
      break;
    case 'rate': {
      candidates = candidates.filter(
        (g) => g.events >= eg.minCount && (eg.perMinute === undefined || g.events / minutes > eg.perMinute),
      );
      const before =
        eg.factor === undefined
          ? new Map<string, number>()
          : await groups.counts(
              tenant,
              { fromMs: nowMs - window - DAY_MS, toMs: nowMs - window },
              candidates.map((g) => g.id),
            );
      candidates = candidates.filter((g) => {
        const rate = g.events / minutes;
        const baseline = (before.get(g.id) ?? 0) / (DAY_MS / 60_000);
        extra.set(g.id, { per_minute: round(rate), baseline_per_minute: round(baseline) });
        return eg.factor === undefined || rate > eg.factor * baseline;
      });
      break;
    }
  }
  const samples: Sample[] = [];
  for (const g of candidates) {
    const release = await groups.topRelease(tenant, g.fingerprints, range);
    samples.push({
      labels: { [GROUP_LABEL]: g.id },
      values: valuesOf(g, release, window, extra.get(g.id)),
      active: true,
    });
  }
  return { atMs: nowMs, samples, elapsedMs: performance.now() - started };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The figures and texts an error group alert carries (numbers shown as fields, texts for the message). */
function valuesOf(
  g: ErrorGroupView,
  release: string,
  windowMs: number,
  extra: Record<string, number> | undefined,
): Record<string, unknown> {
  const main = [...g.revenueAtRisk.byCurrency].sort((a, b) => b.amount - a.amount)[0];
  return {
    events: g.events,
    users: g.users,
    revenue_at_risk: main?.amount ?? 0,
    ...(extra ?? {}),
    currency: main?.currency ?? '',
    title: g.title,
    service: g.services[0] ?? 'none',
    environment: g.environments[0] ?? 'none',
    release: release || 'none',
    window: formatElapsed(windowMs),
    first_seen: g.firstSeen,
    last_seen: g.lastSeen,
    status: g.status,
    group_url: g.url,
  };
}
