/**
 * Name patterns with `*` wildcards, as configured for field names
 * (`privacy.dropFields`, `privacy.exemptFields`, `privacy.ipFields`) and
 * Elasticsearch index names (`ingest.indexDataClass`).
 *
 * One rule for all of them: a pattern matches the whole name, `*` matches any
 * run of characters (also none, also dots), every other character stands for
 * itself, and the match ignores case (`Customer.SSN` matches `customer.ssn`,
 * `LOGS-shop` matches `logs-*`). Ignoring case is the safe side for privacy
 * (a field is dropped whatever its spelling) and changes nothing for index
 * names, which Elasticsearch only allows in lower case.
 */

/** Compiles a name pattern (`customer.*`, `logs-*`) to a RegExp over the whole name, case-insensitive. */
export function namePatternToRegExp(pattern: string): RegExp {
  // Only `*` is special; the rest is escaped, so the RegExp is a plain linear scan with `.*` runs.
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*+/g, '.*');
  return new RegExp(`^${escaped}$`, 'is');
}
