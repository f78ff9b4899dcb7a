/**
 * What the connected ClickHouse server can do, read once from
 * `SELECT version()` when the store opens. The SQL the store sends runs on
 * Debian's 18.16 (the oldest tested) and on current releases (23 and
 * later); where a newer server does better, the flags below choose the
 * newer way. Nothing outside src/store/clickhouse/ reads them.
 */

export interface ClickHouseCapabilities {
  /** The server's version text, e.g. "18.16.1" or "24.3.2.23". */
  readonly version: string;
  /** `{name:Type}` query parameters over HTTP (19.11 on); otherwise values are bound as escaped literals. */
  readonly queryParameters: boolean;
  /** JSONExtractString/JSONExtractRaw/JSONHas/JSONType (19.12 on); otherwise visitParamExtract*. */
  readonly jsonFunctions: boolean;
  /** JSONExtractKeys (21.11 on); otherwise attribute names are read with a regular expression. */
  readonly jsonExtractKeys: boolean;
  /** quantileExactInclusive (20.1 on, the interpolation DuckDB's quantile_cont uses); otherwise quantile(). */
  readonly quantileExactInclusive: boolean;
  /**
   * `DELETE FROM t WHERE …` (lightweight delete, 23.3 on): rows are masked at
   * once and the statement waits. Otherwise rows go with an `ALTER TABLE t
   * DELETE` mutation, which the store waits for by polling system.mutations.
   */
  readonly lightweightDelete: boolean;
  /** The `mutations_sync` setting (19.10 on): an ALTER … DELETE that waits itself. */
  readonly mutationsSync: boolean;
}

/** [major, minor] of a version text; [0, 0] when it is not one. */
export function parseVersion(text: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function atLeast(v: [number, number], major: number, minor: number): boolean {
  return v[0] > major || (v[0] === major && v[1] >= minor);
}

/** The capabilities of a server of version `text` (as `SELECT version()` answers). */
export function capabilitiesFor(text: string): ClickHouseCapabilities {
  const v = parseVersion(text);
  return Object.freeze({
    version: text.trim(),
    queryParameters: atLeast(v, 19, 11),
    jsonFunctions: atLeast(v, 19, 12),
    jsonExtractKeys: atLeast(v, 21, 11),
    quantileExactInclusive: atLeast(v, 20, 1),
    lightweightDelete: atLeast(v, 23, 3),
    mutationsSync: atLeast(v, 19, 10),
  });
}

/** The oldest server the store is written for. */
export const OLDEST_SUPPORTED = '18.16';
