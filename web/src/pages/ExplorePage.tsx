/**
 * Explore: a query in the query language over a time range; the error at
 * its position; warnings (an unknown field, with suggestions that fix the
 * query); a histogram of matching events; the results (events expand to
 * their JSON; a stats result can be charted and saved as a panel); and a
 * field sidebar whose top values add filters.
 */
import { useEffect, useMemo, useState } from 'react';
import { ApiError, clearQueryCache, runQuery } from '../api.ts';
import { LazyChart as Chart } from '../components/LazyChart.tsx';
import { chartOption } from '../components/chart-options.ts';
import { QueryWarnings } from '../components/QueryWarnings.tsx';
import { ResultTable } from '../components/ResultTable.tsx';
import { TimeBar } from '../components/TimeBar.tsx';
import { setSearchParams, useLocation } from '../router.ts';
import { autoInterval, resolveTime } from '../time.ts';
import type { QueryAnswer } from '../types.ts';
import { useNarrow } from '../use-narrow.ts';
import { filterPart, replaceField, topValues, withFilter } from './explore-query.ts';
import { StatsResult, type StatsView } from './ExploreStats.tsx';
import { DocsLink } from '../components/DocsLink.tsx';

type Outcome =
  | { kind: 'idle' }
  | { kind: 'ok'; answer: QueryAnswer; histogram?: QueryAnswer }
  | { kind: 'error'; error: ApiError | Error };

export function ExplorePage() {
  const { search } = useLocation();
  const q = search.get('q') ?? '';
  const from = search.get('from') ?? 'now-1h';
  const to = search.get('to') ?? 'now';
  const refresh = search.get('refresh') ?? '';
  const view = (search.get('view') ?? 'table') as StatsView;
  const [text, setText] = useState(q);
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  const [tick, setTick] = useState(0);
  const narrow = useNarrow();

  useEffect(() => setText(q), [q]);

  useEffect(() => {
    if (q.trim() === '') {
      setOutcome({ kind: 'idle' });
      return;
    }
    let live = true;
    const interval = autoInterval(from, to);
    const histogramQuery = `${filterPart(q)} | stats count() as events by bin(@timestamp, ${interval})`;
    Promise.all([runQuery(q, from, to), runQuery(histogramQuery, from, to).catch(() => undefined)]).then(
      ([answer, histogram]) => live && setOutcome({ kind: 'ok', answer, ...(histogram ? { histogram } : {}) }),
      (error: Error) => live && setOutcome({ kind: 'error', error }),
    );
    return () => {
      live = false;
    };
  }, [q, from, to, tick]);

  const histogramOption = useMemo(() => {
    if (outcome.kind !== 'ok' || !outcome.histogram || outcome.histogram.rows.length === 0) return undefined;
    const panel = { id: 'h', title: '', type: 'bar' as const, w: 12, h: 2 };
    return chartOption(panel, outcome.histogram, resolveTime(to) - resolveTime(from), narrow);
  }, [outcome, from, to, narrow]);

  const run = (query: string) => {
    clearQueryCache();
    setSearchParams({ q: query });
    setTick((t) => t + 1);
  };
  const fields = outcome.kind === 'ok' ? topValues(outcome.answer) : [];

  return (
    <div className="page explore">
      <div className="page-head">
        <div>
          <h1>Explore</h1>
          <DocsLink topic="query-language.md" label="Query language" />
        </div>
        <TimeBar key={`${from}|${to}`} from={from} to={to} refresh={refresh} onRefresh={() => run(text)} />
      </div>
      <form
        className="query-bar"
        onSubmit={(e) => {
          e.preventDefault();
          run(text);
        }}
      >
        <textarea
          aria-label="Query"
          data-testid="query-input"
          value={text}
          // A phone shows the whole query rather than two lines of it.
          rows={narrow ? Math.min(5, Math.max(2, Math.ceil(text.length / 30))) : 2}
          spellCheck={false}
          placeholder="event.type:payment_transaction AND event.outcome:failure | stats count() by transaction.gateway"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              run(text);
            }
          }}
        />
        <button type="submit" className="primary">
          Run
        </button>
      </form>
      {outcome.kind === 'error' ? <QueryErrorView query={q} error={outcome.error} /> : null}
      {outcome.kind === 'ok' ? (
        <QueryWarnings
          warnings={outcome.answer.warnings}
          onReplace={(field, suggestion) => run(replaceField(q, field, suggestion))}
        />
      ) : null}
      {outcome.kind === 'ok' ? (
        <div className="explore-body">
          {fields.length > 0 ? (
            <aside className="field-sidebar" data-testid="field-sidebar">
              <h3>Fields</h3>
              {fields.map((f) => (
                <details key={f.field} open={f.field === 'event.type'}>
                  <summary>{f.field}</summary>
                  <ul>
                    {f.values.map((v) => (
                      <li key={v.value}>
                        <button
                          type="button"
                          className="link"
                          title={`Add ${f.field}:"${v.value}" to the query`}
                          onClick={() => run(withFilter(q, f.field, v.value))}
                        >
                          {v.value}
                        </button>
                        <span className="muted">{v.count}</span>
                      </li>
                    ))}
                  </ul>
                </details>
              ))}
            </aside>
          ) : null}
          <div className="explore-results">
            {histogramOption ? (
              <div className="histogram" data-testid="histogram">
                <Chart option={histogramOption} />
              </div>
            ) : null}
            <p className="muted" data-testid="result-summary">
              {outcome.answer.rows.length} rows · {outcome.answer.stats.rowsScanned.toLocaleString()} events in range ·{' '}
              {outcome.answer.stats.elapsedMs} ms
            </p>
            {outcome.answer.rows.length === 0 ? (
              <p className="page-message">No results in this time range.</p>
            ) : outcome.answer.columns.some((c) => c.name === '_source') ? (
              <ResultTable answer={outcome.answer} />
            ) : (
              <StatsResult query={q} answer={outcome.answer} from={from} to={to} view={view} narrow={narrow} />
            )}
          </div>
        </div>
      ) : null}
      {outcome.kind === 'idle' ? (
        <p className="page-message">
          Write a query and press Enter. Try{' '}
          <code>event.type:payment_transaction | stats count() by transaction.gateway</code>.
        </p>
      ) : null}
    </div>
  );
}

function QueryErrorView({ query, error }: { query: string; error: Error }) {
  const position = error instanceof ApiError ? error.position : undefined;
  return (
    <div className="query-error" role="alert" data-testid="query-error">
      <strong>{error instanceof ApiError ? error.code : 'error'}</strong>: {error.message}
      {position !== undefined ? (
        <pre data-testid="query-error-caret" data-position={position}>
          {query}
          {'\n'}
          {' '.repeat(position)}^
        </pre>
      ) : null}
    </div>
  );
}
