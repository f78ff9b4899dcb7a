/**
 * The in-app inbox: every notification routed to an `inapp` receiver is kept
 * per tenant as an `alert_inbox` document (firing and resolved alike) until
 * it is one of the INBOX_KEEP newest. The UI lists it newest first with the
 * unread count and acknowledges items one by one or all at once. An
 * acknowledgement is the tenant's ("someone has seen it"), not one user's.
 *
 * Ids sort newest first: `<inverted creation ms, base 36, 9 characters>_<8
 * hex of the notification id>`, so a list in id order is the inbox order
 * and the oldest items are the tail that pruning drops. No id holds a run of
 * digits long enough to be taken for a card number (documents are redacted).
 */
import { createHash } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { DocumentStore } from '../store/documents.ts';
import { KIND, type Notification } from './alert-model.ts';
import { summaryOf, titleOf } from './notifiers/notifier.ts';

/** How many notifications a tenant's inbox keeps (the oldest beyond go). */
export const INBOX_KEEP = 500;
/** The notifier prunes on one write in this many (and on its first per tenant): an inbox holds at most KEEP + this. */
export const PRUNE_EVERY = 20;
/** Alerts kept per inbox item (a notification of a big group lists the first ones and counts the rest). */
const MAX_ALERTS_PER_ITEM = 50;
/** 36^9 − 1 ms is the year 5188: creation times invert to 9 base-36 digits. */
const INVERT_FROM = 36 ** 9 - 1;
const PRIORITY_ORDER = ['P0', 'P1', 'P2', 'P3'];

/** One alert of an inbox item. */
export interface InboxAlert {
  readonly fingerprint: string;
  readonly alertname: string;
  readonly status: 'firing' | 'resolved';
  readonly severity: string;
  readonly priority: string;
  readonly summary: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt?: string;
  /** Explore or the rule's dashboard, with the time window. */
  readonly link: string;
}

/** The `alert_inbox` document body. */
export interface InboxItem {
  readonly notificationId: string;
  readonly status: 'firing' | 'resolved';
  /** "[FIRING:1] HighRiskTransactions (high)". */
  readonly title: string;
  /** The most urgent of its alerts (word and P0–P3). */
  readonly severity: string;
  readonly priority: string;
  readonly alerts: readonly InboxAlert[];
  /** All alerts of the notification (`alerts` holds the first 50). */
  readonly alertCount: number;
  /** When the notification was made (the alert engine's clock), ISO-8601. */
  readonly createdAt: string;
  readonly acknowledgedAt?: string;
  /** Who acknowledged it (the API key's actor). */
  readonly acknowledgedBy?: string;
}

/** An inbox item as the API answers it. */
export type InboxView = InboxItem & { readonly id: string; readonly acknowledged: boolean };

/** The document id of a notification's inbox item (sorts newest first). */
export function inboxIdOf(notification: Pick<Notification, 'id' | 'createdAt'>): string {
  const createdMs = Math.max(0, Math.min(INVERT_FROM, Date.parse(notification.createdAt) || 0));
  const inverted = (INVERT_FROM - createdMs).toString(36).padStart(9, '0');
  return `${inverted}_${createHash('sha256').update(notification.id).digest('hex').slice(0, 8)}`;
}

/** The inbox item of a notification. */
export function inboxItemOf(notification: Notification): InboxItem {
  const alerts: InboxAlert[] = notification.alerts.slice(0, MAX_ALERTS_PER_ITEM).map((alert) => ({
    fingerprint: alert.fingerprint,
    alertname: alert.labels['alertname'] ?? 'alert',
    status: alert.status,
    severity: alert.labels['severity'] ?? 'unknown',
    priority: alert.labels['priority'] ?? '',
    summary: summaryOf(alert),
    labels: alert.labels,
    startsAt: alert.startsAt,
    ...(alert.endsAt ? { endsAt: alert.endsAt } : {}),
    link: alert.link,
  }));
  const urgent = [...alerts].sort(
    (a, b) => rank(a.priority) - rank(b.priority) || Number(b.status === 'firing') - Number(a.status === 'firing'),
  )[0];
  return {
    notificationId: notification.id,
    status: notification.status,
    title: titleOf(notification),
    severity: urgent?.severity ?? 'unknown',
    priority: urgent?.priority ?? '',
    alerts,
    alertCount: notification.alerts.length,
    createdAt: notification.createdAt,
  };
}

function rank(priority: string): number {
  const i = PRIORITY_ORDER.indexOf(priority);
  return i < 0 ? PRIORITY_ORDER.length : i;
}

function viewOf(id: string, item: InboxItem): InboxView {
  return { id, ...item, acknowledged: item.acknowledgedAt !== undefined };
}

/** All of a tenant's inbox, newest first. */
async function readInbox(documents: DocumentStore, tenant: string): Promise<InboxView[]> {
  const docs = await documents.list<InboxItem>(tenant, KIND.inbox, { limit: INBOX_KEEP + 10 * PRUNE_EVERY });
  return docs.map((d) => viewOf(d.id, d.body));
}

export interface InboxPage {
  readonly items: readonly InboxView[];
  /** Items matching the filter (all, or the unread ones). */
  readonly total: number;
  /** Unread items in the whole inbox. */
  readonly unread: number;
  readonly offset: number;
  readonly limit: number;
  /** The offset of the next page, or null on the last one. */
  readonly nextOffset: number | null;
}

/** One page of the inbox, newest first. */
export async function listInbox(
  documents: DocumentStore,
  tenant: string,
  page: { offset: number; limit: number; unreadOnly: boolean },
): Promise<InboxPage> {
  const all = await readInbox(documents, tenant);
  const unread = all.filter((i) => !i.acknowledged);
  const matching = page.unreadOnly ? unread : all;
  const items = matching.slice(page.offset, page.offset + page.limit);
  const next = page.offset + items.length;
  return {
    items,
    total: matching.length,
    unread: unread.length,
    offset: page.offset,
    limit: page.limit,
    nextOffset: next < matching.length ? next : null,
  };
}

/** Writes a notification into the inbox (once: a delivery retried after a crash keeps the acknowledgement). */
export async function storeInInbox(documents: DocumentStore, notification: Notification): Promise<string> {
  const id = inboxIdOf(notification);
  if (await documents.get(notification.tenant, KIND.inbox, id)) return id;
  await documents.put(notification.tenant, KIND.inbox, id, inboxItemOf(notification));
  return id;
}

/** Deletes the items past the `keep` newest; returns how many went. */
export async function pruneInbox(documents: DocumentStore, tenant: string, keep = INBOX_KEEP): Promise<number> {
  const docs = await documents.list<InboxItem>(tenant, KIND.inbox, { limit: keep + 10 * PRUNE_EVERY });
  let deleted = 0;
  for (const doc of docs.slice(keep)) if (await documents.delete(tenant, KIND.inbox, doc.id)) deleted++;
  return deleted;
}

async function acknowledgeDoc(
  documents: DocumentStore,
  tenant: string,
  id: string,
  item: InboxItem,
  version: number,
  by: string,
  nowMs: number,
): Promise<InboxView | undefined> {
  if (item.acknowledgedAt !== undefined) return viewOf(id, item);
  const acked: InboxItem = { ...item, acknowledgedAt: new Date(nowMs).toISOString(), acknowledgedBy: by };
  try {
    // On the version read: an item pruned meanwhile is not written back.
    await documents.put(tenant, KIND.inbox, id, acked, { expectedVersion: version });
    return viewOf(id, acked);
  } catch (err) {
    if (!(err instanceof AppError && err.status === 409)) throw err;
    const now = await documents.get<InboxItem>(tenant, KIND.inbox, id);
    return now ? viewOf(id, now.body) : undefined;
  }
}

/** Acknowledges one item; 404 `inbox.not_found` when the tenant has no such item. Acknowledging twice keeps the first. */
export async function acknowledgeOne(
  documents: DocumentStore,
  tenant: string,
  id: string,
  by: string,
  nowMs: number,
): Promise<InboxView> {
  const doc = await documents.get<InboxItem>(tenant, KIND.inbox, id);
  const view = doc ? await acknowledgeDoc(documents, tenant, id, doc.body, doc.version, by, nowMs) : undefined;
  if (!view) throw new AppError(404, 'inbox.not_found', `No inbox item "${id}"`);
  return view;
}

/**
 * Acknowledges the listed ids, or every unread item (`all`), optionally only
 * `through` an item and the older ones (what the user has seen: a
 * notification that arrived after it stays unread). Unknown ids are
 * returned in `missing`.
 */
export async function acknowledgeMany(
  documents: DocumentStore,
  tenant: string,
  which: { ids: readonly string[] } | { all: true; through?: string },
  by: string,
  nowMs: number,
): Promise<{ acknowledged: number; missing: string[] }> {
  const docs = await documents.list<InboxItem>(tenant, KIND.inbox, { limit: INBOX_KEEP + 10 * PRUNE_EVERY });
  const byId = new Map(docs.map((d) => [d.id, d]));
  let targets = docs;
  const missing: string[] = [];
  if ('ids' in which) {
    targets = [];
    for (const id of new Set(which.ids)) {
      const doc = byId.get(id);
      if (doc) targets.push(doc);
      else missing.push(id);
    }
  } else if (which.through !== undefined) {
    if (!byId.has(which.through))
      throw new AppError(404, 'inbox.not_found', `"through": no inbox item "${which.through}"`);
    const through = which.through;
    targets = docs.filter((d) => d.id >= through);
  }
  let acknowledged = 0;
  for (const doc of targets) {
    if (doc.body.acknowledgedAt !== undefined) continue;
    if (await acknowledgeDoc(documents, tenant, doc.id, doc.body, doc.version, by, nowMs)) acknowledged++;
  }
  return { acknowledged, missing };
}
