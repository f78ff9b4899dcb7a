/**
 * Error groups (issues) as the API and the UI see them: the figures the
 * store computes per group (Store.errorGroups), joined with each group's
 * state document (group-state.ts) and the merges, the trend per hour, and
 * for one group its releases, tag breakdown and recent events with their
 * stack traces and breadcrumbs.
 *
 * State moves on read as well as on request: a resolved group with a later
 * event is a regression, an ignored one past its count or time escalates
 * (group-state.ts `advance`); the new state is written back then, so the
 * next reader and the history see it.
 */
import type { Filter, TimeRange } from '../query/ir.ts';
import type { StoredDocument } from '../store/documents.ts';
import type { ErrorGroupImpact, ErrorGroupStats } from '../store/sql/error-groups-compiler.ts';
import { RELEASE_FIELD } from '../store/sql/error-groups-compiler.ts';
import type { Store } from '../store/store.ts';
import type { ErrorGrouper } from './grouping-rules.ts';
import { errorTitle } from './fingerprint.ts';
import {
  advance,
  ignore,
  mttr,
  resolve,
  unresolve,
  UNRESOLVED,
  watchedSince,
  weekOf,
  type GroupFacts,
  type GroupState,
  type MttrFigures,
} from './group-state.ts';
import type {
  ErrorGroupDetail,
  ErrorGroupList,
  ErrorGroupView,
  ListRequest,
  SortKey,
  StateChange,
} from './error-group-types.ts';
import { anyOf, countBy, groupSamples, groupTrends, matchFilter, trendBuckets } from './group-queries.ts';

export const GROUP_KIND = 'error_group';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** States are read from the documents at most this stale (this process's own writes clear it at once). */
const STATE_CACHE_MS = 2_000;

export type {
  Breakdown,
  ErrorGroupDetail,
  ErrorGroupList,
  ErrorGroupView,
  ListRequest,
  RevenueAtRisk,
  SortKey,
  StateChange,
} from './error-group-types.ts';

/** Raised for a group id that names nothing the caller can change (the route answers 404). */
export class GroupNotFoundError extends Error {}

/** Fields of the tag breakdown on the group page (the Sentry tags, `labels.*`, are added from the samples). */
const BREAKDOWN_FIELDS = [
  'service.name',
  'deployment.environment',
  'session.device_type',
  'session.browser',
  'browser.name',
  'contexts.browser.name',
  'contexts.os.name',
  'transaction.gateway',
  'customer.region',
  'http.route',
  'host.name',
];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

interface StateEntry {
  readonly state: GroupState;
  readonly version: number;
}

export class ErrorGroupService {
  readonly #store: Store;
  readonly #grouper: ErrorGrouper;
  readonly #timeoutMs: number;
  readonly #states = new Map<string, { atMs: number; entries: Map<string, StateEntry> }>();
  /** tenant → group → first time any of its events was seen (never moves later). */
  readonly #firstSeen = new Map<string, Map<string, number>>();

  constructor(store: Store, grouper: ErrorGrouper, options: { timeoutMs: number }) {
    this.#store = store;
    this.#grouper = grouper;
    this.#timeoutMs = options.timeoutMs;
  }

  async #loadStates(tenant: string): Promise<Map<string, StateEntry>> {
    const cached = this.#states.get(tenant);
    if (cached && Date.now() - cached.atMs < STATE_CACHE_MS) return cached.entries;
    const docs: StoredDocument<GroupState>[] = await this.#store.documents.list<GroupState>(tenant, GROUP_KIND, {
      limit: 100_000,
    });
    const entries = new Map(docs.map((d) => [d.id, { state: d.body, version: d.version }]));
    this.#states.set(tenant, { atMs: Date.now(), entries });
    return entries;
  }

  /** Fingerprint → root group, from the configuration's merges and the state documents' (chains followed). */
  #merges(tenant: string, states: ReadonlyMap<string, StateEntry>): Map<string, string> {
    const direct = this.#grouper.mergesFor(tenant);
    for (const [id, { state }] of states)
      if (state.mergedInto && state.mergedInto !== id) direct.set(id, state.mergedInto);
    const out = new Map<string, string>();
    for (const from of direct.keys()) {
      let root = from;
      const seen = new Set<string>();
      while (direct.has(root) && !seen.has(root)) {
        seen.add(root);
        root = direct.get(root) as string;
      }
      if (root !== from) out.set(from, root);
    }
    return out;
  }

  async #write(tenant: string, id: string, state: GroupState, version: number | undefined): Promise<void> {
    try {
      await this.#store.documents.put(tenant, GROUP_KIND, id, state, {
        ...(version === undefined ? {} : { expectedVersion: version }),
        verbatim: ['mergedInto'],
      });
    } finally {
      this.#states.delete(tenant);
    }
  }

  /** The groups of a range with their state, filtered, sorted and paged. */
  async list(request: ListRequest): Promise<ErrorGroupList> {
    const started = performance.now();
    const { tenant, range } = request;
    const states = await this.#loadStates(tenant);
    const merges = this.#merges(tenant, states);
    const filters: Filter[] = [];
    if (request.service) filters.push(matchFilter('service.name', request.service));
    if (request.release) filters.push(matchFilter(RELEASE_FIELD, request.release));
    if (request.environment) filters.push(matchFilter('deployment.environment', request.environment));
    if (request.filter && request.filter.kind !== 'all') filters.push(request.filter);
    const filter: Filter | undefined =
      filters.length === 0 ? undefined : filters.length === 1 ? filters[0] : { kind: 'and', items: filters };
    const sort = request.sort ?? 'lastSeen';
    const { bucketMs } = trendBuckets(range);
    // Every group's figures and trend; revenue at risk for all of them only when it orders the list (it
    // needs the join with the commerce events), else for the page alone, below.
    // The distinct counts (users, customers, sessions) only when they order the list; else for the page.
    const result = await this.#store.errorGroups({
      tenant,
      range,
      merges,
      impact: sort === 'revenue',
      distinct: sort === 'users',
      timeoutMs: this.#timeoutMs,
      ...(filter ? { filter } : {}),
    });
    const advanced = await this.#advanceStates(tenant, result.groups, states, merges);
    const status = request.status ?? 'unresolved';
    const views = result.groups
      .filter((g) => !merges.has(g.group))
      .map((g) => ({ stats: g, state: advanced.get(g.group) ?? UNRESOLVED }))
      .filter((v) => status === 'all' || v.state.status === status);
    sortViews(views, sort, request.order ?? 'desc', new Map(result.impact.map((i) => [i.group, i])));
    const offset = Math.max(0, request.offset ?? 0);
    const page = views.slice(offset, offset + Math.max(1, Math.min(request.limit ?? 25, 500)));
    const pageIds = page.map((v) => v.stats.group);
    const pageStats = (r: { groups: readonly ErrorGroupStats[] }) => {
      const byId = new Map(r.groups.map((g) => [g.group, g]));
      for (const v of page) {
        const full = byId.get(v.stats.group);
        if (full) v.stats = { ...v.stats, users: full.users, customers: full.customers, sessions: full.sessions };
      }
    };
    const [firstSeen, { impact: impactRows, trends }] = await Promise.all([
      this.#firstSeenOf(
        tenant,
        range,
        page.map((v) => v.stats),
        merges,
      ),
      pageIds.length === 0
        ? Promise.resolve({ impact: result.impact, trends: new Map() })
        : this.#store
            .errorGroups({
              tenant,
              range,
              merges,
              groups: pageIds,
              impact: sort !== 'revenue',
              trendBucketMs: bucketMs,
              timeoutMs: this.#timeoutMs,
              ...(filter ? { filter } : {}),
            })
            .then(async (r) => {
              pageStats(r);
              return {
                impact: sort === 'revenue' ? result.impact : r.impact,
                trends: r.trends
                  ? trendsOf(r.trends, range)
                  : await groupTrends(this.#store, this.#timeoutMs, tenant, range, filter, merges),
              };
            }),
    ]);
    const impact = new Map(impactRows.map((i) => [i.group, i]));
    return {
      groups: page.map((v) =>
        this.#view(v.stats, v.state, impact.get(v.stats.group), firstSeen.get(v.stats.group), range, trends),
      ),
      total: views.length,
      elapsedMs: Math.round((performance.now() - started) * 10) / 10,
    };
  }

  /** Moves the states of these groups on by what happened since (see `advance`), writing back what changed. */
  async #advanceStates(
    tenant: string,
    groups: readonly ErrorGroupStats[],
    states: ReadonlyMap<string, StateEntry>,
    merges: ReadonlyMap<string, string>,
  ): Promise<Map<string, GroupState>> {
    const out = new Map<string, GroupState>();
    const since = new Map<string, { afterMs: number; exceptRelease?: string }>();
    for (const g of groups) {
      const entry = states.get(g.group);
      if (!entry) continue;
      out.set(g.group, entry.state);
      const watched = watchedSince(entry.state);
      if (watched) since.set(g.group, watched);
    }
    const nowMs = Date.now();
    for (const [id, entry] of states) {
      // An ignore period that ended needs no event to end it.
      if (!out.has(id) && entry.state.status === 'ignored' && (entry.state.ignoreUntilMs ?? Infinity) <= nowMs) {
        out.set(id, entry.state);
      }
    }
    let sinceStats = new Map<string, ErrorGroupStats>();
    if (since.size > 0) {
      const fromMs = Math.min(...[...since.values()].map((v) => v.afterMs));
      const result = await this.#store.errorGroups({
        tenant,
        range: { fromMs, toMs: nowMs + 1 },
        merges,
        groups: [...since.keys()],
        since,
        timeoutMs: this.#timeoutMs,
      });
      sinceStats = new Map(result.groups.map((g) => [g.group, g]));
    }
    for (const [id, state] of out) {
      const s = sinceStats.get(id);
      const next = advance(
        state,
        s ? { events: s.eventsSince ?? 0, firstMs: s.firstSinceMs ?? null } : undefined,
        nowMs,
      );
      if (next === state) continue;
      out.set(id, next);
      await this.#write(tenant, id, next, states.get(id)?.version).catch(() => undefined);
    }
    return out;
  }

  /** All-time first seen of these groups (cached: a group's first event never moves later). */
  async #firstSeenOf(
    tenant: string,
    range: TimeRange,
    groups: readonly ErrorGroupStats[],
    merges: ReadonlyMap<string, string>,
  ): Promise<Map<string, number>> {
    let known = this.#firstSeen.get(tenant);
    if (!known) this.#firstSeen.set(tenant, (known = new Map()));
    const missing = groups.filter((g) => (known.get(g.group) ?? Infinity) > g.firstSeenMs);
    const older = missing.filter((g) => !known.has(g.group));
    if (older.length > 0 && range.fromMs > 0) {
      const before = await this.#store.errorGroups({
        tenant,
        range: { fromMs: 0, toMs: range.fromMs },
        merges,
        groups: older.map((g) => g.group),
        timeoutMs: this.#timeoutMs,
      });
      for (const g of before.groups) known.set(g.group, g.firstSeenMs);
    }
    for (const g of missing) known.set(g.group, Math.min(known.get(g.group) ?? Infinity, g.firstSeenMs));
    if (known.size > 100_000) known.clear();
    return new Map(groups.map((g) => [g.group, known.get(g.group) ?? g.firstSeenMs]));
  }

  #view(
    g: ErrorGroupStats,
    state: GroupState,
    impact: ErrorGroupImpact | undefined,
    firstSeenMs: number | undefined,
    range: TimeRange,
    trends: ReadonlyMap<string, { bucketMs: number; fromMs: number; counts: number[] }>,
  ): ErrorGroupView {
    const { history: _h, resolutions: _r, status, ...visible } = state;
    const first = firstSeenMs ?? g.firstSeenMs;
    const byCurrency = impact?.revenueAtRisk ?? [];
    const trend = trends.get(g.group);
    return {
      id: g.group,
      title: errorTitle(g.type, g.message),
      type: g.type,
      message: g.message,
      level: g.level,
      status,
      regressed: status === 'unresolved' && state.regressedAtMs !== undefined,
      isNew: first >= range.fromMs,
      firstSeen: iso(first),
      lastSeen: iso(g.lastSeenMs),
      events: g.events,
      users: g.users,
      customers: g.customers,
      sessions: g.sessions,
      failedCheckouts: impact?.failedCheckouts ?? 0,
      revenueAtRisk: { total: byCurrency.reduce((sum, c) => sum + c.amount, 0), byCurrency },
      services: g.services,
      environments: g.environments,
      fingerprints: g.fingerprints,
      state: visible,
      ...(trend ? { trend } : {}),
      url: `/errors/${encodeURIComponent(g.group)}`,
    };
  }

  /** Events of these groups (ids after merges) in a range: the alert rules' earlier rates. */
  async counts(tenant: string, range: TimeRange, groups: readonly string[]): Promise<Map<string, number>> {
    if (groups.length === 0) return new Map();
    const states = await this.#loadStates(tenant);
    const merges = this.#merges(tenant, states);
    const result = await this.#store.errorGroups({
      tenant,
      range,
      merges,
      groups: [...groups],
      timeoutMs: this.#timeoutMs,
    });
    return new Map(result.groups.map((g) => [g.group, g.events]));
  }

  /** The release most of a group's events in the range carry ('' when none does). */
  async topRelease(tenant: string, fingerprints: readonly string[], range: TimeRange): Promise<string> {
    if (fingerprints.length === 0) return '';
    const top = await countBy(
      this.#store,
      this.#timeoutMs,
      tenant,
      range,
      anyOf('error.fingerprint', fingerprints),
      RELEASE_FIELD,
      1,
    );
    return top[0]?.value ?? '';
  }

  /** The group a fingerprint or group id stands for now (after merges). */
  async rootOf(tenant: string, id: string): Promise<string> {
    const states = await this.#loadStates(tenant);
    return this.#merges(tenant, states).get(id) ?? id;
  }

  /** One group in a range: its figures, state and history, releases, tags and recent events. */
  async detail(tenant: string, requestedId: string, range: TimeRange): Promise<ErrorGroupDetail> {
    const states = await this.#loadStates(tenant);
    const merges = this.#merges(tenant, states);
    const id = merges.get(requestedId) ?? requestedId;
    const result = await this.#store.errorGroups({
      tenant,
      range,
      merges,
      groups: [id],
      impact: true,
      timeoutMs: this.#timeoutMs,
    });
    let stats = result.groups[0];
    if (!stats) {
      // No event in the range: the group's figures over all time say whether it exists at all.
      const ever = await this.#store.errorGroups({
        tenant,
        range: { fromMs: 0, toMs: Date.now() + 1 },
        merges,
        groups: [id],
        timeoutMs: this.#timeoutMs,
      });
      const found = ever.groups[0];
      if (!found) throw new GroupNotFoundError(`No error group "${requestedId}"`);
      stats = { ...found, events: 0, users: 0, customers: 0, sessions: 0 };
    }
    const advanced = await this.#advanceStates(tenant, [stats], states, merges);
    const state = advanced.get(id) ?? UNRESOLVED;
    const members = [id, ...[...merges].filter(([, into]) => into === id).map(([from]) => from)];
    const fingerprints = [...new Set([...members, ...stats.fingerprints])].sort();
    const groupFilter = anyOf('error.fingerprint', fingerprints);
    const [firstSeen, trends, releases, samples] = await Promise.all([
      this.#firstSeenOf(tenant, range, [stats], merges),
      groupTrends(this.#store, this.#timeoutMs, tenant, range, groupFilter, merges),
      countBy(this.#store, this.#timeoutMs, tenant, range, groupFilter, RELEASE_FIELD, 50),
      groupSamples(this.#store, this.#timeoutMs, tenant, range, groupFilter),
    ]);
    const labelFields = [...new Set(samples.flatMap((s) => Object.keys(s.tags).map((k) => `labels.${k}`)))].slice(
      0,
      10,
    );
    const tags = (
      await Promise.all(
        [...BREAKDOWN_FIELDS, ...labelFields].map(async (field) => ({
          field,
          values: await countBy(this.#store, this.#timeoutMs, tenant, range, groupFilter, field, 10),
        })),
      )
    ).filter((b) => b.values.length > 0);
    const view = this.#view(
      { ...stats, fingerprints },
      state,
      result.impact.find((i) => i.group === id),
      firstSeen.get(id),
      range,
      trends,
    );
    return {
      ...view,
      history: state.history ?? [],
      releases: releases.map((r) => ({ release: r.value, count: r.count })),
      tags,
      samples,
    };
  }

  /** Changes a group's state; answers the new state. */
  async setState(tenant: string, requestedId: string, change: StateChange, by: string): Promise<GroupState> {
    const id = await this.rootOf(tenant, requestedId);
    const states = await this.#loadStates(tenant);
    const entry = states.get(id);
    const facts = await this.#facts(tenant, id, by);
    const current = entry?.state ?? UNRESOLVED;
    const next =
      change.status === 'resolved'
        ? resolve(current, facts, change.inNextRelease)
        : change.status === 'ignored'
          ? ignore(current, facts, {
              ...(change.untilCount === undefined ? {} : { count: change.untilCount }),
              ...(change.untilMs === undefined ? {} : { untilMs: change.untilMs }),
            })
          : unresolve(current, facts);
    await this.#write(tenant, id, next, entry?.version ?? 0);
    return next;
  }

  /** First seen, latest release and main service of a group over all time; 404 when it has no event. */
  async #facts(tenant: string, id: string, by: string): Promise<GroupFacts> {
    const states = await this.#loadStates(tenant);
    const merges = this.#merges(tenant, states);
    const nowMs = Date.now();
    const ever = await this.#store.errorGroups({
      tenant,
      range: { fromMs: 0, toMs: nowMs + 1 },
      merges,
      groups: [id],
      timeoutMs: this.#timeoutMs,
    });
    const stats = ever.groups[0];
    if (!stats) throw new GroupNotFoundError(`No error group "${id}"`);
    const latest = await this.#store.query({
      query: {
        filter: {
          kind: 'and',
          items: [anyOf('error.fingerprint', [id, ...stats.fingerprints]), { kind: 'exists', field: RELEASE_FIELD }],
        },
        stages: [{ kind: 'limit', n: 1 }],
      },
      range: { fromMs: stats.lastSeenMs - DAY_MS, toMs: nowMs + 1 },
      tenant,
      timeoutMs: this.#timeoutMs,
    });
    const source = latest.rows[0]?.[latest.columns.findIndex((c) => c.name === '_source')] as
      Record<string, unknown> | undefined;
    const release = (source?.['service'] as Record<string, unknown> | undefined)?.['version'];
    return {
      nowMs,
      by,
      firstSeenMs: stats.firstSeenMs,
      ...(typeof release === 'string' ? { latestRelease: release } : {}),
      ...(stats.services[0] ? { service: stats.services[0] } : {}),
    };
  }

  /** Merges `others` into group `id` (their events count for it from now on, past events included). */
  async merge(tenant: string, requestedId: string, others: readonly string[], by: string): Promise<string[]> {
    const id = await this.rootOf(tenant, requestedId);
    await this.#facts(tenant, id, by);
    const states = await this.#loadStates(tenant);
    const merged: string[] = [];
    for (const other of others) {
      const root = await this.rootOf(tenant, other);
      if (root === id) continue;
      const entry = states.get(root);
      const current = entry?.state ?? UNRESOLVED;
      const next: GroupState = {
        ...current,
        mergedInto: id,
        history: [...(current.history ?? []), { atMs: Date.now(), action: 'merged', by, detail: `into ${id}` }].slice(
          -100,
        ),
      };
      await this.#write(tenant, root, next, entry?.version ?? 0);
      merged.push(root);
    }
    return merged;
  }

  /** Takes fingerprints merged into group `id` out of it again: each is its own group once more. */
  async unmerge(tenant: string, id: string, fingerprints: readonly string[], by: string): Promise<string[]> {
    const states = await this.#loadStates(tenant);
    const configured = this.#grouper.mergesFor(tenant);
    const out: string[] = [];
    for (const fp of fingerprints) {
      const entry = states.get(fp);
      if (!entry?.state.mergedInto || (await this.rootOf(tenant, fp)) !== id) {
        if (configured.has(fp)) {
          throw new GroupNotFoundError(
            `"${fp}" is merged by the grouping rules of the configuration; change them there`,
          );
        }
        throw new GroupNotFoundError(`"${fp}" is not merged into group "${id}"`);
      }
      const { mergedInto: _m, ...rest } = entry.state;
      const next: GroupState = {
        ...rest,
        history: [...(rest.history ?? []), { atMs: Date.now(), action: 'unmerged', by, detail: `from ${id}` }].slice(
          -100,
        ),
      };
      await this.#write(tenant, fp, next, entry.version);
      out.push(fp);
    }
    return out;
  }

  /** Mean time to resolution of the resolutions in the range, overall, per service and per ISO week. */
  async mttr(
    tenant: string,
    range: TimeRange,
  ): Promise<{
    overall: MttrFigures;
    byService: (MttrFigures & { service: string })[];
    byWeek: (MttrFigures & { week: string })[];
  }> {
    const states = await this.#loadStates(tenant);
    const all = [...states.values()].flatMap((e) =>
      (e.state.resolutions ?? []).filter((r) => r.resolvedAtMs >= range.fromMs && r.resolvedAtMs < range.toMs),
    );
    const by = <K extends string>(key: (r: (typeof all)[number]) => K) => {
      const groups = new Map<K, typeof all>();
      for (const r of all) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
      return [...groups].sort(([a], [b]) => a.localeCompare(b));
    };
    return {
      overall: mttr(all),
      byService: by((r) => r.service).map(([service, rs]) => ({ service, ...mttr(rs) })),
      byWeek: by((r) => weekOf(r.resolvedAtMs)).map(([week, rs]) => ({ week, ...mttr(rs) })),
    };
  }
}

/** The store's trend rows as the list's sparklines (see groupTrends: the same buckets). */
function trendsOf(
  rows: ReadonlyMap<string, readonly (readonly [number, number])[]>,
  range: TimeRange,
): Map<string, { bucketMs: number; fromMs: number; counts: number[] }> {
  const { bucketMs, fromMs, buckets } = trendBuckets(range);
  const out = new Map<string, { bucketMs: number; fromMs: number; counts: number[] }>();
  for (const [group, points] of rows) {
    const counts = new Array<number>(buckets).fill(0);
    for (const [t, n] of points) {
      const i = Math.floor((t - fromMs) / bucketMs);
      if (i >= 0 && i < buckets) counts[i] = (counts[i] ?? 0) + n;
    }
    out.set(group, { bucketMs, fromMs, counts });
  }
  return out;
}

function sortViews(
  views: { stats: ErrorGroupStats; state: GroupState }[],
  sort: SortKey,
  order: 'asc' | 'desc',
  impact: ReadonlyMap<string, ErrorGroupImpact>,
): void {
  const revenue = (g: string) => (impact.get(g)?.revenueAtRisk ?? []).reduce((sum, c) => sum + c.amount, 0);
  const key = (v: { stats: ErrorGroupStats }): number => {
    switch (sort) {
      case 'events':
        return v.stats.events;
      case 'users':
        return v.stats.users;
      case 'revenue':
        return revenue(v.stats.group);
      case 'firstSeen':
        return v.stats.firstSeenMs;
      default:
        return v.stats.lastSeenMs;
    }
  };
  const sign = order === 'asc' ? 1 : -1;
  views.sort(
    (a, b) => sign * (key(a) - key(b)) || b.stats.events - a.stats.events || a.stats.group.localeCompare(b.stats.group),
  );
}
