/**
 * A trace: the waterfall of every span (indented under its parent, each bar
 * placed by its start and duration on the trace's time axis, one colour per
 * service, error spans in red, the critical path marked); the selected
 * span's attributes, resource attributes and events, exception stack traces
 * preformatted; and the trace's log lines and business events (same trace
 * id) with a link to them in Explore. The selected span is kept in the URL
 * (`?span=`).
 */
import { useEffect, useMemo, useState } from 'react';
import { api, ApiError, runQuery } from '../api.ts';
import { DocsLink } from '../components/DocsLink.tsx';
import { navigate, setSearchParams, useLocation } from '../router.ts';
import { useNarrow } from '../use-narrow.ts';
import {
  attributeText,
  criticalPath,
  exceptions,
  formatSpanDuration,
  serviceColours,
  traceExploreUrl,
  type TraceAnswer,
  type TraceSpan,
} from './traces-model.ts';

type Outcome =
  | { kind: 'loading' }
  | { kind: 'ok'; trace: TraceAnswer }
  /** No spans were received for the trace; its events (NDJSON events carry trace ids too) around `at`. */
  | { kind: 'no-spans'; events: Record<string, unknown>[]; startTime: string }
  | { kind: 'error'; error: Error };

const EVENT_FIELDS = ['@timestamp', 'event.type', 'service.name', 'log.level', 'message', 'span_id', 'event.id'];

/** The events of a trace that has no spans, from the query API, an hour either side of `at` (else the last 24 h). */
async function eventsOnly(id: string, at: string): Promise<Outcome> {
  const t = Date.parse(at);
  const from = Number.isNaN(t) ? 'now-24h' : new Date(t - 3_600_000).toISOString();
  const to = Number.isNaN(t) ? 'now' : new Date(t + 3_600_000).toISOString();
  const answer = await runQuery(
    `trace_id:"${id}" | sort @timestamp asc | limit 200 | fields ${EVENT_FIELDS.join(', ')}`,
    from,
    to,
  );
  const names = answer.columns.map((c) => c.name);
  const events = answer.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i] ?? null])));
  const first = events[0]?.['@timestamp'];
  return { kind: 'no-spans', events, startTime: typeof first === 'string' ? first : from };
}

/** Gridlines of the time axis, as fractions of the trace's duration. */
const TICKS = [0, 0.25, 0.5, 0.75, 1];
const NARROW_TICKS = [0, 0.5, 1];

/** A link to the trace search that stays in the app. */
function SearchLink({ label }: { label: string }) {
  return (
    <a
      href="/traces"
      onClick={(e) => {
        e.preventDefault();
        navigate('/traces');
      }}
    >
      {label}
    </a>
  );
}

function AttributeTable({ title, values, testId }: { title: string; values: Record<string, unknown>; testId: string }) {
  const entries = Object.entries(values).sort(([a], [b]) => a.localeCompare(b));
  return (
    <div className="span-attrs" data-testid={testId}>
      <h4>{title}</h4>
      {entries.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <table>
          <tbody>
            {entries.map(([k, v]) => (
              <tr key={k}>
                <th>{k}</th>
                <td>{attributeText(v)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function SpanDetail({ span, traceStartMs, onClose }: { span: TraceSpan; traceStartMs: number; onClose: () => void }) {
  const offset = Date.parse(span.startTime) - traceStartMs;
  const thrown = exceptions(span);
  const otherEvents = span.events.filter((e) => e.name !== 'exception');
  return (
    <section className="group-section span-detail" data-testid="span-detail" data-span-id={span.spanId}>
      <div className="span-detail-head">
        <h2>
          {span.name} <span className="muted">{span.service ?? '(no service)'}</span>
        </h2>
        <button type="button" onClick={onClose} aria-label="Close span details">
          ✕
        </button>
      </div>
      <dl className="span-facts">
        <dt>Duration</dt>
        <dd data-testid="span-detail-duration">{formatSpanDuration(span.durationMs)}</dd>
        <dt>Starts at</dt>
        <dd>+{formatSpanDuration(offset)}</dd>
        <dt>Kind</dt>
        <dd>{span.kind}</dd>
        <dt>Status</dt>
        <dd className={span.status.code === 'error' ? 'span-status-error' : undefined} data-testid="span-detail-status">
          {span.status.code}
          {span.status.message ? `: ${span.status.message}` : ''}
        </dd>
        <dt>Span id</dt>
        <dd className="mono">{span.spanId}</dd>
        {span.parentSpanId ? (
          <>
            <dt>Parent</dt>
            <dd className="mono">{span.parentSpanId}</dd>
          </>
        ) : null}
        {span.scope ? (
          <>
            <dt>Scope</dt>
            <dd>{span.scope}</dd>
          </>
        ) : null}
      </dl>
      {thrown.map((x, i) => (
        <div key={i} className="span-exception" data-testid="span-exception">
          <strong>{x.type || 'exception'}</strong>
          {x.message ? `: ${x.message}` : ''}
          {x.stacktrace ? <pre className="stack-raw">{x.stacktrace}</pre> : null}
        </div>
      ))}
      <AttributeTable title="Attributes" values={span.attributes} testId="span-attributes" />
      <AttributeTable title="Resource" values={span.resource} testId="span-resource" />
      {otherEvents.length > 0 ? (
        <div className="span-attrs" data-testid="span-events">
          <h4>Events</h4>
          <ul className="span-event-list">
            {otherEvents.map((e, i) => (
              <li key={i}>
                <strong>{e.name}</strong>
                {e.timestamp ? (
                  <span className="muted"> +{formatSpanDuration(Date.parse(e.timestamp) - traceStartMs)}</span>
                ) : null}
                {Object.keys(e.attributes).length > 0 ? (
                  <span className="muted">
                    {' '}
                    {Object.entries(e.attributes)
                      .map(([k, v]) => `${k}=${attributeText(v)}`)
                      .join(' ')}
                  </span>
                ) : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {span.links.length > 0 ? (
        <div className="span-attrs">
          <h4>Links</h4>
          <ul className="span-event-list">
            {span.links.map((l) => (
              <li key={`${l.traceId}/${l.spanId}`} className="mono">
                <a href={`/traces/${l.traceId}`}>{l.traceId}</a> / {l.spanId}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

function Waterfall({
  trace,
  selected,
  onSelect,
  showPath,
}: {
  trace: TraceAnswer;
  selected: string;
  onSelect: (id: string) => void;
  showPath: boolean;
}) {
  const startMs = Date.parse(trace.startTime);
  const total = Math.max(trace.durationMs, 0.001);
  const colours = serviceColours(trace.services);
  const path = useMemo(() => criticalPath(trace.spans), [trace]);
  const narrow = useNarrow();
  const indent = narrow ? 8 : 14;
  return (
    <div className="waterfall" data-testid="waterfall" role="table" aria-label="Spans">
      <div className="wf-row wf-axis" role="row">
        <div className="wf-label" role="columnheader">
          Span
        </div>
        <div className="wf-track" role="columnheader">
          {(narrow ? NARROW_TICKS : TICKS).map((f) => (
            <span
              key={f}
              className="wf-tick"
              style={{ left: `${f * 100}%` }}
              data-align={f === 0 ? 'start' : f === 1 ? 'end' : 'mid'}
            >
              {formatSpanDuration(f * trace.durationMs)}
            </span>
          ))}
        </div>
      </div>
      {trace.spans.map((s) => {
        const left = ((Date.parse(s.startTime) - startMs) / total) * 100;
        const width = Math.max((s.durationMs / total) * 100, 0.3);
        const isError = s.status.code === 'error';
        const onPath = path.has(s.spanId);
        // The duration beside the bar where there is room, else inside a wide bar, else before it.
        const placement = left + width <= 78 ? 'right' : width >= 14 ? 'inside' : 'left';
        const classes = ['wf-row', 'wf-span'];
        if (isError) classes.push('wf-error');
        if (s.spanId === selected) classes.push('wf-selected');
        if (showPath && onPath) classes.push('wf-path');
        return (
          <div
            key={s.spanId}
            className={classes.join(' ')}
            role="row"
            tabIndex={0}
            data-testid="span-row"
            data-span-id={s.spanId}
            data-service={s.service ?? ''}
            data-depth={s.depth}
            data-critical={onPath ? 'true' : 'false'}
            aria-selected={s.spanId === selected}
            onClick={() => onSelect(s.spanId === selected ? '' : s.spanId)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                onSelect(s.spanId === selected ? '' : s.spanId);
              }
            }}
          >
            <div className="wf-label" role="cell" style={{ paddingLeft: 6 + s.depth * indent }}>
              <i className="wf-swatch" style={{ background: colours.get(s.service ?? '') ?? '#94a3b8' }} />
              <span className="wf-name" data-testid="span-name" title={s.name}>
                {isError ? (
                  <span className="wf-error-mark" aria-label="error">
                    !{' '}
                  </span>
                ) : null}
                {s.name}
              </span>
              {narrow ? null : (
                <span className="wf-service muted" data-testid="span-service">
                  {s.service ?? ''}
                </span>
              )}
            </div>
            <div className="wf-track" role="cell">
              {TICKS.slice(1, -1).map((f) => (
                <span key={f} className="wf-grid" style={{ left: `${f * 100}%` }} />
              ))}
              <span
                className="wf-bar"
                style={{
                  left: `${left}%`,
                  width: `${width}%`,
                  background: isError ? undefined : (colours.get(s.service ?? '') ?? '#94a3b8'),
                }}
              />
              <span
                className={`wf-duration${placement === 'inside' ? ' wf-duration-inside' : ''}`}
                data-testid="span-duration"
                style={
                  placement === 'right'
                    ? { left: `${left + width}%` }
                    : placement === 'inside'
                      ? { right: `${100 - left - width}%` }
                      : { right: `${100 - left}%`, paddingRight: 4 }
                }
              >
                {formatSpanDuration(s.durationMs)}
              </span>
            </div>
          </div>
        );
      })}
    </div>
  );
}

function TraceEvents({
  trace,
  onSelect,
}: {
  trace: Pick<TraceAnswer, 'traceId' | 'startTime' | 'durationMs' | 'events'> & { spans: { spanId: string }[] };
  onSelect: (spanId: string) => void;
}) {
  const startMs = Date.parse(trace.startTime);
  const spanIds = new Set(trace.spans.map((s) => s.spanId));
  return (
    <section className="group-section trace-events" data-testid="trace-events">
      <div className="span-detail-head">
        <h2>Logs and events ({trace.events.length})</h2>
        <a data-testid="trace-explore" href={traceExploreUrl(trace.traceId, trace.startTime, trace.durationMs)}>
          Open in Explore ↗
        </a>
      </div>
      {trace.events.length === 0 ? (
        <p className="muted">No events carry this trace id.</p>
      ) : (
        <div className="table-wrap">
          <table className="result-table trace-event-table">
            <thead>
              <tr>
                <th>At</th>
                <th>Service</th>
                <th>Type</th>
                <th>Message</th>
              </tr>
            </thead>
            <tbody>
              {trace.events.map((e, i) => {
                const t = Date.parse(String(e['@timestamp'] ?? ''));
                const spanId = typeof e['span_id'] === 'string' ? e['span_id'] : '';
                const level = String(e['log.level'] ?? '');
                return (
                  <tr
                    key={String(e['event.id'] ?? i)}
                    data-testid="trace-event"
                    className={spanIds.has(spanId) ? 'expandable' : undefined}
                    title={spanIds.has(spanId) ? 'Show the span that wrote this' : undefined}
                    onClick={() => spanIds.has(spanId) && onSelect(spanId)}
                  >
                    <td className="nowrap num">{Number.isNaN(t) ? '' : `+${formatSpanDuration(t - startMs)}`}</td>
                    <td>{String(e['service.name'] ?? '')}</td>
                    <td>
                      {String(e['event.type'] ?? '')}
                      {level ? <span className={`tag level-${level.toLowerCase()}`}>{level}</span> : null}
                    </td>
                    <td className="trace-event-message">{String(e['message'] ?? '')}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function TracePage({ id }: { id: string }) {
  const { search } = useLocation();
  const selected = search.get('span') ?? '';
  const at = search.get('at') ?? '';
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'loading' });
  const [showPath, setShowPath] = useState(true);

  useEffect(() => {
    let live = true;
    api<TraceAnswer>(`/api/v1/traces/${encodeURIComponent(id)}`)
      .then(
        (trace): Outcome | Promise<Outcome> => ({ kind: 'ok', trace }),
        (error: Error): Outcome | Promise<Outcome> =>
          error instanceof ApiError && error.status === 404 ? eventsOnly(id, at) : { kind: 'error', error },
      )
      .then(
        (next) => live && setOutcome(next),
        (error: Error) => live && setOutcome({ kind: 'error', error }),
      );
    return () => {
      live = false;
    };
  }, [id, at]);

  if (outcome.kind === 'loading') return <p className="page-message">Loading…</p>;
  if (outcome.kind === 'error') {
    return (
      <div className="page">
        <p className="error-text" role="alert" data-testid="trace-error">
          {outcome.error.message}
        </p>
        <SearchLink label="← Search traces" />
      </div>
    );
  }
  if (outcome.kind === 'no-spans') {
    return (
      <div className="page trace-page">
        <div className="page-head">
          <div>
            <p className="muted crumbs">
              <SearchLink label="Traces" /> /
            </p>
            <h1 data-testid="trace-title">
              Trace <span className="mono">{id}</span>
            </h1>
            <p className="muted" data-testid="trace-no-spans">
              No spans were received for this trace (they come from OpenTelemetry over <code>/v1/traces</code>
              ); its events are below.
            </p>
          </div>
        </div>
        <TraceEvents
          trace={{ traceId: id, startTime: outcome.startTime, durationMs: 0, events: outcome.events, spans: [] }}
          onSelect={() => undefined}
        />
      </div>
    );
  }
  const trace = outcome.trace;
  const startMs = Date.parse(trace.startTime);
  const colours = serviceColours(trace.services);
  const root = trace.spans.find((s) => s.depth === 0);
  const span = trace.spans.find((s) => s.spanId === selected);
  const select = (spanId: string) => setSearchParams({ span: spanId || undefined }, { replace: true });

  return (
    <div className="page trace-page">
      <div className="page-head">
        <div>
          <p className="muted crumbs">
            <SearchLink label="Traces" /> /
          </p>
          <h1 data-testid="trace-title">
            {root ? root.name : trace.traceId}
            {root?.service ? <span className="muted"> {root.service}</span> : null}
          </h1>
          <p className="muted trace-facts" data-testid="trace-facts">
            <span className="mono">{trace.traceId}</span> · {new Date(trace.startTime).toLocaleString()} ·{' '}
            <strong data-testid="trace-duration">{formatSpanDuration(trace.durationMs)}</strong> · {trace.spanCount}{' '}
            spans · {trace.services.length} {trace.services.length === 1 ? 'service' : 'services'}
            {trace.errorCount > 0 ? (
              <span className="tag tag-error" data-testid="trace-error-count">
                {trace.errorCount} error{trace.errorCount === 1 ? '' : 's'}
              </span>
            ) : null}
          </p>
          <DocsLink topic="web-ui.md#traces" label="Reading a trace" />
        </div>
      </div>
      <div className="trace-legend" data-testid="trace-legend">
        {trace.services.map((s) => (
          <span key={s} className="service-chip" data-testid="legend-service">
            <i style={{ background: colours.get(s) }} />
            {s}
          </span>
        ))}
        <label className="path-toggle">
          <input type="checkbox" checked={showPath} onChange={(e) => setShowPath(e.target.checked)} /> Critical path
        </label>
      </div>
      <div className={`trace-layout${span ? ' with-detail' : ''}`}>
        <section className="group-section trace-main">
          <Waterfall trace={trace} selected={span ? selected : ''} onSelect={select} showPath={showPath} />
        </section>
        {span ? <SpanDetail span={span} traceStartMs={startMs} onClose={() => select('')} /> : null}
      </div>
      <TraceEvents trace={trace} onSelect={select} />
    </div>
  );
}
