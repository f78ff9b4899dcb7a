/**
 * The state of an error group (an issue), kept as one document per group
 * (kind `error_group`, id = the group id) and changed only by the functions
 * here, which are pure:
 *
 * - `unresolved`: new groups, and every group nobody has triaged.
 * - `resolved`: someone marked it fixed. An event of the group after that
 *   instant makes it a **regression**: unresolved again, `regressedAtMs` set
 *   to that event's time. "Resolved in next release" leaves out the events
 *   of the release that was the group's latest when it was resolved: only
 *   another release (or none) regresses it.
 * - `ignored`: muted, forever or until a count of further events or an
 *   instant; past either it is unresolved again (escalated).
 *
 * A group merged into another has `mergedInto`: its events count for that
 * group, and it is not listed on its own. Each resolution is kept
 * (`resolutions`) for the mean time to resolution (MTTR).
 */

export type GroupStatus = 'unresolved' | 'resolved' | 'ignored';

/** One change, for the group page's history. */
export interface GroupHistoryEntry {
  readonly atMs: number;
  /** `resolved`, `unresolved`, `ignored`, `regressed`, `escalated`, `merged`, `unmerged`. */
  readonly action: string;
  /** Who (the API key's actor) or `shoplens` for what the service decided. */
  readonly by: string;
  readonly detail?: string;
}

/** One episode from first seen (or a regression) to a resolution. */
export interface Resolution {
  readonly openedAtMs: number;
  readonly resolvedAtMs: number;
  /** The group's main service then (the first of its services), '' when it had none. */
  readonly service: string;
}

export interface GroupState {
  readonly status: GroupStatus;
  readonly resolvedAtMs?: number;
  /** Resolved "in next release": events of this release do not regress the group. */
  readonly resolvedInRelease?: string;
  readonly ignoredAtMs?: number;
  readonly ignoreUntilCount?: number;
  readonly ignoreUntilMs?: number;
  /** The latest regression: the time of the first event after the resolution. */
  readonly regressedAtMs?: number;
  readonly regressions?: number;
  /** First seen, as known when the state last changed (a group's first event never moves later). */
  readonly firstSeenMs?: number;
  /** This group's events belong to that group now. */
  readonly mergedInto?: string;
  readonly resolutions?: readonly Resolution[];
  readonly history?: readonly GroupHistoryEntry[];
}

/** Most history entries and resolutions kept per group. */
const MAX_HISTORY = 100;

export const UNRESOLVED: GroupState = Object.freeze({ status: 'unresolved' });

function withHistory(state: GroupState, entry: GroupHistoryEntry): GroupHistoryEntry[] {
  return [...(state.history ?? []), entry].slice(-MAX_HISTORY);
}

/** What is known of the group when its state changes. */
export interface GroupFacts {
  readonly nowMs: number;
  readonly by: string;
  readonly firstSeenMs?: number;
  /** Release of the group's latest event (for "resolved in next release"). */
  readonly latestRelease?: string;
  readonly service?: string;
}

export function resolve(state: GroupState, facts: GroupFacts, inNextRelease = false): GroupState {
  const openedAtMs = state.regressedAtMs ?? state.firstSeenMs ?? facts.firstSeenMs ?? facts.nowMs;
  const release = inNextRelease ? (facts.latestRelease ?? '') : undefined;
  return {
    ...clearMute(state),
    status: 'resolved',
    resolvedAtMs: facts.nowMs,
    ...(release === undefined ? {} : { resolvedInRelease: release }),
    ...(facts.firstSeenMs === undefined
      ? {}
      : { firstSeenMs: Math.min(facts.firstSeenMs, state.firstSeenMs ?? Infinity) }),
    resolutions: [
      ...(state.resolutions ?? []),
      { openedAtMs, resolvedAtMs: facts.nowMs, service: facts.service ?? '' },
    ].slice(-MAX_HISTORY),
    history: withHistory(state, {
      atMs: facts.nowMs,
      action: 'resolved',
      by: facts.by,
      ...(release === undefined ? {} : { detail: `in the release after ${release || '(none)'}` }),
    }),
  };
}

export function ignore(
  state: GroupState,
  facts: GroupFacts,
  until: { count?: number; untilMs?: number } = {},
): GroupState {
  const detail = [
    until.count === undefined ? '' : `until ${until.count} more events`,
    until.untilMs === undefined ? '' : `until ${new Date(until.untilMs).toISOString()}`,
  ]
    .filter((s) => s !== '')
    .join(' or ');
  return {
    ...clearResolution(state),
    status: 'ignored',
    ignoredAtMs: facts.nowMs,
    ...(until.count === undefined ? {} : { ignoreUntilCount: until.count }),
    ...(until.untilMs === undefined ? {} : { ignoreUntilMs: until.untilMs }),
    history: withHistory(state, { atMs: facts.nowMs, action: 'ignored', by: facts.by, ...(detail ? { detail } : {}) }),
  };
}

export function unresolve(state: GroupState, facts: GroupFacts): GroupState {
  return {
    ...clearMute(clearResolution(state)),
    status: 'unresolved',
    history: withHistory(state, { atMs: facts.nowMs, action: 'unresolved', by: facts.by }),
  };
}

function clearResolution(state: GroupState): GroupState {
  const { resolvedAtMs: _a, resolvedInRelease: _b, ...rest } = state;
  return rest;
}

function clearMute(state: GroupState): GroupState {
  const { ignoredAtMs: _a, ignoreUntilCount: _b, ignoreUntilMs: _c, ...rest } = state;
  return rest;
}

/** What happened to the group after the instant its state waits on (GroupState.status). */
export interface SinceFacts {
  /** Events after that instant (of another release, for "resolved in next release"). */
  readonly events: number;
  /** Time of the first of them. */
  readonly firstMs: number | null;
}

/** The instant (and release) whose later events change the state; undefined for unresolved groups. */
export function watchedSince(state: GroupState): { afterMs: number; exceptRelease?: string } | undefined {
  if (state.status === 'resolved' && state.resolvedAtMs !== undefined) {
    return {
      afterMs: state.resolvedAtMs,
      ...(state.resolvedInRelease === undefined ? {} : { exceptRelease: state.resolvedInRelease }),
    };
  }
  if (state.status === 'ignored' && state.ignoredAtMs !== undefined) return { afterMs: state.ignoredAtMs };
  return undefined;
}

/**
 * The state after what happened since: a resolved group with a later event
 * regressed; an ignored one past its count or instant escalated. Answers the
 * same object when nothing changed.
 */
export function advance(state: GroupState, since: SinceFacts | undefined, nowMs: number): GroupState {
  if (state.status === 'resolved' && since && since.events > 0) {
    const at = since.firstMs ?? nowMs;
    return {
      ...clearResolution(state),
      status: 'unresolved',
      regressedAtMs: at,
      regressions: (state.regressions ?? 0) + 1,
      history: withHistory(state, {
        atMs: at,
        action: 'regressed',
        by: 'shoplens',
        detail: 'seen again after it was resolved',
      }),
    };
  }
  if (state.status === 'ignored') {
    const countReached = state.ignoreUntilCount !== undefined && (since?.events ?? 0) >= state.ignoreUntilCount;
    const timeReached = state.ignoreUntilMs !== undefined && nowMs >= state.ignoreUntilMs;
    if (countReached || timeReached) {
      return {
        ...clearMute(state),
        status: 'unresolved',
        history: withHistory(state, {
          atMs: nowMs,
          action: 'escalated',
          by: 'shoplens',
          detail: countReached ? `${since?.events ?? 0} events since it was ignored` : 'the ignore period ended',
        }),
      };
    }
  }
  return state;
}

/** Mean time to resolution, ms, of resolutions in a time range (by their resolution time). */
export interface MttrFigures {
  readonly resolutions: number;
  readonly meanMs: number | null;
}

export function mttr(resolutions: readonly Resolution[]): MttrFigures {
  if (resolutions.length === 0) return { resolutions: 0, meanMs: null };
  const total = resolutions.reduce((sum, r) => sum + Math.max(0, r.resolvedAtMs - r.openedAtMs), 0);
  return { resolutions: resolutions.length, meanMs: Math.round(total / resolutions.length) };
}

/** Monday 00:00 UTC of the ISO week `ms` falls in, as `YYYY-MM-DD`. */
export function weekOf(ms: number): string {
  const d = new Date(ms);
  const day = (d.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day)).toISOString().slice(0, 10);
}
