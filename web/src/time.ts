/**
 * Time ranges as the server understands them (`now-24h`, ISO-8601), kept
 * in the URL (`?from=now-24h&to=now&refresh=30s`) so a link reproduces the
 * view, and the auto interval that `$interval` in a panel query stands for.
 */

export const RELATIVE_RANGES = [
  { label: 'Last 15 minutes', from: 'now-15m' },
  { label: 'Last 1 hour', from: 'now-1h' },
  { label: 'Last 24 hours', from: 'now-24h' },
  { label: 'Last 7 days', from: 'now-7d' },
  { label: 'Last 30 days', from: 'now-30d' },
] as const;

export const REFRESH_OPTIONS = [
  { label: 'Off', value: '' },
  { label: '10s', value: '10s' },
  { label: '30s', value: '30s' },
  { label: '1m', value: '1m' },
] as const;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of `10s`, `1m`, ... (0 when empty or unknown). */
export function durationMs(text: string): number {
  const m = /^(\d+)([smhdw])$/.exec(text.trim());
  return m ? Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0) : 0;
}

/** Epoch ms of a range bound, for the interval and the chart axes (the server resolves the same text). */
export function resolveTime(text: string, nowMs: number = Date.now()): number {
  const t = text.trim();
  if (t.startsWith('now')) {
    let ms = nowMs;
    const rest = t.slice(3).replace(/\/[smhdw]$/, '');
    const m = /^([-+])(\d+)([smhdw])$/.exec(rest);
    if (m) ms += (m[1] === '-' ? -1 : 1) * Number(m[2]) * (UNIT_MS[m[3] as string] ?? 0);
    if (t.endsWith('/d')) ms = Math.floor(ms / 86_400_000) * 86_400_000;
    return ms;
  }
  if (/^\d+$/.test(t)) return Number(t);
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`);
}

const STEPS = ['1m', '5m', '15m', '30m', '1h', '3h', '6h', '12h', '1d'];

/** The bucket size for time charts: the smallest step giving at most ~200 points. */
export function autoInterval(from: string, to: string): string {
  const span = Math.max(60_000, resolveTime(to) - resolveTime(from));
  return STEPS.find((s) => span / durationMs(s) <= 200) ?? '1d';
}

/** Replaces `$interval` and `$intervalMinutes` in a panel query. */
export function expandQuery(query: string, interval: string): string {
  return query.replaceAll('$intervalMinutes', String(durationMs(interval) / 60_000)).replaceAll('$interval', interval);
}

/** Human text for a range: the preset's label, or the two bounds. */
export function rangeLabel(from: string, to: string): string {
  const preset = RELATIVE_RANGES.find((r) => r.from === from && to === 'now');
  return preset ? preset.label : `${from} → ${to}`;
}
