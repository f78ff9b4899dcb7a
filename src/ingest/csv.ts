/**
 * CSV import: three kinds of file (orders, customers, clickstream; their
 * columns in `CSV_COLUMNS`) → one raw event per row, ready for the normaliser
 * (in process) or for an Elasticsearch `_bulk` source document (over HTTP).
 * Rows are checked one by one: a bad row becomes a rejection with its line
 * number and reason, never an exception. Only a header that is not exactly the
 * kind's columns, in order, fails the file.
 *
 * Mapping (every row gets a deterministic `event.id`, so a re-import replaces):
 * - orders → `order_completed` (status COMPLETED), `order_cancelled`
 *   (CANCELLED), `order_refunded` (RETURNED, REFUNDED), `order_updated`
 *   (anything else, e.g. PENDING, SHIPPED); `order.status` keeps the status,
 *   `transaction.amount` = total_amount, `customer.region` = region,
 *   `event.id` = `order:<order_id>`.
 * - customers → `customer_profile` (data class business) at the signup date;
 *   `customer.tier`, `customer.lifetime_value` and the rest as attributes,
 *   `event.id` = `customer:<customer_id>`.
 * - clickstream → VIEW `product_viewed`, ADD_TO_CART `add_to_cart`,
 *   REMOVE_FROM_CART `remove_from_cart`, CHECKOUT `checkout_started`,
 *   PURCHASE `order_completed`, SEARCH `products_searched`, other actions
 *   lower-cased; `event.action` keeps the action, `page.category` = page,
 *   `session.device_type` = device, `event.duration` = duration_seconds in ms,
 *   `event.id` = `click:<hash of the row>` (identical rows are one event).
 *
 * Every event carries `_index` `import-<kind>`, so one file's rows can be
 * queried on their own (`_index:import-orders`).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AppError } from '../errors.ts';
import { redactMessage } from '../privacy/log-redaction.ts';

export const CSV_KINDS = ['orders', 'customers', 'clickstream'] as const;
export type CsvKind = (typeof CSV_KINDS)[number];

/** Each kind's columns, in order; a file's header must be exactly these. */
export const CSV_COLUMNS: Readonly<Record<CsvKind, readonly string[]>> = Object.freeze({
  orders: [
    'order_id',
    'customer_id',
    'product_id',
    'product_name',
    'quantity',
    'price',
    'total_amount',
    'order_date',
    'status',
    'region',
  ],
  customers: [
    'customer_id',
    'first_name',
    'last_name',
    'email',
    'city',
    'region',
    'signup_date',
    'lifetime_value',
    'tier',
  ],
  clickstream: ['timestamp', 'session_id', 'customer_id', 'action', 'page', 'product_id', 'device', 'duration_seconds'],
});

/** The `_index` each kind's events carry (and are sent to over `_bulk`). */
export function csvIndexName(kind: CsvKind): string {
  return `import-${kind}`;
}

/** One data row: the raw event, or why the row was refused. `line` is the 1-based line in the file. */
export type CsvRowResult =
  | { readonly ok: true; readonly line: number; readonly id: string; readonly event: Record<string, unknown> }
  | { readonly ok: false; readonly line: number; readonly reason: string };

// Maps, not object literals: a cell's text is looked up in them, and `CONSTRUCTOR` must not find a built-in.
const ORDER_EVENT_TYPES: ReadonlyMap<string, string> = new Map([
  ['COMPLETED', 'order_completed'],
  ['CANCELLED', 'order_cancelled'],
  ['CANCELED', 'order_cancelled'],
  ['RETURNED', 'order_refunded'],
  ['REFUNDED', 'order_refunded'],
]);

const CLICK_EVENT_TYPES: ReadonlyMap<string, string> = new Map([
  ['VIEW', 'product_viewed'],
  ['ADD_TO_CART', 'add_to_cart'],
  ['REMOVE_FROM_CART', 'remove_from_cart'],
  ['CHECKOUT', 'checkout_started'],
  ['PURCHASE', 'order_completed'],
  ['SEARCH', 'products_searched'],
]);

/**
 * Throws `import.bad_header` unless `header` is exactly the kind's columns,
 * naming the missing and unexpected ones (or the order, when only that differs).
 */
/** What a column name looks like (`order_id`, `Order Date`). */
const COLUMN_NAME = /^[A-Za-z][A-Za-z0-9_ ]{0,39}$/;

export function checkCsvHeader(kind: CsvKind, header: readonly string[]): void {
  const expected = CSV_COLUMNS[kind];
  const got = header.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h).trim());
  if (got.length === expected.length && got.every((h, i) => h === expected[i])) return;
  const missing = expected.filter((c) => !got.includes(c));
  const unexpected = got.filter((c) => !expected.includes(c));
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing ${missing.join(', ')}`);
  // A header-less file's first row is data: only names that look like column names are quoted back.
  const named = unexpected.filter((c) => COLUMN_NAME.test(c));
  if (named.length > 0) parts.push(`unexpected ${named.map((c) => JSON.stringify(c)).join(', ')}`);
  if (named.length < unexpected.length)
    parts.push(`${unexpected.length - named.length} unexpected cell(s) that are no column name`);
  if (parts.length === 0) parts.push('columns out of order or repeated');
  throw new AppError(
    400,
    'import.bad_header',
    redactMessage(`${kind} CSV header does not match: ${parts.join('; ')}. Expected exactly: ${expected.join(',')}`),
  );
}

/** Why a row is refused: names the column and what was expected, never the cell's text. */
class RowError extends Error {}

const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** `2025-01-15 14:23:45` (UTC unless an offset is given) or `2023-05-12` → ISO-8601. */
function timestamp(column: string, value: string): string {
  const m = TIMESTAMP_RE.exec(value);
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m ?? [];
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (
    !m ||
    day.getUTCMonth() !== Number(mo) - 1 ||
    day.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    throw new RowError(`${column} is not a date (expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)`);
  }
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${frac}${zone}`;
}

function number(column: string, value: string, { min, integer }: { min?: number; integer?: boolean } = {}): number {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n)) throw new RowError(`${column} is not a number`);
  if (integer && !Number.isInteger(n)) throw new RowError(`${column} is not a whole number`);
  if (min !== undefined && n < min) throw new RowError(`${column} is below ${min}`);
  return n;
}

function required(column: string, value: string): string {
  const v = value.trim();
  if (v === '') throw new RowError(`${column} is empty`);
  return v;
}

function orderEvent(row: Record<string, string>): [string, Record<string, unknown>] {
  const orderId = required('order_id', row['order_id'] ?? '');
  const status = required('status', row['status'] ?? '').toUpperCase();
  const id = `order:${orderId}`;
  return [
    id,
    {
      '@timestamp': timestamp('order_date', required('order_date', row['order_date'] ?? '')),
      'event.id': id,
      'event.type': ORDER_EVENT_TYPES.get(status) ?? 'order_updated',
      'event.category': 'order',
      data_class: 'business',
      'order.id': orderId,
      'order.status': status,
      'order.quantity': number('quantity', row['quantity'] ?? '', { min: 1, integer: true }),
      'customer.id': required('customer_id', row['customer_id'] ?? ''),
      'customer.region': required('region', row['region'] ?? ''),
      'product.id': required('product_id', row['product_id'] ?? ''),
      'product.name': required('product_name', row['product_name'] ?? ''),
      'product.price': number('price', row['price'] ?? '', { min: 0 }),
      'transaction.amount': number('total_amount', row['total_amount'] ?? '', { min: 0 }),
    },
  ];
}

function customerEvent(row: Record<string, string>): [string, Record<string, unknown>] {
  const customerId = required('customer_id', row['customer_id'] ?? '');
  const email = required('email', row['email'] ?? '');
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new RowError('email is not an email address');
  const id = `customer:${customerId}`;
  return [
    id,
    {
      '@timestamp': timestamp('signup_date', required('signup_date', row['signup_date'] ?? '')),
      'event.id': id,
      'event.type': 'customer_profile',
      'event.category': 'customer',
      data_class: 'business',
      'customer.id': customerId,
      'customer.first_name': required('first_name', row['first_name'] ?? ''),
      'customer.last_name': required('last_name', row['last_name'] ?? ''),
      'customer.email': email,
      'customer.city': required('city', row['city'] ?? ''),
      'customer.region': required('region', row['region'] ?? ''),
      'customer.signup_date': row['signup_date']?.trim(),
      'customer.lifetime_value': number('lifetime_value', row['lifetime_value'] ?? '', { min: 0 }),
      'customer.tier': required('tier', row['tier'] ?? '').toUpperCase(),
    },
  ];
}

function clickEvent(row: Record<string, string>, cells: readonly string[]): [string, Record<string, unknown>] {
  const action = required('action', row['action'] ?? '').toUpperCase();
  const id = `click:${createHash('sha256').update(cells.join('\u001f')).digest('hex').slice(0, 24)}`;
  const event: Record<string, unknown> = {
    '@timestamp': timestamp('timestamp', required('timestamp', row['timestamp'] ?? '')),
    'event.id': id,
    'event.type': CLICK_EVENT_TYPES.get(action) ?? action.toLowerCase(),
    'event.action': action,
    'event.category': 'clickstream',
    data_class: 'business',
    'user.session_id': required('session_id', row['session_id'] ?? ''),
    'session.device_type': required('device', row['device'] ?? '').toLowerCase(),
    'event.duration': number('duration_seconds', row['duration_seconds'] ?? '', { min: 0 }) * 1000,
  };
  // Anonymous visitors and non-product pages leave these empty.
  const customerId = row['customer_id']?.trim();
  if (customerId) event['customer.id'] = customerId;
  const page = row['page']?.trim();
  if (page) event['page.category'] = page;
  const productId = row['product_id']?.trim();
  if (productId) event['product.id'] = productId;
  return [id, event];
}

/** Maps one data row (cells in header order) to its raw event, or rejects it. */
export function csvRowToEvent(kind: CsvKind, cells: readonly string[], line: number): CsvRowResult {
  const columns = CSV_COLUMNS[kind];
  if (cells.length !== columns.length) {
    return { ok: false, line, reason: `expected ${columns.length} columns, got ${cells.length}` };
  }
  const row: Record<string, string> = {};
  columns.forEach((c, i) => (row[c] = cells[i] ?? ''));
  try {
    const [id, event] =
      kind === 'orders' ? orderEvent(row) : kind === 'customers' ? customerEvent(row) : clickEvent(row, cells);
    event['_index'] = csvIndexName(kind);
    return { ok: true, line, id, event };
  } catch (err) {
    if (err instanceof RowError) return { ok: false, line, reason: err.message };
    throw err;
  }
}

/**
 * Reads a CSV stream of `kind`: checks the header (throws `import.bad_header`),
 * then yields one result per data row. Blank lines are skipped; a line the CSV
 * parser cannot read fails the file with its line number.
 */
export async function* readCsvEvents(kind: CsvKind, input: Readable): AsyncGenerator<CsvRowResult> {
  const { parse } = await import('csv-parse'); // at the first import, not at every server start
  const parser = input.pipe(
    parse({ relax_column_count: true, skip_empty_lines: true, info: true, bom: true, relax_quotes: true }),
  );
  let header = true;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (header) {
        checkCsvHeader(kind, record);
        header = false;
        continue;
      }
      yield csvRowToEvent(kind, record, info.lines);
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    const lines = (err as { lines?: number }).lines;
    // csv-parse's messages quote the field (`value is "..."`): keep only their kind ("Invalid Opening Quote").
    const what = /^[A-Za-z ]{3,60}(?=:)/.exec((err as Error).message)?.[0] ?? 'unreadable CSV';
    throw new AppError(
      400,
      'import.bad_csv',
      `${lines ? `line ${lines}: ` : ''}${what}; the CSV parser cannot read the file from here`,
      { cause: err },
    );
  } finally {
    input.destroy();
  }
  if (header) throw new AppError(400, 'import.bad_header', `${kind} CSV is empty: expected a header line`);
}
