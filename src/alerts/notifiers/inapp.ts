/**
 * In-app inbox (seed 003's "Info → dashboard only" as a real channel): the
 * notification is stored in the tenant's inbox (../inbox.ts), where the UI
 * shows it with the unread count and acknowledges it. Unlike the other
 * channels it needs the document store, so the outbox builds it per store.
 */
import type { ReceiverConfig } from '../alerts-config.ts';
import type { DocumentStore } from '../../store/documents.ts';
import { PRUNE_EVERY, pruneInbox, storeInInbox } from '../inbox.ts';
import type { Notifier } from './notifier.ts';

/** Writes per tenant since the last prune (a prune on the first write, then on every PRUNE_EVERY-th). */
const writesSincePrune = new Map<string, number>();

export function inAppNotifier(documents: DocumentStore): Notifier<Extract<ReceiverConfig, { type: 'inapp' }>> {
  return async (notification) => {
    await storeInInbox(documents, notification);
    const writes = writesSincePrune.get(notification.tenant);
    if (writes === undefined || writes + 1 >= PRUNE_EVERY) {
      await pruneInbox(documents, notification.tenant);
      writesSincePrune.set(notification.tenant, 0);
    } else writesSincePrune.set(notification.tenant, writes + 1);
  };
}
