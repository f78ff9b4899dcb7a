/**
 * A query answer as a table; events (with `_source`) expand to their JSON.
 * A trace id (a `trace_id` column, or the field of an expanded event) opens
 * that trace's page.
 */
import { Fragment, useState } from 'react';
import { formatValue } from '../format.ts';
import { navigate } from '../router.ts';
import type { QueryAnswer, Unit } from '../types.ts';

const TRACE_ID = /^[0-9a-f]{32}$/i;

/** The trace id of an event's source, if it has one. */
function sourceTraceId(source: unknown): string | undefined {
  if (!source || typeof source !== 'object') return undefined;
  const record = source as Record<string, unknown>;
  const trace =
    record['trace_id'] ?? record['trace.id'] ?? (record['trace'] as Record<string, unknown> | undefined)?.['id'];
  return typeof trace === 'string' && TRACE_ID.test(trace) ? trace.toLowerCase() : undefined;
}

/** `at` (the event's time) lets the trace page find the trace's events when no spans were received. */
function TraceLink({ traceId, label, at }: { traceId: string; label?: string; at?: unknown }) {
  const when = typeof at === 'string' && !Number.isNaN(Date.parse(at)) ? `?at=${encodeURIComponent(at)}` : '';
  const href = `/traces/${traceId.toLowerCase()}${when}`;
  return (
    <a
      href={href}
      data-testid="trace-id-link"
      title="Open this trace"
      onClick={(e) => {
        e.stopPropagation();
        e.preventDefault();
        navigate(href);
      }}
    >
      {label ?? traceId}
    </a>
  );
}

export function ResultTable({ answer, unit }: { answer: QueryAnswer; unit?: Unit }) {
  const [open, setOpen] = useState<number | null>(null);
  const source = answer.columns.findIndex((c) => c.name === '_source');
  const shown = answer.columns.map((c, i) => ({ ...c, i })).filter((c) => c.i !== source);
  const timeColumn = answer.columns.findIndex((c) => c.name === '@timestamp');
  const timeOf = (row: readonly unknown[]) => (timeColumn >= 0 ? row[timeColumn] : undefined);
  const cell = (value: unknown, type: string) => {
    if (value === null || value === undefined) return '';
    if (type === 'timestamp') return new Date(String(value)).toLocaleString();
    if (Array.isArray(value)) return value.join(', ');
    if (typeof value === 'number') return formatValue(value, type === 'double' && unit ? unit : 'number');
    return String(value);
  };
  return (
    <div className="table-wrap">
      <table className="result-table" data-testid="result-table">
        <thead>
          <tr>
            {source >= 0 ? <th aria-label="expand" /> : null}
            {shown.map((c) => (
              <th key={c.i}>{c.name}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {answer.rows.map((r, n) => (
            <Fragment key={n}>
              <tr
                className={source >= 0 ? 'expandable' : undefined}
                onClick={() => source >= 0 && setOpen(open === n ? null : n)}
              >
                {source >= 0 ? <td className="expander">{open === n ? '▾' : '▸'}</td> : null}
                {shown.map((c) => (
                  <td key={c.i} className={c.type === 'integer' || c.type === 'double' ? 'num' : undefined}>
                    {(c.name === 'trace_id' || c.name === 'trace.id') &&
                    typeof r[c.i] === 'string' &&
                    TRACE_ID.test(r[c.i] as string) ? (
                      <TraceLink traceId={r[c.i] as string} at={timeOf(r)} />
                    ) : (
                      cell(r[c.i], c.type)
                    )}
                  </td>
                ))}
              </tr>
              {open === n ? (
                <tr className="event-json">
                  <td colSpan={shown.length + 1}>
                    {sourceTraceId(r[source]) ? (
                      <p className="event-trace">
                        <TraceLink
                          traceId={sourceTraceId(r[source]) as string}
                          label="Open its trace →"
                          at={timeOf(r)}
                        />
                      </p>
                    ) : null}
                    <pre data-testid="event-json">{JSON.stringify(r[source], null, 2)}</pre>
                  </td>
                </tr>
              ) : null}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}
