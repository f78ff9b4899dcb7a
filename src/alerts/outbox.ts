/**
 * Delivers the persisted outbox: every pending notification whose time has
 * come goes to its receiver's notifier. Failures are retried with
 * exponential backoff (base · 2^attempts, capped) until `maxAge`, then the
 * notification is marked failed. Notifications of one group are delivered
 * in order (a resolve never overtakes its trigger). Delivered and failed
 * notifications move to `alert_delivery` (the UI's delivery log).
 */
import type { Store } from '../store/store.ts';
import type { AlertsConfig, ReceiverConfig } from './alerts-config.ts';
import { KIND, type OutboxEntry } from './alert-model.ts';
import { sendAlertmanager } from './notifiers/alertmanager.ts';
import { sendEmail } from './notifiers/email.ts';
import { inAppNotifier } from './notifiers/inapp.ts';
import type { Notifier } from './notifiers/notifier.ts';
import { sendPagerDuty } from './notifiers/pagerduty.ts';
import { sendSlack } from './notifiers/slack.ts';
import { sendWebhook } from './notifiers/webhook.ts';

/** The channels that need nothing but the receiver's config (the in-app inbox needs the store). */
const NOTIFIERS: {
  [K in Exclude<ReceiverConfig['type'], 'inapp'>]: Notifier<Extract<ReceiverConfig, { type: K }>>;
} = {
  slack: sendSlack,
  email: sendEmail,
  pagerduty: sendPagerDuty,
  webhook: sendWebhook,
  alertmanager: sendAlertmanager,
};

export interface DeliveryOutcome {
  readonly id: string;
  readonly receiver: string;
  readonly type: string;
  readonly ok: boolean;
  readonly error?: string;
  /** From enqueueing to acceptance, ms (on success). */
  readonly latencyMs?: number;
  readonly gaveUp?: boolean;
}

/** Backoff before attempt `attempts + 1`. */
export function backoffMs(attempts: number, config: AlertsConfig['outbox']): number {
  return Math.min(config.backoffMax, config.backoffBase * 2 ** Math.max(0, attempts - 1));
}

/** One delivery pass for a tenant. */
export async function deliverOutbox(
  store: Store,
  config: AlertsConfig,
  tenant: string,
  nowMs: number,
  now: () => number = () => nowMs,
): Promise<DeliveryOutcome[]> {
  const entries = await store.documents.list<OutboxEntry>(tenant, KIND.outbox, { limit: 10_000 });
  const outcomes: DeliveryOutcome[] = [];
  const blockedGroups = new Set<string>();
  for (const { id, body: entry } of entries) {
    const { notification } = entry;
    // Ids sort by group then sequence: a group waiting for a retry holds its later notifications.
    if (blockedGroups.has(notification.groupKey)) continue;
    if (entry.nextAttemptMs > nowMs) {
      blockedGroups.add(notification.groupKey);
      continue;
    }
    const receiver = config.receivers[notification.receiver];
    const createdMs = Date.parse(notification.createdAt);
    let error: string | undefined;
    if (!receiver) error = `receiver "${notification.receiver}" is no longer configured`;
    else {
      try {
        const send = (
          receiver.type === 'inapp' ? inAppNotifier(store.documents) : NOTIFIERS[receiver.type]
        ) as Notifier;
        await send(notification, receiver, { timeoutMs: config.outbox.timeout });
      } catch (err) {
        error = describe(err);
      }
    }
    const type = receiver?.type ?? 'unknown';
    if (error === undefined) {
      const doneMs = now();
      await store.documents.put(tenant, KIND.delivery, id, {
        ...entry,
        attempts: entry.attempts + 1,
        status: 'delivered',
        deliveredAt: new Date(doneMs).toISOString(),
      } satisfies OutboxEntry);
      await store.documents.delete(tenant, KIND.outbox, id);
      outcomes.push({ id, receiver: notification.receiver, type, ok: true, latencyMs: doneMs - createdMs });
      continue;
    }
    const attempts = entry.attempts + 1;
    if (!receiver || nowMs - createdMs >= config.outbox.maxAge) {
      await store.documents.put(tenant, KIND.delivery, id, { ...entry, attempts, status: 'failed', lastError: error });
      await store.documents.delete(tenant, KIND.outbox, id);
      outcomes.push({ id, receiver: notification.receiver, type, ok: false, error, gaveUp: true });
      continue;
    }
    await store.documents.put(tenant, KIND.outbox, id, {
      ...entry,
      attempts,
      lastError: error,
      nextAttemptMs: nowMs + backoffMs(attempts, config.outbox),
    } satisfies OutboxEntry);
    blockedGroups.add(notification.groupKey);
    outcomes.push({ id, receiver: notification.receiver, type, ok: false, error });
  }
  return outcomes;
}

function describe(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message} (${cause})` : e.message;
}
