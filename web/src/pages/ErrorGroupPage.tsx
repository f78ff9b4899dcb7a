/**
 * One error group: its figures (events, users, revenue at risk, failed
 * checkouts), trend, state with the actions that change it (resolve,
 * resolve in the next release, ignore, reopen), the stack trace of a recent
 * event (in-app frames first, library frames folded away), breadcrumbs, tag
 * and release breakdowns, recent events with links to Explore and to their
 * trace, the state history, and the mean time to resolution of its service.
 */
import { useEffect, useState } from 'react';
import { api, ApiError } from '../api.ts';
import { DocsLink } from '../components/DocsLink.tsx';
import { LazyChart as Chart } from '../components/LazyChart.tsx';
import { TimeBar } from '../components/TimeBar.tsx';
import { formatAgo, formatDuration, formatValue } from '../format.ts';
import { navigate, useLocation } from '../router.ts';
import { useNarrow } from '../use-narrow.ts';
import {
  exploreHref,
  fingerprintFilter,
  revenueText,
  statusLabel,
  traceHref,
  trendOption,
  type ErrorGroupDetail,
  type ErrorSample,
  type MttrAnswer,
  type SampleFrame,
} from './errors-model.ts';

type Outcome = { kind: 'loading' } | { kind: 'ok'; group: ErrorGroupDetail } | { kind: 'error'; error: Error };

type StateChange =
  | { status: 'resolved'; inNextRelease?: boolean }
  | { status: 'unresolved' }
  | { status: 'ignored'; duration?: string; untilCount?: number };

function frameText(f: SampleFrame): { where: string; place: string } {
  const fn = f.function || '<anonymous>';
  const where = f.module && !fn.includes(f.module) ? `${f.module} in ${fn}` : fn;
  const place = [f.file, f.line ?? null, f.line != null ? (f.column ?? null) : null]
    .filter((p) => p != null && p !== '')
    .join(':');
  return { where, place };
}

function FrameRow({ f, n }: { f: SampleFrame; n: number }) {
  const { where, place } = frameText(f);
  return (
    <li className={f.inApp ? 'frame in-app' : 'frame library'} data-testid={f.inApp ? 'frame-in-app' : 'frame-library'}>
      <span className="frame-n">#{n}</span>
      <code className="frame-fn">{where}</code>
      {place ? <span className="frame-file">{place}</span> : null}
    </li>
  );
}

/**
 * The frames innermost first (where the error was raised on top), numbered in
 * that order; the in-app ones shown, the library ones folded into one toggle.
 */
function StackTrace({ sample }: { sample: ErrorSample }) {
  const numbered = [...sample.frames].reverse().map((f, i) => ({ f, n: i + 1 }));
  const inApp = numbered.filter((x) => x.f.inApp);
  const library = numbered.filter((x) => !x.f.inApp);
  if (numbered.length === 0) {
    return sample.stacktrace ? (
      <pre className="stack-raw">{sample.stacktrace}</pre>
    ) : (
      <p className="muted">This event has no stack trace.</p>
    );
  }
  return (
    <div className="stack" data-testid="stack-trace">
      <p className="stack-exception">
        <strong>{sample.type}</strong>: {sample.message}
        {sample.handled === false ? <span className="tag tag-unhandled">unhandled</span> : null}
      </p>
      {inApp.length > 0 ? (
        <ol className="frames" data-testid="in-app-frames">
          {inApp.map(({ f, n }) => (
            <FrameRow key={n} f={f} n={n} />
          ))}
        </ol>
      ) : (
        <p className="muted">No frame is in the application's code.</p>
      )}
      {library.length > 0 ? (
        <details className="library-frames" data-testid="library-frames" open={inApp.length === 0}>
          <summary>
            {library.length} library {library.length === 1 ? 'frame' : 'frames'}
          </summary>
          <ol className="frames">
            {library.map(({ f, n }) => (
              <FrameRow key={n} f={f} n={n} />
            ))}
          </ol>
        </details>
      ) : null}
      {sample.stacktrace ? (
        <details className="library-frames">
          <summary>Raw stack trace</summary>
          <pre className="stack-raw">{sample.stacktrace}</pre>
        </details>
      ) : null}
    </div>
  );
}

function Breadcrumbs({ sample }: { sample: ErrorSample }) {
  if (sample.breadcrumbs.length === 0) return null;
  return (
    <details className="breadcrumbs" open={!('ontouchstart' in window)}>
      <summary>
        Breadcrumbs ({sample.breadcrumbs.length},{' '}
        {sample.breadcrumbsFrom === 'client' ? 'sent by the SDK' : 'events of the same trace or session before it'})
      </summary>
      <ol>
        {sample.breadcrumbs.map((b, i) => (
          <li key={i}>
            <span className="muted">{b.timestamp ? new Date(b.timestamp).toLocaleTimeString() : ''}</span>{' '}
            {b.category ? <code>{b.category}</code> : null} {b.message === b.category ? '' : b.message}
          </li>
        ))}
      </ol>
    </details>
  );
}

function Figure({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="figure" data-testid={testId}>
      <div className="figure-value">{value}</div>
      <div className="figure-label">{label}</div>
    </div>
  );
}

function StateActions({ group, onChange }: { group: ErrorGroupDetail; onChange: (c: StateChange) => void }) {
  if (group.status !== 'unresolved') {
    return (
      <div className="actions">
        <button
          type="button"
          className="primary"
          data-testid="action-reopen"
          onClick={() => onChange({ status: 'unresolved' })}
        >
          Reopen
        </button>
      </div>
    );
  }
  return (
    <div className="actions">
      <button
        type="button"
        className="primary"
        data-testid="action-resolve"
        onClick={() => onChange({ status: 'resolved' })}
      >
        Resolve
      </button>
      <button
        type="button"
        data-testid="action-resolve-next"
        title="Events of the current release do not reopen it"
        onClick={() => onChange({ status: 'resolved', inNextRelease: true })}
      >
        Resolve in next release
      </button>
      <button type="button" data-testid="action-ignore" onClick={() => onChange({ status: 'ignored' })}>
        Ignore
      </button>
      <button
        type="button"
        data-testid="action-ignore-24h"
        onClick={() => onChange({ status: 'ignored', duration: '24h' })}
      >
        Ignore 24 h
      </button>
    </div>
  );
}

function ServiceMttr({ services }: { services: readonly string[] }) {
  const [mttr, setMttr] = useState<MttrAnswer | null>(null);
  useEffect(() => {
    api<MttrAnswer>('/api/v1/errors/mttr?from=now-30d').then(setMttr, () => setMttr(null));
  }, []);
  const service = services[0] ?? '';
  const figure = mttr?.byService.find((s) => s.service === service);
  if (!figure || figure.meanMs === null) return null;
  return (
    <Figure
      label={`MTTR of ${service || '(no service)'}, 30 d`}
      value={formatDuration(figure.meanMs)}
      testId="group-mttr"
    />
  );
}

export function ErrorGroupPage({ id }: { id: string }) {
  const { search } = useLocation();
  const from = search.get('from') ?? 'now-7d';
  const to = search.get('to') ?? 'now';
  const refresh = search.get('refresh') ?? '';
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'loading' });
  const [tick, setTick] = useState(0);
  const [sampleIndex, setSampleIndex] = useState(0);
  const [actionError, setActionError] = useState('');
  const narrow = useNarrow();

  useEffect(() => {
    let live = true;
    api<ErrorGroupDetail>(
      `/api/v1/errors/${encodeURIComponent(id)}?${new URLSearchParams({ from, to }).toString()}`,
    ).then(
      (group) => live && setOutcome({ kind: 'ok', group }),
      (error: Error) => live && setOutcome({ kind: 'error', error }),
    );
    return () => {
      live = false;
    };
  }, [id, from, to, tick]);

  const back = `/errors?${new URLSearchParams({ from: search.get('from') ?? 'now-24h', to }).toString()}`;
  const backLink = (
    <a
      href={back}
      className="back-link"
      onClick={(e) => {
        e.preventDefault();
        navigate(back);
      }}
    >
      ← Errors
    </a>
  );

  if (outcome.kind === 'loading')
    return (
      <div className="page error-group-page">
        {backLink}
        <p className="page-message">Loading…</p>
      </div>
    );
  if (outcome.kind === 'error')
    return (
      <div className="page error-group-page">
        {backLink}
        <p className="error-text" role="alert">
          {outcome.error instanceof ApiError && outcome.error.status === 404
            ? `No error group ${id}.`
            : outcome.error.message}
        </p>
      </div>
    );

  const g = outcome.group;
  const sample = g.samples[Math.min(sampleIndex, g.samples.length - 1)];
  const groupQuery = fingerprintFilter(g.fingerprints);
  const change = async (c: StateChange) => {
    try {
      await api(`/api/v1/errors/${encodeURIComponent(g.id)}/state`, { body: c });
      setActionError('');
      setTick((t) => t + 1);
    } catch (err) {
      setActionError((err as Error).message);
    }
  };
  const statusWord = g.status === 'unresolved' && g.regressed ? 'regressed' : g.status;

  return (
    <div className="page error-group-page" data-testid="error-group" data-group-id={g.id}>
      {backLink}
      <div className="page-head">
        <div className="group-title">
          <h1 data-testid="group-title">
            <span className="group-type">{g.type}</span>
            <span className="group-message">{g.message}</span>
          </h1>
          <p className="muted">
            <span className={`status-badge status-${statusWord}`} data-testid="group-status">
              {statusLabel(g)}
            </span>{' '}
            {g.services.join(', ')}
            {g.environments.length > 0 ? ` · ${g.environments.join(', ')}` : ''} · first seen{' '}
            {new Date(g.firstSeen).toLocaleString()} · last seen {formatAgo(g.lastSeen)}
            {g.state.regressions ? ` · ${g.state.regressions} regressions` : ''}
          </p>
          <DocsLink topic="errors.md" label="How groups and states work" />
        </div>
        <TimeBar key={`${from}|${to}`} from={from} to={to} refresh={refresh} onRefresh={() => setTick((t) => t + 1)} />
      </div>
      <div className="toolbar group-toolbar">
        <StateActions group={g} onChange={(c) => void change(c)} />
        <a
          className="button-link"
          data-testid="group-explore"
          href={exploreHref(`${groupQuery} | sort @timestamp desc`, from, to)}
        >
          All events in Explore ↗
        </a>
      </div>
      {actionError ? (
        <p className="error-text" role="alert">
          {actionError}
        </p>
      ) : null}

      <div className="figures">
        <Figure label="Events" value={formatValue(g.events)} testId="group-events" />
        <Figure label="Users" value={formatValue(g.users)} testId="group-users" />
        <Figure label="Customers" value={formatValue(g.customers)} />
        <Figure label="Sessions" value={formatValue(g.sessions)} />
        <Figure label="Failed checkouts" value={formatValue(g.failedCheckouts)} testId="group-failed" />
        <Figure label="Revenue at risk" value={revenueText(g.revenueAtRisk)} testId="group-revenue" />
        <ServiceMttr services={g.services} />
      </div>

      {g.trend && g.trend.counts.length > 0 ? (
        <section className="group-section">
          <h2>Events over time</h2>
          <div className="trend-chart" data-testid="trend-chart">
            <Chart option={trendOption(g.trend, narrow)} />
          </div>
        </section>
      ) : null}

      <div className="group-columns">
        <div className="group-main">
          <section className="group-section">
            <h2>Stack trace</h2>
            {sample ? (
              <>
                <p className="muted">
                  Event of {new Date(sample.timestamp).toLocaleString()}
                  {sample.release ? ` · release ${sample.release}` : ''}
                  {sample.service ? ` · ${sample.service}` : ''}
                </p>
                <StackTrace sample={sample} />
                <Breadcrumbs sample={sample} />
              </>
            ) : (
              <p className="muted">No event of this group in the time range.</p>
            )}
          </section>

          <section className="group-section">
            <h2>Recent events</h2>
            <div className="table-wrap">
              <table className="result-table samples-table" data-testid="samples-table">
                <thead>
                  <tr>
                    <th>Time</th>
                    <th>User</th>
                    <th>Release</th>
                    <th>Environment</th>
                    <th>Message</th>
                    <th>Links</th>
                  </tr>
                </thead>
                <tbody>
                  {g.samples.map((s, i) => (
                    <tr
                      key={`${s.eventId ?? ''}${s.timestamp}${i}`}
                      className={i === sampleIndex ? 'expandable selected' : 'expandable'}
                      data-testid="sample-row"
                      onClick={() => setSampleIndex(i)}
                      title="Show this event's stack trace"
                    >
                      <td data-label="Time" className="nowrap">
                        {new Date(s.timestamp).toLocaleString()}
                      </td>
                      <td data-label="User">{s.user.id ?? s.user.email ?? s.user.username ?? '–'}</td>
                      <td data-label="Release">{s.release ?? '–'}</td>
                      <td data-label="Environment">{s.environment ?? '–'}</td>
                      <td data-label="Message" className="wide">
                        {s.message}
                      </td>
                      <td data-label="Links" className="nowrap links" onClick={(e) => e.stopPropagation()}>
                        <a
                          data-testid="sample-explore"
                          href={exploreHref(
                            `${groupQuery}${s.eventId ? ` AND event.id:"${s.eventId}"` : ''}`,
                            new Date(Date.parse(s.timestamp) - 60_000).toISOString(),
                            new Date(Date.parse(s.timestamp) + 60_000).toISOString(),
                          )}
                        >
                          Explore ↗
                        </a>
                        {s.traceId ? (
                          <a data-testid="sample-trace" href={traceHref(s.traceId, s.timestamp)}>
                            Trace ↗
                          </a>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        </div>

        <aside className="group-side">
          <section className="group-section" data-testid="tags">
            <h2>Tags</h2>
            {g.tags.length === 0 ? <p className="muted">No tags.</p> : null}
            {g.tags.map((t) => {
              const total = t.values.reduce((sum, v) => sum + v.count, 0) || 1;
              return (
                <div key={t.field} className="tag-breakdown" data-testid={`tag-${t.field}`}>
                  <h3>{t.field}</h3>
                  {t.values.slice(0, 5).map((v) => (
                    <div key={v.value} className="tag-value" title={`${v.value}: ${v.count}`}>
                      <span className="tag-bar" style={{ width: `${(100 * v.count) / total}%` }} />
                      <span className="tag-name">{v.value}</span>
                      <span className="tag-count">{Math.round((100 * v.count) / total)}%</span>
                    </div>
                  ))}
                </div>
              );
            })}
          </section>
          {g.releases.length > 0 ? (
            <section className="group-section">
              <h2>Releases</h2>
              <ul className="plain-list">
                {g.releases.map((r) => (
                  <li key={r.release}>
                    <code>{r.release || '(none)'}</code> <span className="muted">{formatValue(r.count)} events</span>
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
          {g.history.length > 0 ? (
            <section className="group-section">
              <h2>History</h2>
              <ol className="plain-list" data-testid="group-history">
                {[...g.history].reverse().map((h, i) => (
                  <li key={`${h.atMs}-${i}`}>
                    <strong>{h.action}</strong> by {h.by}{' '}
                    <span className="muted">{new Date(h.atMs).toLocaleString()}</span>
                    {h.detail ? <div className="muted">{h.detail}</div> : null}
                  </li>
                ))}
              </ol>
            </section>
          ) : null}
        </aside>
      </div>
    </div>
  );
}
