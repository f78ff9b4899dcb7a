/**
 * The firing alerts, polled once for the whole app (top-bar badge, toasts,
 * dashboard banners, the Alerts page): `GET /api/v1/alerts/live?since=<cursor>`
 * every POLL_MS while some component listens and the tab is visible (and at
 * once when it becomes visible again). `version` goes up whenever the answer
 * differs from the previous one (an alert fired, resolved, or was silenced),
 * so pages reload their own details only then.
 */
import { useSyncExternalStore } from 'react';
import { apiKey } from './api.ts';

const POLL_MS = 3000;
/** After a 401 (no key yet, or a revoked one): look this often whether a key was entered (no request). */
const KEY_CHECK_MS = 1000;
/** ... and ask again this much later anyway (a key revoked and restored). */
const UNAUTHORIZED_POLL_MS = 30_000;

/** One firing alert (src/alerts/live-alerts.ts). */
export interface LiveAlert {
  fingerprint: string;
  rule: string;
  severity: string;
  priority: string;
  summary: string;
  labels: Record<string, string>;
  startsAt: string;
  /** The dashboard id the rule belongs to (its `dashboard: /dashboards/<id>`), or null. */
  dashboard: string | null;
  link: string;
  silenced: boolean;
}

export interface LiveSnapshot {
  cursor: string;
  now: string;
  firing: { total: number; bySeverity: Record<string, number> };
  silenced: number;
  pending: number;
  alerts: LiveAlert[];
  changes: { id: string; fingerprint: string; rule: string; to: 'firing' | 'resolved'; at: string }[];
}

export interface LiveState {
  readonly snapshot: LiveSnapshot | null;
  readonly error: string;
  /** +1 whenever something changed since the previous answer. */
  readonly version: number;
}

let state: LiveState = { snapshot: null, error: '', version: 0 };
let signature = '';
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setTimeout> | undefined;
let polling = false;

function emit(next: LiveState): void {
  state = next;
  for (const listener of listeners) listener();
}

function signatureOf(s: LiveSnapshot): string {
  return [s.cursor, s.pending, ...s.alerts.map((a) => `${a.fingerprint}:${a.startsAt}:${a.silenced ? 1 : 0}`)].join(
    '|',
  );
}

function schedule(ms: number): void {
  clearTimeout(timer);
  if (listeners.size > 0) timer = setTimeout(() => void poll(), ms);
}

/** Waits for a key other than the refused one (entered in the prompt), then polls. */
function waitForKey(refused: string, untilMs: number): void {
  clearTimeout(timer);
  if (listeners.size === 0) return;
  timer = setTimeout(() => {
    if (apiKey() !== refused || Date.now() >= untilMs) void poll();
    else waitForKey(refused, untilMs);
  }, KEY_CHECK_MS);
}

/**
 * One poll. Unlike api(), a 401 here does not ask for a key: the page's own
 * requests do that, and a poll still on its way with a key just replaced
 * must not bring the prompt back over a page that now works.
 */
async function poll(): Promise<void> {
  if (polling) return;
  if (document.hidden) return; // visibilitychange polls again
  polling = true;
  const key = apiKey();
  let refused = false;
  try {
    const since = state.snapshot?.cursor;
    const response = await fetch(`/api/v1/alerts/live${since ? `?since=${since}` : ''}`, {
      headers: { accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    });
    if (!response.ok) {
      refused = response.status === 401;
      const answer = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
      throw new Error(answer?.error?.message ?? `The server answered ${response.status}`);
    }
    const snapshot = (await response.json()) as LiveSnapshot;
    const next = signatureOf(snapshot);
    const changed = next !== signature;
    signature = next;
    emit({ snapshot, error: '', version: changed ? state.version + 1 : state.version });
  } catch (err) {
    emit({ ...state, error: (err as Error).message });
  } finally {
    polling = false;
  }
  if (refused) waitForKey(key, Date.now() + UNAUTHORIZED_POLL_MS);
  else schedule(POLL_MS);
}

function onVisibility(): void {
  if (!document.hidden) void refreshLiveAlerts();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (listeners.size === 1) {
    document.addEventListener('visibilitychange', onVisibility);
    void poll();
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    }
  };
}

/** Polls now (after an acknowledgement, a new silence, or an API key was entered). */
export async function refreshLiveAlerts(): Promise<void> {
  clearTimeout(timer);
  await poll();
}

/** The live alerts; re-renders on every answer. */
export function useLiveAlerts(): LiveState {
  return useSyncExternalStore(subscribe, () => state);
}

/** Severity words, most urgent first. */
export const SEVERITY_ORDER = ['critical', 'high', 'warning', 'info'];

/** The most urgent severity among these alerts (ignoring silenced ones), or undefined. */
export function topSeverity(alerts: readonly LiveAlert[]): string | undefined {
  let best: string | undefined;
  for (const a of alerts) {
    if (a.silenced) continue;
    if (best === undefined || SEVERITY_ORDER.indexOf(a.severity) < SEVERITY_ORDER.indexOf(best)) best = a.severity;
  }
  return best;
}
