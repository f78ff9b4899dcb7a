/** The shapes the error group service answers (and `/api/v1/errors` returns): docs/errors.md "API". */
import type { Filter, TimeRange } from '../query/ir.ts';
import type { ErrorSample } from './error-samples.ts';
import type { GroupState, GroupStatus } from './group-state.ts';

export type SortKey = 'events' | 'users' | 'revenue' | 'lastSeen' | 'firstSeen';

export interface ListRequest {
  readonly tenant: string;
  readonly range: TimeRange;
  readonly sort?: SortKey;
  readonly order?: 'asc' | 'desc';
  readonly service?: string;
  readonly release?: string;
  readonly environment?: string;
  /** `all` lists every state; the default lists unresolved groups. */
  readonly status?: GroupStatus | 'all';
  /** More conditions in the query language, already parsed. */
  readonly filter?: Filter;
  readonly limit?: number;
  readonly offset?: number;
}

/** Money at risk: per currency and (naively, see docs/errors.md) in total. */
export interface RevenueAtRisk {
  readonly total: number;
  readonly byCurrency: readonly { readonly currency: string; readonly amount: number }[];
}

/** One group as listed. */
export interface ErrorGroupView {
  readonly id: string;
  readonly title: string;
  readonly type: string;
  readonly message: string;
  readonly level: string | null;
  readonly status: GroupStatus;
  /** Unresolved again after a resolution. */
  readonly regressed: boolean;
  /** First seen inside the range. */
  readonly isNew: boolean;
  /** ISO-8601: first event ever seen, and the latest one in the range. */
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly events: number;
  readonly users: number;
  readonly customers: number;
  readonly sessions: number;
  readonly failedCheckouts: number;
  readonly revenueAtRisk: RevenueAtRisk;
  readonly services: readonly string[];
  readonly environments: readonly string[];
  /** The fingerprints that make up the group (more than one after a merge). */
  readonly fingerprints: readonly string[];
  readonly state: Omit<GroupState, 'history' | 'resolutions' | 'status'>;
  /** Events per bucket over the range, oldest first. */
  readonly trend?: { readonly bucketMs: number; readonly fromMs: number; readonly counts: readonly number[] };
  /** Path of the group's page in the web UI. */
  readonly url: string;
}

export interface ErrorGroupList {
  readonly groups: readonly ErrorGroupView[];
  /** Groups matching before `limit` and `offset`. */
  readonly total: number;
  readonly elapsedMs: number;
}

export interface Breakdown {
  readonly field: string;
  readonly values: readonly { readonly value: string; readonly count: number }[];
}

export interface ErrorGroupDetail extends ErrorGroupView {
  readonly history: GroupState['history'];
  readonly releases: readonly { readonly release: string; readonly count: number }[];
  readonly tags: readonly Breakdown[];
  readonly samples: readonly ErrorSample[];
}

export type StateChange =
  | { readonly status: 'resolved'; readonly inNextRelease?: boolean }
  | { readonly status: 'unresolved' }
  | { readonly status: 'ignored'; readonly untilCount?: number; readonly untilMs?: number };
