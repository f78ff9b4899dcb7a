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
