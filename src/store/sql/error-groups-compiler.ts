/**
 * Error groups → SQL: one row per group of the error events in a time range
 * (events with an `error.fingerprint`), with what an error tracker lists —
 * occurrences, first and last seen, distinct users, customers and sessions,
 * the latest type, message and level, services and environments — and, in
 * a second statement, what the group costs the shop: failed checkouts and
 * revenue at risk (docs/errors.md "Revenue at risk" defines them; the
 * definitions are repeated on compileErrorImpact).
 *
 * Groups are fingerprints, except where groups were merged: `merges` maps a
 * fingerprint to the group it belongs to, applied in the SQL (as a CASE over
 * parameters) so that distinct counts over a merged group stay exact. The
 * pipe language cannot express the impact (it joins error events to the
 * shop's commerce events by session, order and trace id), so this has its
 * own compiler on the shared filter compiler, scope and dialect hooks.
 */
import { QueryError } from '../../errors.ts';
import type { Filter, TimeRange } from '../../query/ir.ts';
import { compileFilter, type CompileContext } from './filter-compiler.ts';
import { ParamList } from './param-list.ts';
import { EVENTS_TABLE } from './query-compiler.ts';
import { EventScope } from './scope.ts';
import type { SqlDialect, SqlParam } from './sql-dialect.ts';

/** Most merged fingerprints one request may map. */
export const MAX_MERGED_FINGERPRINTS = 5000;
/** Most distinct services or environments listed per group. */
const MAX_LISTED = 20;

/**
 * Commerce events an error can cost: the steps of a purchase that carry a
 * value (`transaction.amount`, or the cart's `cart.value`), and those that
 * complete it.
 */
export const COMMERCE_EVENT_TYPES: readonly string[] = [
  'add_to_cart',
  'cart_viewed',
  'checkout_started',
  'checkout_step_completed',
  'shipping_info_entered',
  'payment_info_entered',
  'payment_transaction',
  'payment_failed',
  'payment_completed',
  'cart_abandoned',
  'order_completed',
];
/** Event types that mean the attempt reached checkout. */
export const CHECKOUT_EVENT_TYPES: readonly string[] = [
  'checkout_started',
  'checkout_step_completed',
  'shipping_info_entered',
  'payment_info_entered',
  'payment_transaction',
  'payment_failed',
];
/** Attribute holding a cart's value where an event has no `transaction.amount`. */
export const CART_VALUE_FIELD = 'cart.value';

export interface ErrorGroupsRequest {
  readonly tenant: string;
  readonly range: TimeRange;
  /** Only error events that also match this filter (service, release, environment, free text…). */
  readonly filter?: Filter;
  /** Fingerprint → the group it was merged into (fingerprints not listed are their own group). */
  readonly merges?: ReadonlyMap<string, string>;
  /** Only these groups (group ids; their merged fingerprints included). */
  readonly groups?: readonly string[];
  /** Also compute failed checkouts and revenue at risk (a join with the commerce events). */
  readonly impact?: boolean;
  /**
   * Per group: also count its events after `afterMs` (and the time of the
   * first), leaving out events of release `exceptRelease` when given: how a
   * resolved group regresses or an ignored one escalates.
   */
  readonly since?: ReadonlyMap<string, { readonly afterMs: number; readonly exceptRelease?: string }>;
  /**
   * Whole hours of the range to read from the hourly error rollup (`errors_1h`) instead of the raw events
   * (the store sets it: hours complete in the rollup). Ignored with `since` or a filter on other fields
   * than service, environment, release and fingerprint (rollupFilterable).
   */
  readonly rollupHours?: TimeRange;
  /** false: leave out the distinct counts (users, customers, sessions answer 0): a cheaper pass to order groups by. */
  readonly distinct?: boolean;
  /** Also count each group's events per bucket of this size (ms, from the epoch): the sparklines. */
  readonly trendBucketMs?: number;
  /** At most this many groups, most events first (default 10,000). */
  readonly maxGroups?: number;
  readonly timeoutMs?: number;
}

/** One group's figures in the range. */
export interface ErrorGroupStats {
  readonly group: string;
  readonly events: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  readonly users: number;
  readonly customers: number;
  readonly sessions: number;
  /** Type, message (`exception.message`, else `message`) and level of the latest event. */
  readonly type: string;
  readonly message: string;
  readonly level: string | null;
  readonly services: readonly string[];
  readonly environments: readonly string[];
  /** Fingerprints of the group's events in the range. */
  readonly fingerprints: readonly string[];
  /** With `since`: the group's events after its instant, and the first one's time (null: none). */
  readonly eventsSince?: number;
  readonly firstSinceMs?: number | null;
}

/** The attribute that holds an event's release (OpenTelemetry `service.version`; Sentry's `release`). */
export const RELEASE_FIELD = 'service.version';

/** What one group cost (compileErrorImpact). */
export interface ErrorGroupImpact {
  readonly group: string;
  /** Linked attempts that reached checkout and did not complete. */
  readonly failedCheckouts: number;
  /** Linked attempts that did not complete, with a value. */
  readonly attemptsAtRisk: number;
  /** Sum of their values, per currency ('' when the events named none), largest first. */
  readonly revenueAtRisk: readonly { readonly currency: string; readonly amount: number }[];
}

export interface CompiledErrorSql {
  readonly sql: string;
  readonly params: readonly SqlParam[];
}

function inList(d: SqlDialect, params: ParamList, values: readonly string[]): string {
  return values.map((v) => params.add(v, 'string')).join(', ');
}

/** The group of a row: its fingerprint, or the group it was merged into. */
function groupSql(d: SqlDialect, params: ParamList, merges: ReadonlyMap<string, string> | undefined): string {
  const fp = d.quoteIdent('error_fingerprint');
  if (!merges || merges.size === 0) return fp;
  if (merges.size > MAX_MERGED_FINGERPRINTS) {
    throw new QueryError('query.too_complex', `More than ${MAX_MERGED_FINGERPRINTS} merged fingerprints`, 0);
  }
  const whens = [...merges].map(
    ([from, into]) => `WHEN ${params.add(from, 'string')} THEN ${params.add(into, 'string')}`,
  );
  return `(CASE ${fp} ${whens.join(' ')} ELSE ${fp} END)`;
}

/** Fields the hourly error rollup keeps apart: a filter on these alone can read it. */
const ROLLUP_FIELDS = new Set(['service.name', 'deployment.environment', 'service.version', 'error.fingerprint']);

/** Whether `filter` reads only fields the hourly error rollup keeps (so its rows answer it as the events would). */
export function rollupFilterable(filter: Filter | undefined): boolean {
  if (!filter) return true;
  switch (filter.kind) {
    case 'all':
      return true;
    case 'and':
    case 'or':
      return filter.items.every(rollupFilterable);
    case 'not':
      return rollupFilterable(filter.item);
    case 'match':
    case 'exists':
      return ROLLUP_FIELDS.has(filter.field);
    default:
      return false;
  }
}

/** The rollup hours the request may use (none: read the raw events only). */
function rollupSpan(request: ErrorGroupsRequest): TimeRange | undefined {
  const span = request.rollupHours;
  if (!span || span.toMs <= span.fromMs || (request.since && request.since.size > 0)) return undefined;
  if (!rollupFilterable(request.filter)) return undefined;
  return span;
}

/**
 * `SELECT <group> AS g, <columns> FROM <table> WHERE <the request's error events>`; with `outside`, only
 * the events outside that span (it is read from the rollup).
 */
function errorRows(
  d: SqlDialect,
  params: ParamList,
  request: ErrorGroupsRequest,
  columns: string[],
  options: { table?: string; within?: TimeRange; outside?: TimeRange } = {},
): string {
  const ctx: CompileContext = { dialect: d, params, nowMs: Date.now() };
  const ts = d.quoteIdent('ts');
  const fp = d.quoteIdent('error_fingerprint');
  const range = options.within ?? request.range;
  const where = [
    `${d.quoteIdent('tenant')} = ${params.add(request.tenant, 'string')}`,
    `${ts} >= ${params.add(range.fromMs * 1000, 'timestamp')}`,
    `${ts} < ${params.add(range.toMs * 1000, 'timestamp')}`,
    `${fp} IS NOT NULL`,
  ];
  if (options.outside) {
    where.push(
      `(${ts} < ${params.add(options.outside.fromMs * 1000, 'timestamp')} OR ${ts} >= ${params.add(options.outside.toMs * 1000, 'timestamp')})`,
    );
  }
  if (request.filter && request.filter.kind !== 'all') {
    where.push(`(${compileFilter(request.filter, new EventScope(d, params), ctx)})`);
  }
  const group = groupSql(d, params, request.merges);
  if (request.groups) {
    // The fingerprints that make up these groups: the ids themselves and whatever merges into them.
    const wanted = new Set(request.groups);
    const members = new Set(request.groups);
    for (const [from, into] of request.merges ?? []) if (wanted.has(into)) members.add(from);
    if (members.size === 0) where.push('1 = 0');
    else where.push(`${fp} IN (${inList(d, params, [...members])})`);
    // A fingerprint merged away is no longer its own group.
    const away = request.groups.filter((g) => request.merges?.has(g));
    if (away.length > 0) where.push(`${group} IN (${inList(d, params, request.groups)})`);
  }
  return `SELECT ${group} AS g, ${columns.join(', ')} FROM ${d.quoteIdent(options.table ?? EVENTS_TABLE)} WHERE ${where.join(' AND ')}`;
}

/** The hourly error rollup table (DuckDB; duckdb-rollups.ts keeps it). */
export const ERRORS_ROLLUP_TABLE = 'errors_1h';

/**
 * The request's error events as rows of (g, n events, first_ts, last_ts, user_id, customer_id, session_id,
 * error_type, msg, level, service, environment, error_fingerprint): the raw events outside the rollup span
 * (one row each) and the rollup's rows within it.
 */
function unionRows(d: SqlDialect, params: ParamList, request: ErrorGroupsRequest, span: TimeRange): string {
  const q = (c: string) => d.quoteIdent(c);
  const common = [q('user_id'), q('customer_id'), q('session_id'), q('error_type')];
  const tail = [q('level'), q('service'), q('environment'), q('error_fingerprint')];
  const raw = errorRows(
    d,
    params,
    request,
    [
      '1 AS n',
      `${q('ts')} AS first_ts`,
      `${q('ts')} AS last_ts`,
      ...common,
      `coalesce(${q('error_message')}, ${q('message')}) AS msg`,
      ...tail,
    ],
    { outside: span },
  );
  const rolled = errorRows(
    d,
    params,
    request,
    [`${q('events')} AS n`, q('first_ts'), q('last_ts'), ...common, q('msg'), ...tail],
    { table: ERRORS_ROLLUP_TABLE, within: span },
  );
  return `${raw} UNION ALL ${rolled}`;
}

/** Events per trend bucket of each group: rows (g, bucket start epoch ms, events). */
export function compileErrorTrends(d: SqlDialect, request: ErrorGroupsRequest, bucketMs: number): CompiledErrorSql {
  const params = new ParamList(d);
  const span = rollupSpan(request);
  // Hours nest in the buckets (an hour or a day): a rollup row's first event is in its bucket.
  const source = span
    ? `SELECT g, n, first_ts AS ts FROM (${unionRows(d, params, request, span)}) AS u`
    : errorRows(d, params, request, ['1 AS n', d.quoteIdent('ts')]);
  const sql =
    `SELECT g, ${d.epochMs(d.timeBucket('ts', bucketMs))} AS t, sum(n) AS n FROM (${source}) AS e ` + `GROUP BY g, t`;
  return { sql, params: params.params };
}

/** Per-group figures of the error events (see ErrorGroupStats); rows in ErrorGroupStats order after `g`. */
export function compileErrorGroups(d: SqlDialect, request: ErrorGroupsRequest): CompiledErrorSql {
  const params = new ParamList(d);
  const q = (c: string) => d.quoteIdent(c);
  const limit = Math.max(1, Math.min(request.maxGroups ?? 10_000, 100_000));
  const fingerprintList = `${request.merges && request.merges.size > 0 ? d.distinctValues('error_fingerprint', 100) : 'NULL'}`;
  const span = rollupSpan(request);
  const dc = (column: string) => (request.distinct === false ? '0' : d.distinctCount(column));
  if (span) {
    // The same figures over rollup rows: events summed, first and last over the rows' own, the latest
    // type, message and level by each row's last event; distinct counts exact (the rows keep the ids).
    const sql =
      `SELECT g, CAST(sum(n) AS BIGINT) AS events, ${d.epochMs('min(first_ts)')}, ${d.epochMs('max(last_ts)')}, ` +
      `${dc('user_id')}, ${dc('customer_id')}, ${dc('session_id')}, ` +
      `${d.argMax('error_type', 'last_ts')}, ${d.argMax('msg', 'last_ts')}, ${d.argMax('level', 'last_ts')}, ` +
      `${d.distinctValues('service', MAX_LISTED)}, ${d.distinctValues('environment', MAX_LISTED)}, ${fingerprintList} ` +
      `FROM (${unionRows(d, params, request, span)}) AS e GROUP BY g ORDER BY events DESC, g LIMIT ${limit}`;
    return { sql, params: params.params };
  }
  const since = request.since && request.since.size > 0 ? request.since : undefined;
  const rows = errorRows(d, params, request, [
    q('ts'),
    q('error_fingerprint'),
    q('user_id'),
    q('customer_id'),
    q('session_id'),
    q('error_type'),
    `coalesce(${q('error_message')}, ${q('message')}) AS msg`,
    q('level'),
    q('service'),
    q('environment'),
    ...(since && [...since.values()].some((v) => v.exceptRelease !== undefined)
      ? [`${d.attrString(params.add(d.attributePath(RELEASE_FIELD), 'string'))} AS rel`]
      : []),
  ]);
  const sinceColumns = since ? `, ${sinceSql(d, params, since)}` : '';
  const sql =
    `SELECT g, count(*) AS events, ${d.epochMs('min(ts)')}, ${d.epochMs('max(ts)')}, ` +
    `${dc('user_id')}, ${dc('customer_id')}, ${dc('session_id')}, ` +
    `${d.argMax('error_type', 'ts')}, ${d.argMax('msg', 'ts')}, ${d.argMax('level', 'ts')}, ` +
    `${d.distinctValues('service', MAX_LISTED)}, ${d.distinctValues('environment', MAX_LISTED)}, ` +
    // Without merges a group is its one fingerprint (shapeGroups fills it in): no list to build.
    `${fingerprintList}${sinceColumns} ` +
    `FROM (${rows}) AS e GROUP BY g ORDER BY events DESC, g LIMIT ${limit}`;
  return { sql, params: params.params };
}

/** The two aggregates of `since`: events after each group's instant, and the first one's epoch ms. */
function sinceSql(
  d: SqlDialect,
  params: ParamList,
  since: ReadonlyMap<string, { readonly afterMs: number; readonly exceptRelease?: string }>,
): string {
  if (since.size > MAX_MERGED_FINGERPRINTS) {
    throw new QueryError('query.too_complex', `More than ${MAX_MERGED_FINGERPRINTS} groups with a state`, 0);
  }
  const after = [...since].map(
    ([g, v]) => `WHEN g = ${params.add(g, 'string')} THEN ${params.add(v.afterMs * 1000, 'timestamp')}`,
  );
  const releases = [...since].filter(([, v]) => v.exceptRelease !== undefined);
  // Searched CASE (`CASE WHEN g = …`), not simple CASE (`CASE g WHEN …`): ClickHouse 18.16 answers NULL for the latter.
  let cond = `ts > (CASE ${after.join(' ')} END)`;
  if (releases.length > 0) {
    const except = releases.map(
      ([g, v]) => `WHEN g = ${params.add(g, 'string')} THEN ${params.add(v.exceptRelease as string, 'string')}`,
    );
    const exceptSql = `(CASE ${except.join(' ')} END)`;
    cond += ` AND (${exceptSql} IS NULL OR coalesce(rel, '') <> ${exceptSql})`;
  }
  return `${d.countIf(cond)}, ${d.epochMs(`min(CASE WHEN ${cond} THEN ts END)`)}`;
}

/**
 * What each group cost, over the same error events as compileErrorGroups:
 *
 * - An **attempt** is a shopper's try at buying: the commerce events
 *   (COMMERCE_EVENT_TYPES) of the range that share one key, the first of
 *   `user.session_id`, `order.id` and `trace_id` an event has.
 * - An attempt is **linked** to a group when one of its events shares a
 *   session id, an order id or a trace id with one of the group's events in
 *   the range.
 * - It **completed** when it holds an `order_completed` or
 *   `payment_completed` event, or a `payment_transaction` whose outcome is
 *   `success`.
 * - Its **value** is the largest amount among its events:
 *   `transaction.amount`, else the attribute `cart.value`; in the
 *   `transaction.currency` its events name ('' when none does).
 * - **Revenue at risk** is the sum of the values of the linked attempts that
 *   did not complete, per currency; **failed checkouts** the number of those
 *   that reached checkout (CHECKOUT_EVENT_TYPES).
 *
 * Rows: group, currency, failed checkouts, attempts with a value, sum.
 */
export function compileErrorImpact(d: SqlDialect, request: ErrorGroupsRequest): CompiledErrorSql {
  const params = new ParamList(d);
  const q = (c: string) => d.quoteIdent(c);
  const err = errorRows(d, params, request, [q('session_id'), q('order_id'), q('trace_id')]);
  const ts = q('ts');
  const key = `coalesce(${q('session_id')}, ${q('order_id')}, ${q('trace_id')})`;
  const commerceWhere =
    `${q('tenant')} = ${params.add(request.tenant, 'string')} ` +
    `AND ${ts} >= ${params.add(request.range.fromMs * 1000, 'timestamp')} ` +
    `AND ${ts} < ${params.add(request.range.toMs * 1000, 'timestamp')} ` +
    `AND ${q('event_type')} IN (${inList(d, params, COMMERCE_EVENT_TYPES)}) AND ${key} IS NOT NULL`;
  const completed =
    `${q('event_type')} IN (${inList(d, params, ['order_completed', 'payment_completed'])}) OR ` +
    `(${q('event_type')} = ${params.add('payment_transaction', 'string')} AND ${q('event_outcome')} = ${params.add('success', 'string')})`;
  const checkout = `${q('event_type')} IN (${inList(d, params, CHECKOUT_EVENT_TYPES)})`;
  // The attempts that did not complete, first: only their events are joined to the errors (distinct keys
  // of each kind), and only their carts' values are read from the attributes.
  // Joined first, made distinct after: the open attempts are the small side, so each error row only probes
  // them, and only the matches are deduplicated (not every error's key).
  const link = (column: string) =>
    `SELECT e.g, o.attempt FROM err AS e JOIN open_c AS o ON e.${q(column)} = o.${q(column)}`;
  const cartValue = d.attrDouble(params.add(d.attributePath(CART_VALUE_FIELD), 'string'));
  const sql =
    `WITH err AS (${err}), ` +
    `c AS (SELECT ${key} AS attempt, ${q('session_id')}, ${q('order_id')}, ${q('trace_id')}, ${q('event_type')}, ` +
    `${q('event_outcome')}, ${q('amount')}, ${q('currency')} FROM ${q(EVENTS_TABLE)} WHERE ${commerceWhere}), ` +
    `agg AS (SELECT attempt, ${d.countIf(completed)} > 0 AS completed, ${d.countIf(checkout)} > 0 AS checkout, ` +
    `max(${q('amount')}) AS amount, coalesce(max(${q('currency')}), '') AS currency FROM c GROUP BY attempt), ` +
    `open_c AS (SELECT c.attempt, c.${q('session_id')}, c.${q('order_id')}, c.${q('trace_id')} FROM c ` +
    `JOIN agg ON agg.attempt = c.attempt WHERE NOT agg.completed), ` +
    `links AS (${link('session_id')} UNION ${link('order_id')} UNION ${link('trace_id')}), ` +
    `carts AS (SELECT ${key} AS attempt, max(${cartValue}) AS cart FROM ${q(EVENTS_TABLE)} WHERE ${commerceWhere} ` +
    `AND ${q('amount')} IS NULL AND ${key} IN (SELECT attempt FROM links) GROUP BY 1), ` +
    `valued AS (SELECT agg.attempt, agg.checkout, agg.currency, ` +
    `CASE WHEN carts.cart IS NULL THEN agg.amount WHEN agg.amount IS NULL THEN carts.cart ` +
    `WHEN agg.amount > carts.cart THEN agg.amount ELSE carts.cart END AS value ` +
    `FROM agg LEFT JOIN carts ON carts.attempt = agg.attempt WHERE NOT agg.completed) ` +
    `SELECT links.g, a.currency, ${d.countIf('a.checkout')} AS failed_checkouts, ` +
    `${d.countIf('a.value IS NOT NULL')} AS valued, sum(a.value) AS amount ` +
    `FROM links JOIN valued AS a ON a.attempt = links.attempt GROUP BY links.g, a.currency`;
  return { sql, params: params.params };
}

/** The impact rows (group, currency, failed checkouts, valued attempts, amount) as one entry per group. */
export function shapeImpact(rows: readonly (readonly unknown[])[]): Map<string, ErrorGroupImpact> {
  const out = new Map<string, { failedCheckouts: number; attemptsAtRisk: number; revenue: Map<string, number> }>();
  for (const [group, currency, failed, valued, amount] of rows) {
    const g = String(group);
    let entry = out.get(g);
    if (!entry) out.set(g, (entry = { failedCheckouts: 0, attemptsAtRisk: 0, revenue: new Map() }));
    entry.failedCheckouts += Number(failed ?? 0);
    entry.attemptsAtRisk += Number(valued ?? 0);
    if (typeof amount === 'number' && amount !== 0) {
      const c = String(currency ?? '');
      entry.revenue.set(c, (entry.revenue.get(c) ?? 0) + amount);
    }
  }
  const shaped = new Map<string, ErrorGroupImpact>();
  for (const [group, e] of out) {
    shaped.set(group, {
      group,
      failedCheckouts: e.failedCheckouts,
      attemptsAtRisk: e.attemptsAtRisk,
      revenueAtRisk: [...e.revenue]
        .map(([currency, amount]) => ({ currency, amount }))
        .sort((a, b) => b.amount - a.amount || a.currency.localeCompare(b.currency)),
    });
  }
  return shaped;
}

/** The stats rows as ErrorGroupStats (columns in compileErrorGroups order). */
export function shapeGroups(rows: readonly (readonly unknown[])[]): ErrorGroupStats[] {
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return rows.map((r) => ({
    group: String(r[0]),
    events: Number(r[1] ?? 0),
    firstSeenMs: Number(r[2] ?? 0),
    lastSeenMs: Number(r[3] ?? 0),
    users: Number(r[4] ?? 0),
    customers: Number(r[5] ?? 0),
    sessions: Number(r[6] ?? 0),
    type: typeof r[7] === 'string' ? r[7] : '',
    message: typeof r[8] === 'string' ? r[8] : '',
    level: typeof r[9] === 'string' ? r[9] : null,
    services: list(r[10]).sort(),
    environments: list(r[11]).sort(),
    fingerprints: r[12] === null ? [String(r[0])] : list(r[12]).sort(),
    ...(r.length > 13 ? { eventsSince: Number(r[13] ?? 0), firstSinceMs: r[14] === null ? null : Number(r[14]) } : {}),
  }));
}
