/**
 * From alert state to notifications: applies silences, routes alerts to
 * receivers, groups them, and honours group_wait / group_interval /
 * repeat_interval like Alertmanager. Each notification goes into the
 * persisted outbox under a deterministic id (group + sequence number) written
 * with "must not exist", so a restart between enqueueing and bookkeeping
 * cannot enqueue the same notification twice.
 */
import { AppError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { AlertsConfig } from './alerts-config.ts';
import {
  KIND,
  type Alert,
  type Notification,
  type OutboxEntry,
  type RuleStateDoc,
  type Silence,
} from './alert-model.ts';
import type { CompiledRule } from './rule.ts';
import { routeAlert, type RoutedGroup } from './routing.ts';
import { silencedBy } from './silences.ts';
import type { AlertInstance } from './state-machine.ts';
import { alertFields, currencyOf, kindOf, ruleFormat } from './message-format.ts';
import { renderTemplate } from './templates.ts';
import { GROUP_LABEL } from './error-group-rules.ts';

/** The `alert_group` document: what was last sent to one receiver for one group. */
interface GroupDoc {
  readonly receiver: string;
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly routeIndex: number;
  readonly firstSeenMs: number;
  readonly lastSentMs?: number;
  readonly seq: number;
  /** Fingerprints notified as firing in the last notification. */
  readonly sentFiring: readonly string[];
}

/** Builds the routed alert of one instance. */
export function alertOf(rule: CompiledRule, instance: AlertInstance, externalUrl: string): Alert {
  const labels: Record<string, string> = {
    alertname: rule.id,
    severity: rule.severity,
    priority: rule.spec.severity,
    ...rule.spec.labels,
    ...instance.groupLabels,
  };
  const format = ruleFormat(rule);
  const currency = currencyOf(format, labels, instance.values);
  const ctx = {
    rule: rule.id,
    severity: rule.severity,
    labels,
    values: instance.values,
    kindOf: (name: string) => kindOf(format, name),
    ...(currency ? { currency } : {}),
  };
  const annotations = Object.fromEntries(
    Object.entries(rule.spec.annotations).map(([k, v]) => [k, renderTemplate(v, ctx)]),
  );
  const startMs = instance.firingSinceMs ?? instance.activeSinceMs;
  return {
    fingerprint: instance.fingerprint,
    status: instance.status === 'resolved' ? 'resolved' : 'firing',
    labels,
    annotations,
    values: instance.values,
    startsAt: new Date(startMs).toISOString(),
    ...(instance.resolvedAtMs ? { endsAt: new Date(instance.resolvedAtMs).toISOString() } : {}),
    link: linkOf(rule, instance, externalUrl, startMs),
    fields: alertFields(rule, labels, instance.groupLabels, instance.values),
  };
}

/** Explore with the rule's query, narrowed to the group, over the window around the alert (or the rule's dashboard). */
function linkOf(rule: CompiledRule, instance: AlertInstance, externalUrl: string, startMs: number): string {
  const base = externalUrl.replace(/\/$/, '');
  const group = rule.errorGroup ? instance.groupLabels[GROUP_LABEL] : undefined;
  if (group !== undefined) return `${base}/errors/${encodeURIComponent(group)}`;
  const from = new Date(startMs - rule.spec.window - 15 * 60_000).toISOString();
  const to = instance.resolvedAtMs ? new Date(instance.resolvedAtMs + 15 * 60_000).toISOString() : 'now';
  if (rule.spec.dashboard) {
    const url = rule.spec.dashboard.startsWith('http') ? rule.spec.dashboard : base + rule.spec.dashboard;
    return `${url}${url.includes('?') ? '&' : '?'}${new URLSearchParams({ from, to }).toString()}`;
  }
  const [filter, ...stages] = rule.spec.query.split('|');
  const narrowing = Object.entries(instance.groupLabels)
    .map(([k, v]) => `${k}:"${v.replace(/"/g, '\\"')}"`)
    .join(' AND ');
  const query = narrowing ? [`${narrowing} AND (${filter?.trim()})`, ...stages].join(' |') : rule.spec.query;
  return `${base}/explore?${new URLSearchParams({ q: query, from, to }).toString()}`;
}

export interface DispatchDeps {
  readonly store: Store;
  readonly config: AlertsConfig;
  readonly log?: (message: string) => void;
}

const unconfiguredWarned = new Set<string>();

/** One dispatch pass for a tenant; returns the notifications enqueued. */
export async function dispatch(
  deps: DispatchDeps,
  tenant: string,
  rules: ReadonlyMap<string, CompiledRule>,
  nowMs: number,
): Promise<Notification[]> {
  const { store, config } = deps;
  const states = await store.documents.list<RuleStateDoc>(tenant, KIND.state, { limit: 10_000 });
  const silences = (await store.documents.list<Silence>(tenant, KIND.silence, { limit: 10_000 })).map((d) => d.body);
  const groupDocs = new Map(
    (await store.documents.list<GroupDoc>(tenant, KIND.group, { limit: 10_000 })).map((d) => [d.id, d.body]),
  );

  const groups = new Map<string, { routed: RoutedGroup; alerts: Alert[] }>();
  for (const { body: state } of states) {
    const rule = rules.get(state.rule);
    if (!rule) continue;
    for (const instance of state.instances) {
      if (instance.status === 'pending') continue;
      const alert = alertOf(rule, instance, config.externalUrl);
      if (alert.status === 'firing' && silencedBy(silences, alert.labels, nowMs)) continue;
      for (const routed of routeAlert(config.routes, alert.labels)) {
        if (!config.receivers[routed.receiver]) {
          if (!unconfiguredWarned.has(routed.receiver))
            deps.log?.(`receiver "${routed.receiver}" is not configured; skipped`);
          unconfiguredWarned.add(routed.receiver);
          continue;
        }
        const group = groups.get(routed.key) ?? { routed, alerts: [] };
        group.alerts.push(alert);
        groups.set(routed.key, group);
      }
    }
  }

  const enqueued: Notification[] = [];
  for (const key of new Set([...groups.keys(), ...groupDocs.keys()])) {
    const group = groups.get(key);
    const doc = groupDocs.get(key);
    const firing = (group?.alerts ?? []).filter((a) => a.status === 'firing');
    const sent = new Set(doc?.sentFiring ?? []);
    const resolved = (group?.alerts ?? []).filter((a) => a.status === 'resolved' && sent.has(a.fingerprint));
    if (!doc) {
      if (firing.length === 0 || !group) continue;
      const fresh: GroupDoc = {
        receiver: group.routed.receiver,
        groupLabels: group.routed.groupLabels,
        routeIndex: group.routed.routeIndex,
        firstSeenMs: nowMs,
        seq: 0,
        sentFiring: [],
      };
      groupDocs.set(key, fresh);
      await store.documents.put(tenant, KIND.group, key, fresh);
      if (group.routed.route.group_wait > 0) continue;
    }
    const current = groupDocs.get(key) as GroupDoc;
    const route = config.routes[current.routeIndex];
    const receiver = config.receivers[current.receiver];
    if (!route || !receiver) {
      await store.documents.delete(tenant, KIND.group, key);
      continue;
    }
    const changed = firing.some((a) => !sent.has(a.fingerprint)) || resolved.length > 0;
    // Alerts notified as firing that are gone from the state entirely (rule deleted, silenced): stop tracking.
    const vanished = firing.length === 0 && resolved.length === 0;
    if (vanished) {
      await store.documents.delete(tenant, KIND.group, key);
      continue;
    }
    const due =
      current.lastSentMs === undefined
        ? nowMs >= current.firstSeenMs + route.group_wait
        : changed
          ? nowMs >= current.lastSentMs + route.group_interval
          : firing.length > 0 && nowMs >= current.lastSentMs + route.repeat_interval;
    if (!due) continue;
    const seq = current.seq + 1;
    const alerts = receiver.send_resolved ? [...firing, ...resolved] : firing;
    if (alerts.length > 0) {
      const notification: Notification = {
        id: `${key}-${String(seq).padStart(6, '0')}`,
        tenant,
        receiver: current.receiver,
        groupKey: key,
        groupLabels: current.groupLabels,
        status: firing.length > 0 ? 'firing' : 'resolved',
        alerts,
        createdAt: new Date(nowMs).toISOString(),
      };
      const entry: OutboxEntry = { notification, attempts: 0, nextAttemptMs: nowMs, status: 'pending' };
      try {
        // Delivered before a restart (outbox entry already moved to the deliveries): nothing to do.
        if (await store.documents.get(tenant, KIND.delivery, notification.id)) throw new AppError(409, 'x', 'x');
        await store.documents.put(tenant, KIND.outbox, notification.id, entry, { expectedVersion: 0 });
        enqueued.push(notification);
      } catch (err) {
        // Already enqueued before a restart: do not enqueue it twice.
        if (!(err instanceof AppError && err.status === 409)) throw err;
      }
    }
    if (firing.length === 0) await store.documents.delete(tenant, KIND.group, key);
    else
      await store.documents.put(tenant, KIND.group, key, {
        ...current,
        seq,
        lastSentMs: nowMs,
        sentFiring: firing.map((a) => a.fingerprint),
      });
  }
  return enqueued;
}
