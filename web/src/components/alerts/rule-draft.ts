/**
 * The editor's form of a rule: the fields a person edits as text, and the
 * rest of the spec (baseline, spike, absent, labels, other annotations,
 * dashboard) kept as JSON so that editing a copy of a pack rule loses none
 * of it. Converts from the API's spec (durations in ms) and back.
 */

/** A rule as the API answers it (`spec` of GET /api/v1/alerts/rules/{name}). */
export type RuleSpec = Record<string, unknown>;

export interface RuleDraft {
  name: string;
  query: string;
  condition: string;
  window: string;
  every: string;
  for: string;
  severity: string;
  groupBy: string;
  summary: string;
  /** Every other key of the spec, as JSON text. */
  more: string;
}

const EDITED = new Set(['name', 'query', 'condition', 'window', 'every', 'for', 'severity', 'group_by']);
const UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** 300000 → "5m", 5400000 → "1h30m"; text stays as it is. */
export function durationText(value: unknown, fallback: string): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  if (value === 0) return '0s';
  let rest = value;
  let text = '';
  for (const [unit, ms] of UNITS) {
    const n = Math.floor(rest / ms);
    if (n > 0) {
      text += `${n}${unit}`;
      rest -= n * ms;
    }
  }
  return rest > 0 ? `${text}${rest}ms` : text;
}

export const EMPTY_DRAFT: RuleDraft = {
  name: '',
  query: '',
  condition: '',
  window: '5m',
  every: '30s',
  for: '0s',
  severity: 'P2',
  groupBy: '',
  summary: '',
  more: '',
};

/** The form of an existing spec (a pack rule's for a copy, an API rule's for an edit). */
export function draftOf(spec: RuleSpec): RuleDraft {
  const annotations = { ...((spec['annotations'] as Record<string, string> | undefined) ?? {}) };
  const summary = annotations['summary'] ?? '';
  delete annotations['summary'];
  const rest: RuleSpec = {};
  for (const [k, v] of Object.entries(spec)) if (!EDITED.has(k) && k !== 'annotations' && v !== undefined) rest[k] = v;
  if (Object.keys(annotations).length > 0) rest['annotations'] = annotations;
  return {
    name: String(spec['name'] ?? ''),
    query: String(spec['query'] ?? ''),
    condition: String(spec['condition'] ?? ''),
    window: durationText(spec['window'], '5m'),
    every: durationText(spec['every'], '30s'),
    for: durationText(spec['for'], '0s'),
    severity: String(spec['severity'] ?? 'P2'),
    groupBy: ((spec['group_by'] as string[] | undefined) ?? []).join(', '),
    summary,
    more: Object.keys(rest).length > 0 ? JSON.stringify(rest, null, 2) : '',
  };
}

/** The spec to send; throws an Error naming "Other settings" when its JSON does not parse. */
export function specOf(draft: RuleDraft): RuleSpec {
  let rest: RuleSpec = {};
  if (draft.more.trim() !== '') {
    try {
      rest = JSON.parse(draft.more) as RuleSpec;
    } catch (err) {
      throw new Error(`Other settings: not valid JSON (${(err as Error).message})`);
    }
    if (rest === null || typeof rest !== 'object' || Array.isArray(rest))
      throw new Error('Other settings: expected a JSON object such as {"labels": {"team": "payments"}}');
  }
  const annotations = { ...((rest['annotations'] as Record<string, string> | undefined) ?? {}) };
  if (draft.summary.trim() !== '') annotations['summary'] = draft.summary;
  const groupBy = draft.groupBy
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    ...rest,
    query: draft.query,
    condition: draft.condition,
    window: draft.window,
    every: draft.every,
    for: draft.for,
    severity: draft.severity,
    group_by: groupBy,
    annotations,
  };
}

/** The field a 400 names (`"condition": ...`, `"rule.window": ...`), for marking the input. */
export function fieldOfError(message: string): string | undefined {
  const m = /^"(?:rule\.)?([A-Za-z_]+)[^"]*":/.exec(message);
  return m?.[1];
}
