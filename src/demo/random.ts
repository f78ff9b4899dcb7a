/**
 * A small seeded pseudo-random generator (sfc32) with the draws the shop
 * simulator needs. The same seed always gives the same sequence on every
 * platform: only 32-bit integer arithmetic is used to advance the state, so
 * the demo shop is reproducible byte for byte.
 */

/** Mixes numbers into one 32-bit seed (murmur3-style finalizer); order matters. */
export function hashSeed(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    // Split into two 32-bit halves so that millisecond timestamps mix fully.
    const lo = part >>> 0;
    const hi = Math.floor(part / 0x1_0000_0000) >>> 0;
    for (const word of [lo, hi]) {
      h = Math.imul(h ^ word, 0x85ebca6b);
      h = (h ^ (h >>> 13)) >>> 0;
      h = Math.imul(h, 0xc2b2ae35);
      h = (h ^ (h >>> 16)) >>> 0;
    }
  }
  return h >>> 0;
}

/** Hashes a label (for example a service name) into a number for `hashSeed`. */
export function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const HEX = '0123456789abcdef';
const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A table for drawing values by weight; build once, draw many times. */
export class Weighted<T> {
  readonly #values: readonly T[];
  readonly #cumulative: readonly number[];
  readonly #total: number;

  constructor(entries: readonly (readonly [T, number])[]) {
    if (entries.length === 0) throw new Error('Weighted needs at least one entry');
    let total = 0;
    const cumulative: number[] = [];
    for (const [, weight] of entries) {
      if (!(weight >= 0)) throw new Error(`Weighted: weight must be >= 0, got ${weight}`);
      total += weight;
      cumulative.push(total);
    }
    if (total <= 0) throw new Error('Weighted: weights must not all be 0');
    this.#values = entries.map(([value]) => value);
    this.#cumulative = cumulative;
    this.#total = total;
  }

  /** The value whose weight band holds `u` (0 <= u < 1). */
  at(u: number): T {
    const target = u * this.#total;
    let lo = 0;
    let hi = this.#cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.#cumulative[mid] as number) > target) hi = mid;
      else lo = mid + 1;
    }
    return this.#values[lo] as T;
  }
}

/** A seeded random source. Not for cryptography. */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    this.#a = 0x243f6a88;
    this.#b = 0x85a308d3;
    this.#c = seed >>> 0;
    this.#d = 1;
    // Warm up so that nearby seeds do not give correlated first draws.
    for (let i = 0; i < 15; i++) this.uint32();
  }

  /** A new generator derived from this one's seed space and a label; does not advance this one. */
  static derive(seed: number, ...parts: readonly number[]): Random {
    return new Random(hashSeed(seed, ...parts));
  }

  /** Next unsigned 32-bit integer. */
  uint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 0x1_0000_0000;
  }

  /** Uniform float in [min, max). */
  float(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list, uniformly. */
  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new Error('pick from an empty list');
    return list[Math.floor(this.next() * list.length)] as T;
  }

  /** One value of a weighted table. */
  weighted<T>(table: Weighted<T>): T {
    return table.at(this.next());
  }

  /** Normal distribution (Box-Muller). */
  normal(mean: number, sd: number): number {
    const u = 1 - this.next(); // (0, 1]: log(0) would be -Infinity
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with the given median and log-space sigma: a long right tail, like latencies. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(this.normal(0, sigma));
  }

  /** Exponential with the given mean, e.g. think time between pages. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** Poisson-distributed count with mean `lambda` (Knuth for small means, normal approximation above 60). */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 60) return Math.max(0, Math.round(this.normal(lambda, Math.sqrt(lambda))));
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** `n` lowercase hex digits (trace ids, span ids). */
  hex(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += HEX[this.uint32() & 15];
    return out;
  }

  /** `n` lowercase base-36 characters (pod suffixes, short ids). */
  base36(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += BASE36[this.uint32() % 36];
    return out;
  }
}

/** Rounds to cents (prices, amounts). */
export function cents(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Rounds to one decimal (percentages). */
export function oneDecimal(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Clamps into [min, max]. */
export function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}
