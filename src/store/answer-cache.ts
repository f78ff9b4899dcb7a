/**
 * A short-lived cache of query answers, shared by every caller of a tenant:
 * ten browser tabs opening the same dashboard, or two panels of one
 * dashboard with the same query, run the query once.
 *
 * - Opt-in per request (`maxAgeMs` > 0): an API caller who just ingested
 *   data and asks without it always gets a fresh answer.
 * - Single flight: a request with maxAge that finds the same query already
 *   running waits for that run instead of starting another. (Without
 *   maxAge it runs its own: a run that started before the caller's last
 *   ingest was committed might miss those events.)
 * - Bounded: at most `maxEntries` answers and `maxCells` result cells in
 *   total; the oldest go first. Answers larger than a tenth of the budget
 *   are not kept.
 * - Failures are never cached.
 */

export interface CachedAnswer<T> {
  readonly value: T;
  /** `miss`: computed for this request; `hit`: from the cache; `joined`: waited for an identical run under way. */
  readonly source: 'miss' | 'hit' | 'joined';
  /** How old the answer is, ms (0 for a miss). */
  readonly ageMs: number;
}

export interface AnswerCacheOptions {
  readonly maxEntries: number;
  /** Most result cells (rows × columns) kept in total. */
  readonly maxCells: number;
  /** Size of an answer in cells. */
  readonly sizeOf: (value: unknown) => number;
  readonly now?: () => number;
}

interface Entry {
  readonly at: number;
  readonly value: unknown;
  readonly cells: number;
}

export class AnswerCache {
  readonly #options: AnswerCacheOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #running = new Map<string, Promise<unknown>>();
  #cells = 0;

  constructor(options: AnswerCacheOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#entries.size;
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }

  /**
   * The answer for `key`: from the cache when one at most `maxAgeMs` old is
   * there, from an identical run under way, else from `compute` (and then
   * kept when `maxAgeMs` > 0).
   */
  async get<T>(key: string, maxAgeMs: number, compute: () => Promise<T>): Promise<CachedAnswer<T>> {
    const now = this.#now();
    if (maxAgeMs > 0) {
      const entry = this.#entries.get(key);
      if (entry && now - entry.at <= maxAgeMs) return { value: entry.value as T, source: 'hit', ageMs: now - entry.at };
      const running = this.#running.get(key);
      if (running) return { value: (await running) as T, source: 'joined', ageMs: 0 };
    }
    const run = compute();
    this.#running.set(key, run);
    try {
      const value = await run;
      this.#keep(key, value);
      return { value, source: 'miss', ageMs: 0 };
    } finally {
      if (this.#running.get(key) === run) this.#running.delete(key);
    }
  }

  #keep(key: string, value: unknown): void {
    const cells = this.#options.sizeOf(value);
    this.#drop(key);
    if (cells > this.#options.maxCells / 10) return;
    this.#entries.set(key, { at: this.#now(), value, cells });
    this.#cells += cells;
    for (const k of this.#entries.keys()) {
      if (this.#entries.size <= this.#options.maxEntries && this.#cells <= this.#options.maxCells) break;
      this.#drop(k);
    }
  }

  #drop(key: string): void {
    const old = this.#entries.get(key);
    if (!old) return;
    this.#cells -= old.cells;
    this.#entries.delete(key);
  }

  /** Forgets every answer of one tenant (keys start with the tenant and a NUL). */
  clearTenant(tenant: string): void {
    for (const k of [...this.#entries.keys()]) if (k.startsWith(`${tenant}\u0000`)) this.#drop(k);
  }
}

/** Cache key: tenant first (see clearTenant), then the parts that decide the answer. */
export function answerKey(tenant: string, parts: readonly unknown[]): string {
  return `${tenant}\u0000${JSON.stringify(parts)}`;
}
