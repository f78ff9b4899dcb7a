/** Number and time formatting for panels, by unit. */
import type { Unit } from './types.ts';

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
const plain = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export function formatValue(value: unknown, unit: Unit = 'number', short = false): string {
  if (value === null || value === undefined) return '–';
  if (typeof value !== 'number') return String(value);
  const n = short && Math.abs(value) >= 10_000 ? compact.format(value) : plain.format(value);
  switch (unit) {
    case 'currency':
      return `$${short && Math.abs(value) >= 10_000 ? compact.format(value) : new Intl.NumberFormat('en-US', { maximumFractionDigits: Math.abs(value) >= 1000 ? 0 : 2 }).format(value)}`;
    case 'percent':
      return `${value.toFixed(Math.abs(value) >= 99.9 && value !== 100 ? 2 : 1)}%`;
    case 'ms':
      return `${n} ms`;
    case 'rps':
      return `${n}/s`;
    case 'bytes':
      return `${compact.format(value)}B`;
    default:
      return n;
  }
}

export function formatTime(iso: string, spanMs: number): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  if (spanMs > 2 * 86_400_000)
    return d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * An amount of money in its currency, with the figures of `formatValue(…, 'currency')`
 * (whole units from 1,000 on, else up to two decimals) and the currency's symbol
 * ($ for USD and for an unnamed currency, € for EUR, the ISO code where there is no symbol).
 */
export function formatMoney(amount: number, currency: string = '', short = false): string {
  const dollars = formatValue(amount, 'currency', short);
  const code = currency.trim().toUpperCase();
  if (code === '' || code === 'USD') return dollars;
  let symbol = code;
  try {
    symbol =
      new Intl.NumberFormat('en-US', { style: 'currency', currency: code, currencyDisplay: 'narrowSymbol' })
        .formatToParts(0)
        .find((p) => p.type === 'currency')?.value ?? code;
  } catch {
    // Not an ISO 4217 code: the code as sent.
  }
  const figures = dollars.replace(/^(-?)\$/, '$1');
  return /^[A-Z]{2,}$/.test(symbol) ? `${figures} ${symbol}` : `${symbol}${figures}`;
}

/** A duration for people: `45 s`, `12 min`, `3 h 20 min`, `2 d 4 h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

/** How long ago an instant was: `just now`, `5 min ago`, `3 h ago`, `2 d ago`. */
export function formatAgo(iso: string, nowMs: number = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const ms = Math.max(0, nowMs - t);
  if (ms < 60_000) return 'just now';
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  if (ms < 172_800_000) return `${Math.floor(ms / 3_600_000)} h ago`;
  return `${Math.floor(ms / 86_400_000)} d ago`;
}
