/** A query answer as a table; events (with `_source`) expand to their JSON. */
import { Fragment, useState } from 'react';
import { formatValue } from '../format.ts';
import type { QueryAnswer, Unit } from '../types.ts';

export function ResultTable({ answer, unit }: { answer: QueryAnswer; unit?: Unit }) {
  const [open, setOpen] = useState<number | null>(null);
  const source = answer.columns.findIndex((c) => c.name === '_source');
  const shown = answer.columns.map((c, i) => ({ ...c, i })).filter((c) => c.i !== source);
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
                    {cell(r[c.i], c.type)}
                  </td>
                ))}
              </tr>
              {open === n ? (
                <tr className="event-json">
                  <td colSpan={shown.length + 1}>
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
