/**
 * What the alerting parts hand each other and persist per tenant in the
 * document store (kinds below). Everything is plain JSON.
 */
import type { Values } from './expr-eval.ts';
import type { AlertInstance } from './state-machine.ts';

/** Document kinds, per tenant. */
export const KIND = {
  /** Rules created through the API; id = rule name. */
  rule: 'alert_rule',
  /** One per rule: instances and last evaluation; id = rule name. */
  state: 'alert_state',
  /** One per transition; id = `<rule>|<ISO time>|<fingerprint>|<to>`. */
  history: 'alert_history',
  silence: 'alert_silence',
  /** Notification groups per receiver (group_wait / interval / repeat bookkeeping). */
  group: 'alert_group',
  /** Notifications waiting for delivery. */
  outbox: 'alert_outbox',
  /** Notifications delivered or given up (kept for the UI). */
  delivery: 'alert_delivery',
  /** The in-app inbox (notifiers/inapp.ts, inbox.ts); id sorts newest first. */
  inbox: 'alert_inbox',
} as const;

/** The `alert_state` document of one rule. */
export interface RuleStateDoc {
  readonly rule: string;
  readonly lastEvaluatedMs?: number;
  /** Error group rules: groups first seen or regressed before this do not fire (set at the first evaluation). */
  readonly watchFromMs?: number;
  readonly lastDurationMs?: number;
  readonly lastError?: string;
  /** The values of up to 20 groups at the last evaluation (for the UI and `rules test`). */
  readonly lastSamples?: readonly { labels: Record<string, string>; values: Values; active: boolean }[];
  readonly instances: readonly AlertInstance[];
}

/** One alert as routed and notified: labels include alertname, severity, priority and the group labels. */
export interface Alert {
  readonly fingerprint: string;
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly values: Values;
  readonly startsAt: string;
  readonly endsAt?: string;
  /** Explore (or the rule's dashboard) with the query and the time window. */
  readonly link: string;
  /** The group labels and values as people read them (message-format.ts); absent in entries queued before. */
  readonly fields?: readonly AlertField[];
}

/** One label or value of an alert as a notification shows it: `Total amount: $2,042.10`. */
export interface AlertField {
  /** The label's or value's name in the rule (`transaction.gateway`, `total_amount`). */
  readonly name: string;
  /** Its human name ("Gateway", "Total amount"). */
  readonly title: string;
  /** The formatted value ("stripe", "$2,042.10", "95.3 %"). */
  readonly value: string;
  /** `label`, or the value's kind (money, count, percent, ...). */
  readonly kind: string;
}

/** One message to one receiver. */
export interface Notification {
  readonly id: string;
  readonly tenant: string;
  readonly receiver: string;
  /** Stable per receiver and group: PagerDuty's dedup_key, Slack's thread. */
  readonly groupKey: string;
  readonly groupLabels: Readonly<Record<string, string>>;
  /** `firing` when any alert fires. */
  readonly status: 'firing' | 'resolved';
  readonly alerts: readonly Alert[];
  readonly createdAt: string;
}

/** An outbox entry. */
export interface OutboxEntry {
  readonly notification: Notification;
  readonly attempts: number;
  readonly nextAttemptMs: number;
  readonly lastError?: string;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly deliveredAt?: string;
}

/** A silence: alerts whose labels match every matcher are not notified between startsAt and endsAt. */
export interface Silence {
  readonly id: string;
  readonly matchers: readonly SilenceMatcher[];
  readonly startsAt: string;
  readonly endsAt: string;
  readonly comment: string;
  readonly createdBy: string;
}

export interface SilenceMatcher {
  readonly name: string;
  readonly value: string;
  /** `=` (default), `!=`, `=~` (regular expression, whole value), `!~`. */
  readonly op: '=' | '!=' | '=~' | '!~';
}
