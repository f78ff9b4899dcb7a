/**
 * What the UI polls to show alerts where people look (top-bar badge,
 * dashboard banners, toasts, the Alerts page): the firing alerts with their
 * count per severity, and what changed since a cursor. Computed from the
 * rules' `alert_state` documents only (plus the rules and silences, which the
 * caller may cache), so a poll never scans history or the outbox.
 *
 * The cursor is the alert engine's clock (ms) of the newest change seen.
 * Changes are instances that started firing or resolved at or after the
 * cursor: a change at the cursor's own millisecond is answered again (two
 * rules of one evaluation pass are written one after the other, and a poll
 * between them must not lose the second), so clients deduplicate by `id`.
 */
import type { RuleStateDoc, Silence } from './alert-model.ts';
import { alertOf } from './dispatcher.ts';
import type { CompiledRule } from './rule.ts';
import { silencedBy } from './silences.ts';

/** Severity words, most urgent first (the `severity` label). */
export const SEVERITY_WORDS = ['critical', 'high', 'warning', 'info'] as const;

/** At most this many firing alerts are listed (all are counted). */
const MAX_LISTED = 200;

/** One firing alert as the UI shows it. */
export interface LiveAlert {
  readonly fingerprint: string;
  readonly rule: string;
  /** `critical`, `high`, `warning`, `info`. */
  readonly severity: string;
  /** P0–P3. */
  readonly priority: string;
  readonly summary: string;
  readonly labels: Readonly<Record<string, string>>;
  /** When it started firing (engine clock), ISO-8601. */
  readonly startsAt: string;
  /** The id of the dashboard the rule belongs to (its `dashboard: /dashboards/<id>`), or null. */
  readonly dashboard: string | null;
  readonly link: string;
  readonly silenced: boolean;
}

/** One change: an alert that started firing or resolved. */
export interface LiveChange {
  /** `<fingerprint>|<to>|<ms>`: unique per change, for deduplication. */
  readonly id: string;
  readonly fingerprint: string;
  readonly rule: string;
  readonly to: 'firing' | 'resolved';
  readonly at: string;
  readonly severity: string;
  readonly priority: string;
  readonly summary: string;
  readonly dashboard: string | null;
  readonly silenced: boolean;
}

export interface LiveSnapshot {
  /** Pass as `since` next time. */
  readonly cursor: string;
  /** The engine's clock now, ISO-8601. */
  readonly now: string;
  /** Firing alerts that are not silenced (what the badge counts), in total and per severity word. */
  readonly firing: { readonly total: number; readonly bySeverity: Readonly<Record<string, number>> };
  /** Firing but silenced (not counted in `firing`). */
  readonly silenced: number;
  /** Pending (the condition holds, `for` has not passed yet). */
  readonly pending: number;
  /** The firing alerts, most urgent and newest first (silenced ones included, marked). */
  readonly alerts: readonly LiveAlert[];
  /** Changes at or after `since` (empty without `since`), oldest first. */
  readonly changes: readonly LiveChange[];
}

/**
 * The dashboard id a rule belongs to: its `dashboard` field `/dashboards/<id>`
 * (a path, or a URL with that path; a query string is ignored). Other links
 * name no dashboard.
 */
export function dashboardIdOf(rule: Pick<CompiledRule, 'spec'>): string | null {
  const link = rule.spec.dashboard;
  if (!link) return null;
  let path = link;
  if (/^https?:\/\//i.test(link)) {
    try {
      path = new URL(link).pathname;
    } catch {
      return null;
    }
  }
  const m = /^\/dashboards\/([^/?#]+)\/?(?:[?#].*)?$/.exec(path);
  if (!m?.[1]) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return null;
  }
}

const rankOf = (severity: string): number => {
  const i = (SEVERITY_WORDS as readonly string[]).indexOf(severity);
  return i < 0 ? SEVERITY_WORDS.length : i;
};

/** The snapshot of one tenant from its state documents, rules and silences. */
export function liveSnapshot(input: {
  readonly states: readonly RuleStateDoc[];
  readonly rules: ReadonlyMap<string, CompiledRule>;
  readonly silences: readonly Silence[];
  readonly sinceMs: number | undefined;
  readonly nowMs: number;
  readonly externalUrl: string;
}): LiveSnapshot {
  const { states, rules, silences, sinceMs, nowMs, externalUrl } = input;
  const bySeverity: Record<string, number> = Object.fromEntries(SEVERITY_WORDS.map((w) => [w, 0]));
  const alerts: LiveAlert[] = [];
  const changes: LiveChange[] = [];
  let total = 0;
  let silenced = 0;
  let pending = 0;
  let cursorMs = sinceMs ?? 0;
  for (const state of states) {
    const rule = rules.get(state.rule);
    if (!rule) continue;
    const dashboard = dashboardIdOf(rule);
    for (const instance of state.instances) {
      if (instance.status === 'pending') {
        pending++;
        continue;
      }
      const alert = alertOf(rule, instance, externalUrl);
      const muted = alert.status === 'firing' && silencedBy(silences, alert.labels, nowMs) !== undefined;
      const severity = alert.labels['severity'] ?? rule.severity;
      const priority = alert.labels['priority'] ?? rule.spec.severity;
      const summary = alert.annotations['summary'] ?? alert.annotations['title'] ?? rule.id;
      const changedAtMs = instance.status === 'firing' ? instance.firingSinceMs : instance.resolvedAtMs;
      if (changedAtMs !== undefined) {
        cursorMs = Math.max(cursorMs, changedAtMs);
        if (sinceMs !== undefined && changedAtMs >= sinceMs) {
          const to = instance.status === 'firing' ? 'firing' : 'resolved';
          changes.push({
            id: `${instance.fingerprint}|${to}|${changedAtMs}`,
            fingerprint: instance.fingerprint,
            rule: rule.id,
            to,
            at: new Date(changedAtMs).toISOString(),
            severity,
            priority,
            summary,
            dashboard,
            silenced: muted,
          });
        }
      }
      if (instance.status !== 'firing') continue;
      if (muted) silenced++;
      else {
        total++;
        bySeverity[severity] = (bySeverity[severity] ?? 0) + 1;
      }
      alerts.push({
        fingerprint: instance.fingerprint,
        rule: rule.id,
        severity,
        priority,
        summary,
        labels: alert.labels,
        startsAt: alert.startsAt,
        dashboard,
        link: alert.link,
        silenced: muted,
      });
    }
  }
  alerts.sort(
    (a, b) =>
      Number(a.silenced) - Number(b.silenced) ||
      rankOf(a.severity) - rankOf(b.severity) ||
      b.startsAt.localeCompare(a.startsAt) ||
      a.fingerprint.localeCompare(b.fingerprint),
  );
  changes.sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  return {
    cursor: String(cursorMs),
    now: new Date(nowMs).toISOString(),
    firing: { total, bySeverity },
    silenced,
    pending,
    alerts: alerts.slice(0, MAX_LISTED),
    changes,
  };
}
