/**
 * Query text helpers for Explore and the panel editor: the filter part of a query, adding a
 * filter, replacing a field name, top values of event fields.
 */
import { shapeOf } from '../components/chart-options.ts';
import type { QueryAnswer } from '../types.ts';

/** The text before the first `|` outside quotes (the filter), or `*`. */
export function filterPart(query: string): string {
  let quote = false;
  for (let i = 0; i < query.length; i++) {
    const ch = query[i];
    if (ch === '\\') i++;
    else if (ch === '"') quote = !quote;
    else if (ch === '|' && !quote) return query.slice(0, i).trim() || '*';
  }
  return query.trim() || '*';
}

/** `query` narrowed by `field:"value"`, keeping its pipe stages. */
export function withFilter(query: string, field: string, value: string): string {
  const filter = filterPart(query);
  const rest = query.slice(query.indexOf(filter) + filter.length).trim();
  const term = `${field}:"${value.replace(/["\\]/g, '\\$&')}"`;
  const narrowed = filter === '*' ? term : `(${filter}) AND ${term}`;
  return rest.startsWith('|') ? `${narrowed} ${rest}` : narrowed;
}

const FIELD_CHAR = /[\w.@]/;

/**
 * `query` with every use of the field `field` renamed to `replacement` (a warning's
 * suggestion), outside quoted strings and only where the whole name matches: fixing
 * `statsu` leaves `"statsu"` values and `statsu_code` alone.
 */
export function replaceField(query: string, field: string, replacement: string): string {
  if (field === '') return query;
  let out = '';
  let quote = false;
  for (let i = 0; i < query.length;) {
    const ch = query[i] as string;
    if (quote && ch === '\\') {
      out += query.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (ch === '"') quote = !quote;
    if (
      !quote &&
      query.startsWith(field, i) &&
      !FIELD_CHAR.test(query[i - 1] ?? ' ') &&
      !FIELD_CHAR.test(query[i + field.length] ?? ' ')
    ) {
      out += replacement;
      i += field.length;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/** Fields of the returned events with their most frequent values (like Kibana's sidebar, over the sample shown). */
export function topValues(answer: QueryAnswer): { field: string; values: { value: string; count: number }[] }[] {
  const source = answer.columns.findIndex((c) => c.name === '_source');
  const counts = new Map<string, Map<string, number>>();
  const add = (field: string, value: unknown) => {
    if (value === null || value === undefined || typeof value === 'object') return;
    const text = String(value);
    if (text.length > 80) return;
    if (!counts.has(field)) counts.set(field, new Map());
    const m = counts.get(field) as Map<string, number>;
    m.set(text, (m.get(text) ?? 0) + 1);
  };
  for (const row of answer.rows) {
    if (source >= 0) flatten(row[source], '', add);
    else answer.columns.forEach((c, i) => c.type === 'string' && add(c.name, row[i]));
  }
  return [...counts]
    .filter(
      ([field, values]) => field !== '@timestamp' && (values.size < answer.rows.length || answer.rows.length === 1),
    )
    .map(([field, values]) => ({
      field,
      values: [...values]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([value, count]) => ({ value, count })),
    }))
    .sort((a, b) => a.field.localeCompare(b.field));
}

function flatten(value: unknown, prefix: string, add: (field: string, value: unknown) => void): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, add);
  } else add(prefix, value);
}

/** How Explore can show a stats result. */
export type StatsView = 'table' | 'line' | 'bar' | 'pie';

/** Why a view cannot draw this answer, or '' when it can. */
export function viewProblem(view: StatsView, answer: QueryAnswer): string {
  const s = shapeOf(answer);
  if (view === 'table') return '';
  if (s.numbers.length === 0) return 'The result has no number column to draw.';
  if (view === 'line' && s.time < 0) return 'A line needs a time column: add "by bin(@timestamp, 5m)".';
  if (view === 'pie' && (s.time >= 0 || s.strings.length === 0))
    return 'A pie needs one text column and no time column: group "by" a field.';
  return '';
}

/**
 * The query as a panel stores it: a fixed time bucket becomes `$interval`, so the panel's
 * buckets follow the dashboard's range as the prebuilt panels' do.
 */
export function panelQuery(query: string): string {
  return query.replace(/bin\(\s*@timestamp\s*,\s*\d+[smhdw]\s*\)/g, 'bin(@timestamp, $interval)');
}
