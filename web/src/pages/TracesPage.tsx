/**
 * Traces: search the traces of a time range by service, operation (span
 * name), status, minimum duration and an attribute (`order.id:ORD-123`),
 * all kept in the URL; each result shows its root operation, the services
 * it touched, its span count, duration and an error mark, and opens the
 * trace's waterfall. A trace id typed in the search box opens that trace.
 */
import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { DocsLink } from '../components/DocsLink.tsx';
import { TimeBar } from '../components/TimeBar.tsx';
import { formatAgo } from '../format.ts';
import { navigate, setSearchParams, useLocation } from '../router.ts';
import {
  formatSpanDuration,
  serviceColours,
  TRACE_ID,
  traceUrl,
  type TraceSearchAnswer,
  type TraceSummary,
} from './traces-model.ts';

type Outcome = { kind: 'loading' } | { kind: 'ok'; answer: TraceSearchAnswer } | { kind: 'error'; message: string };

const TEXT_FILTERS = [
  { param: 'service', label: 'Service', placeholder: 'checkout-service' },
  { param: 'name', label: 'Operation', placeholder: 'POST /api/checkout' },
  { param: 'minDuration', label: 'Min duration', placeholder: '250ms' },
  { param: 'attribute', label: 'Attribute', placeholder: 'order.id:ORD-123456' },
] as const;
const PARAMS = [...TEXT_FILTERS.map((f) => f.param), 'status'] as const;

function TraceRow({ t }: { t: TraceSummary }) {
  const colours = serviceColours(t.services);
  const href = traceUrl(t.traceId);
  return (
    <tr data-testid="trace-row" data-trace-id={t.traceId} className={t.hasError ? 'trace-error' : undefined}>
      <td className="trace-root" data-label="Trace">
        <a
          href={href}
          data-testid="trace-link"
          onClick={(e) => {
            e.preventDefault();
            navigate(href);
          }}
        >
          {t.hasError ? (
            <span className="tag tag-error" data-testid="trace-error-mark" title={`${t.errorCount} error spans`}>
              {t.errorCount} error{t.errorCount === 1 ? '' : 's'}
            </span>
          ) : null}
          <strong>{t.rootName}</strong>
          {t.rootService ? <span className="muted">{t.rootService}</span> : null}
        </a>
        <span className="muted trace-id">{t.traceId}</span>
      </td>
      <td data-label="Services" data-testid="trace-services">
        {t.services.map((s) => (
          <span key={s} className="service-chip">
            <i style={{ background: colours.get(s) }} />
            {s}
          </span>
        ))}
      </td>
      <td className="num" data-label="Spans" data-testid="trace-span-count">
        {t.spanCount}
      </td>
      <td className="num" data-label="Duration" data-testid="trace-duration">
        {formatSpanDuration(t.durationMs)}
      </td>
      <td className="nowrap" data-label="Started" title={new Date(t.startTime).toLocaleString()}>
        {formatAgo(t.startTime)}
      </td>
    </tr>
  );
}

export function TracesPage() {
  const { search } = useLocation();
  const from = search.get('from') ?? 'now-1h';
  const to = search.get('to') ?? 'now';
  const refresh = search.get('refresh') ?? '';
  const values = Object.fromEntries(PARAMS.map((p) => [p, search.get(p) ?? ''])) as Record<
    (typeof PARAMS)[number],
    string
  >;
  const [draft, setDraft] = useState(values);
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'loading' });
  const [tick, setTick] = useState(0);

  const params = new URLSearchParams({ from, to, limit: '100' });
  for (const p of PARAMS) if (values[p]) params.set(p, values[p]);
  const url = `/api/v1/traces?${params.toString()}`;
  const key = PARAMS.map((p) => values[p]).join('\u0000');

  useEffect(() => setDraft(values), [key]);

  useEffect(() => {
    let live = true;
    setOutcome({ kind: 'loading' });
    api<TraceSearchAnswer>(url).then(
      (answer) => live && setOutcome({ kind: 'ok', answer }),
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

  const submit = () => {
    const id = draft.name.trim();
    if (TRACE_ID.test(id) && !draft.service && !draft.attribute) {
      navigate(traceUrl(id));
      return;
    }
    setSearchParams(Object.fromEntries(PARAMS.map((p) => [p, draft[p].trim() || undefined])));
    setTick((t) => t + 1);
  };

  return (
    <div className="page traces-page">
      <div className="page-head">
        <div>
          <h1>Traces</h1>
          <DocsLink topic="web-ui.md#traces" label="Searching and reading traces" />
        </div>
        <TimeBar key={`${from}|${to}`} from={from} to={to} refresh={refresh} onRefresh={() => setTick((t) => t + 1)} />
      </div>
      <form
        className="toolbar trace-filters"
        data-testid="trace-filters"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        {TEXT_FILTERS.map((f) => (
          <label key={f.param} className="filter">
            <span>{f.label}</span>
            <input
              aria-label={f.label}
              data-testid={`filter-${f.param}`}
              value={draft[f.param]}
              placeholder={f.placeholder}
              spellCheck={false}
              onChange={(e) => setDraft({ ...draft, [f.param]: e.target.value })}
            />
          </label>
        ))}
        <label className="filter">
          <span>Status</span>
          <select
            aria-label="Status"
            data-testid="filter-status"
            value={draft.status}
            onChange={(e) => setDraft({ ...draft, status: e.target.value })}
          >
            <option value="">Any</option>
            <option value="error">Error</option>
            <option value="ok">OK</option>
            <option value="unset">Unset</option>
          </select>
        </label>
        <button type="submit" className="primary" data-testid="trace-search">
          Search
        </button>
      </form>
      {outcome.kind === 'error' ? (
        <p className="error-text" role="alert" data-testid="traces-error">
          {outcome.message}
        </p>
      ) : null}
      {outcome.kind === 'loading' ? <p className="page-message">Loading…</p> : null}
      {outcome.kind === 'ok' && outcome.answer.traces.length === 0 ? (
        <p className="page-message" data-testid="traces-empty">
          No traces match in this time range.
        </p>
      ) : null}
      {outcome.kind === 'ok' && outcome.answer.traces.length > 0 ? (
        <div className="errors-list">
          <div className="table-wrap">
            <table className="result-table errors-table traces-table" data-testid="traces-table">
              <thead>
                <tr>
                  <th>Root operation</th>
                  <th>Services</th>
                  <th className="num">Spans</th>
                  <th className="num">Duration</th>
                  <th>Started</th>
                </tr>
              </thead>
              <tbody>
                {outcome.answer.traces.map((t) => (
                  <TraceRow key={t.traceId} t={t} />
                ))}
              </tbody>
            </table>
          </div>
          <p className="muted traces-summary" data-testid="traces-summary">
            {outcome.answer.traces.length} {outcome.answer.traces.length === 1 ? 'trace' : 'traces'}, newest first
            {outcome.answer.traces.length >= 100 ? ' (the first 100; narrow the search for others)' : ''}
          </p>
        </div>
      ) : null}
    </div>
  );
}
