/**
 * Errors: the error groups (issues) of a time range with what each costs —
 * events, users, revenue at risk — its trend and state; sorted by any of
 * those, filtered by service, release, environment and state, all kept in
 * the URL. A row opens the group's page. The mean time to resolution per
 * service (last 30 days) sits above the list.
 */
import { useEffect, useState } from 'react';
import { api, runQuery } from '../api.ts';
import { DocsLink } from '../components/DocsLink.tsx';
import { LazyChart as Chart } from '../components/LazyChart.tsx';
import { TimeBar } from '../components/TimeBar.tsx';
import { formatAgo, formatDuration, formatValue } from '../format.ts';
import { navigate, setSearchParams, useLocation } from '../router.ts';
import { useNarrow } from '../use-narrow.ts';
import {
  revenueText,
  sparklineOption,
  SORTS,
  statusLabel,
  STATUSES,
  type ErrorGroupList,
  type ErrorGroupView,
  type MttrAnswer,
  type Sort,
} from './errors-model.ts';

const PAGE_SIZE = 50;

/** The filters whose choices come from the error events of the range. */
const FIELD_FILTERS = [
  { param: 'service', field: 'service.name', label: 'Service' },
  { param: 'release', field: 'service.version', label: 'Release' },
  { param: 'environment', field: 'deployment.environment', label: 'Environment' },
] as const;

type Outcome = { kind: 'loading' } | { kind: 'ok'; list: ErrorGroupList } | { kind: 'error'; message: string };

/** The values of a field among the error events of the range, most frequent first. */
function useFieldValues(field: string, from: string, to: string): string[] {
  const [values, setValues] = useState<string[]>([]);
  useEffect(() => {
    let live = true;
    runQuery(
      `exception.type:* AND ${field}:* | stats count() as n by ${field} | sort n desc | limit 100`,
      from,
      to,
    ).then(
      (a) => live && setValues(a.rows.map((r) => String(r[0] ?? '')).filter((v) => v !== '')),
      () => live && setValues([]),
    );
    return () => {
      live = false;
    };
  }, [field, from, to]);
  return values;
}

function FieldFilter({
  param,
  field,
  label,
  value,
  from,
  to,
}: {
  param: string;
  field: string;
  label: string;
  value: string;
  from: string;
  to: string;
}) {
  const values = useFieldValues(field, from, to);
  const options = value && !values.includes(value) ? [value, ...values] : values;
  return (
    <label className="filter">
      <span>{label}</span>
      <select
        aria-label={label}
        data-testid={`filter-${param}`}
        value={value}
        onChange={(e) => setSearchParams({ [param]: e.target.value, page: undefined })}
      >
        <option value="">All</option>
        {options.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    </label>
  );
}

function MttrLine() {
  const [mttr, setMttr] = useState<MttrAnswer | null>(null);
  useEffect(() => {
    api<MttrAnswer>('/api/v1/errors/mttr?from=now-30d').then(setMttr, () => setMttr(null));
  }, []);
  if (!mttr) return null;
  if (mttr.overall.resolutions === 0)
    return (
      <p className="muted errors-mttr" data-testid="mttr">
        Mean time to resolution (30 days): no group resolved yet.
      </p>
    );
  return (
    <p className="muted errors-mttr" data-testid="mttr">
      Mean time to resolution (30 days): <strong>{formatDuration(mttr.overall.meanMs ?? 0)}</strong> over{' '}
      {mttr.overall.resolutions} {mttr.overall.resolutions === 1 ? 'resolution' : 'resolutions'}
      {mttr.byService
        .filter((s) => s.meanMs !== null)
        .map((s) => (
          <span key={s.service}>
            {' · '}
            {s.service || '(no service)'} {formatDuration(s.meanMs ?? 0)}
          </span>
        ))}
    </p>
  );
}

function StatusBadge({ group }: { group: ErrorGroupView }) {
  const word = group.status === 'unresolved' && group.regressed ? 'regressed' : group.status;
  return <span className={`status-badge status-${word}`}>{statusLabel(group)}</span>;
}

function SortHeader({
  sort,
  current,
  label,
  className,
}: {
  sort: Sort;
  current: Sort;
  label: string;
  className?: string;
}) {
  const active = sort === current;
  return (
    <th className={className} aria-sort={active ? 'descending' : undefined}>
      <button
        type="button"
        className={`sort-button${active ? ' active' : ''}`}
        data-testid={`sort-${sort}`}
        onClick={() => setSearchParams({ sort, page: undefined })}
      >
        {label}
        {active ? ' ▼' : ''}
      </button>
    </th>
  );
}

function GroupRow({ g, from, to }: { g: ErrorGroupView; from: string; to: string }) {
  const href = `${g.url}?${new URLSearchParams({ from, to }).toString()}`;
  return (
    <tr data-testid="error-row" data-group-id={g.id}>
      <td className="error-title" data-label="Error">
        <a
          href={href}
          data-testid="error-link"
          onClick={(e) => {
            e.preventDefault();
            navigate(href);
          }}
        >
          <strong>{g.type}</strong>
          <span className="error-message">{g.message}</span>
        </a>
        <span className="muted error-meta">
          {g.isNew ? <span className="tag tag-new">new</span> : null}
          {g.services.join(', ')}
          {g.environments.length > 0 ? ` · ${g.environments.join(', ')}` : ''}
          {` · first seen ${formatAgo(g.firstSeen)}`}
        </span>
      </td>
      <td className="num" data-label="Events" data-testid="cell-events">
        {formatValue(g.events)}
      </td>
      <td className="num" data-label="Users" data-testid="cell-users">
        {formatValue(g.users)}
      </td>
      <td
        className="num"
        data-label="Revenue at risk"
        data-testid="cell-revenue"
        data-total={g.revenueAtRisk.total}
        title={g.failedCheckouts > 0 ? `${g.failedCheckouts} failed checkouts` : undefined}
      >
        {revenueText(g.revenueAtRisk)}
      </td>
      <td className="sparkline-cell" data-label="Trend">
        {g.trend && g.trend.counts.length > 1 ? (
          <div className="sparkline" data-testid="sparkline">
            <Chart option={sparklineOption(g.trend)} />
          </div>
        ) : null}
      </td>
      <td className="nowrap" data-label="Last seen" title={new Date(g.lastSeen).toLocaleString()}>
        {formatAgo(g.lastSeen)}
      </td>
      <td data-label="State">
        <StatusBadge group={g} />
      </td>
    </tr>
  );
}

export function ErrorsPage() {
  const { search } = useLocation();
  const from = search.get('from') ?? 'now-24h';
  const to = search.get('to') ?? 'now';
  const refresh = search.get('refresh') ?? '';
  const sort = (SORTS.find((s) => s.value === search.get('sort'))?.value ?? 'events') as Sort;
  const status = STATUSES.find((s) => s.value === search.get('status'))?.value ?? 'unresolved';
  const filters = Object.fromEntries(FIELD_FILTERS.map((f) => [f.param, search.get(f.param) ?? '']));
  const page = Math.max(0, Number(search.get('page') ?? 0) || 0);
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'loading' });
  const [tick, setTick] = useState(0);
  const narrow = useNarrow();

  const params = new URLSearchParams({ from, to, sort, order: 'desc', status, limit: String(PAGE_SIZE) });
  if (page > 0) params.set('offset', String(page * PAGE_SIZE));
  for (const f of FIELD_FILTERS) if (filters[f.param]) params.set(f.param, filters[f.param] as string);
  const url = `/api/v1/errors?${params.toString()}`;

  useEffect(() => {
    let live = true;
    api<ErrorGroupList>(url).then(
      (list) => live && setOutcome({ kind: 'ok', list }),
      (err: Error) => live && setOutcome({ kind: 'error', message: err.message }),
    );
    return () => {
      live = false;
    };
  }, [url, tick]);

  useEffect(() => {
    const ms = { '10s': 10_000, '30s': 30_000, '1m': 60_000 }[refresh];
    if (!ms) return;
    const timer = setInterval(() => setTick((t) => t + 1), ms);
    return () => clearInterval(timer);
  }, [refresh]);

  const list = outcome.kind === 'ok' ? outcome.list : undefined;
  return (
    <div className="page errors-page">
      <div className="page-head">
        <div>
          <h1>Errors</h1>
          <DocsLink topic="errors.md" label="Grouping, states and revenue at risk" />
        </div>
        <TimeBar key={`${from}|${to}`} from={from} to={to} refresh={refresh} onRefresh={() => setTick((t) => t + 1)} />
      </div>
      <div className="toolbar errors-filters">
        <label className="filter">
          <span>State</span>
          <select
            aria-label="State"
            data-testid="filter-status"
            value={status}
            onChange={(e) => setSearchParams({ status: e.target.value, page: undefined })}
          >
            {STATUSES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        {FIELD_FILTERS.map((f) => (
          <FieldFilter key={f.param} {...f} value={filters[f.param] ?? ''} from={from} to={to} />
        ))}
        <label className="filter">
          <span>Sort by</span>
          <select
            aria-label="Sort by"
            data-testid="sort-select"
            value={sort}
            onChange={(e) => setSearchParams({ sort: e.target.value, page: undefined })}
          >
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <MttrLine />
      {outcome.kind === 'error' ? (
        <p className="error-text" role="alert">
          {outcome.message}
        </p>
      ) : null}
      {outcome.kind === 'loading' ? <p className="page-message">Loading…</p> : null}
      {list && list.groups.length === 0 ? (
        <p className="page-message" data-testid="errors-empty">
          No {status === 'all' ? '' : `${status} `}error groups in this time range.
        </p>
      ) : null}
      {list && list.groups.length > 0 ? (
        <div className="errors-list">
          <div className="table-wrap">
            <table className="result-table errors-table" data-testid="errors-table">
              <thead>
                <tr>
                  <th>Error</th>
                  <SortHeader sort="events" current={sort} label="Events" className="num" />
                  <SortHeader sort="users" current={sort} label="Users" className="num" />
                  <SortHeader
                    sort="revenue"
                    current={sort}
                    label={narrow ? 'Revenue' : 'Revenue at risk'}
                    className="num"
                  />
                  <th>Trend</th>
                  <SortHeader sort="lastSeen" current={sort} label="Last seen" />
                  <th>State</th>
                </tr>
              </thead>
              <tbody>
                {list.groups.map((g) => (
                  <GroupRow key={g.id} g={g} from={from} to={to} />
                ))}
              </tbody>
            </table>
          </div>
          <div className="errors-pager">
            <span className="muted" data-testid="errors-summary">
              {page * PAGE_SIZE + 1}–{page * PAGE_SIZE + list.groups.length} of {list.total} groups ·{' '}
              {list.stats.elapsedMs} ms
            </span>
            <span className="actions">
              <button
                type="button"
                disabled={page === 0}
                onClick={() => setSearchParams({ page: page > 1 ? String(page - 1) : undefined })}
              >
                ← Previous
              </button>
              <button
                type="button"
                disabled={(page + 1) * PAGE_SIZE >= list.total}
                onClick={() => setSearchParams({ page: String(page + 1) })}
              >
                Next →
              </button>
            </span>
          </div>
        </div>
      ) : null}
    </div>
  );
}
