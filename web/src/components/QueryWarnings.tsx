/**
 * The warnings of a query answer (Explore, panel editor), as Kibana shows them: "Unknown
 * field `statsu` — did you mean `status`?", each suggestion a button that puts that field
 * in the query in place of the unknown one.
 */
import type { QueryWarning } from '../types.ts';

export function QueryWarnings({
  warnings,
  onReplace,
}: {
  warnings: readonly QueryWarning[] | undefined;
  /** Called with the field as written and the suggestion the user picked. */
  onReplace: (field: string, suggestion: string) => void;
}) {
  if (!warnings || warnings.length === 0) return null;
  return (
    <ul className="query-warnings" role="status" data-testid="query-warnings">
      {warnings.map((w) => (
        <li key={`${w.code} ${w.field}`} data-testid="query-warning" data-field={w.field}>
          {w.code === 'query.unknown_field' ? 'Unknown field ' : `${w.code}: `}
          <code>{w.field}</code>
          {w.suggestions.length === 0 ? ' — it matches nothing.' : null}
          {w.suggestions.length > 0 ? (
            <>
              {' — did you mean '}
              {w.suggestions.slice(0, 3).map((s, i) => (
                <span key={s}>
                  {i > 0 ? (i === Math.min(3, w.suggestions.length) - 1 ? ' or ' : ', ') : null}
                  <button
                    type="button"
                    className="suggestion"
                    data-testid="query-suggestion"
                    title={`Replace ${w.field} with ${s} in the query`}
                    onClick={() => onReplace(w.field, s)}
                  >
                    {s}
                  </button>
                </span>
              ))}
              ?
            </>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
