/** Small helpers for the benchmark: percentiles, formatting, a seeded RNG. */

/** Nearest-rank percentile (0 < p ≤ 100) of unsorted samples; NaN when empty. */
export function percentile(samples: ArrayLike<number>, p: number): number {
  const n = samples.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return sorted[rank - 1] as number;
}

/** Median (average of the two middle values for an even count). */
export function median(samples: ArrayLike<number>): number {
  const n = samples.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const mid = n >> 1;
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** 1234567.8 → "1,234,568" (or with `digits` decimals). */
export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Mulberry32, seeded, so runs generate the same data (shared with the tests). */
export { mulberry32 as rng } from '../test/helpers/rng.ts';

/** A weighted picker: `pick(r)` maps a uniform r in [0, 1) to an item, via a 1024-slot lookup table. */
export function weighted<T>(items: readonly (readonly [T, number])[]): (r: number) => T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  const table: T[] = [];
  let acc = 0;
  for (const [item, w] of items) {
    acc += w;
    while (table.length < Math.round((acc / total) * 1024)) table.push(item);
  }
  return (r) => table[(r * 1024) | 0] as T;
}

/** Writes a progress line in place on a terminal, or as its own line otherwise. */
export function progress(text: string, done = false): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${text}${done ? '\n' : ''}`);
  else process.stderr.write(`${text}\n`);
}
