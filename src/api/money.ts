/**
 * Money at the API edge: sums and averages of amounts are exact doubles inside
 * the store, where `0.1 + 0.2` is `0.30000000000000004`; an answer rounds
 * them to the currency's minor unit (cents for USD and EUR, none for JPY,
 * three places for KWD) so that no client shows float noise. Nothing is
 * rounded before the last step, so sums of sums stay exact.
 *
 * Which columns hold money is read from the query itself: a money field
 * (below), an aggregation over one (sum, avg, min, max, percentiles), or an
 * `eval` that scales one (`revenue / 60`, `revenue - refunds`); a count, a
 * ratio of two amounts or a risk score is not money. The currency is the
 * row's `transaction.currency` column when the answer has one, else the one
 * the filter pins (`transaction.currency:JPY`), else two decimals.
 */
import { parseQuery, type Expr, type Filter, type Query } from '../query/index.ts';
import { typedField } from '../schema/fields.ts';
import type { QueryAnswer } from '../store/query-service.ts';

/**
 * Fields that hold an amount of money in the event's currency. Typed columns
 * are matched by canonical name (so aliases such as `amount` count too).
 */
export const MONEY_FIELDS: ReadonlySet<string> = new Set([
  'transaction.amount',
  'order.total_amount',
  'order.shipping_cost',
  'order.tax_amount',
  'order.subtotal',
  'order.discount_amount',
  'product.price',
  'cart.value',
  'business.revenue_impact',
  'customer.lifetime_value',
  'refund.amount',
]);

const CURRENCY_FIELD = 'transaction.currency';
const DEFAULT_DECIMALS = 2;
const MONEY_AGGREGATIONS = new Set(['sum', 'avg', 'min', 'max', 'percentile']);

function canonical(name: string): string {
  return typedField(name)?.name ?? name;
}

/** Decimal places of a currency's minor unit (ISO 4217, from the runtime's ICU data); 2 when unknown. */
export function minorUnitDecimals(currency: unknown): number {
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) return DEFAULT_DECIMALS;
  try {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() });
    return format.resolvedOptions().maximumFractionDigits ?? DEFAULT_DECIMALS;
  } catch {
    return DEFAULT_DECIMALS;
  }
}

/** `value` rounded half away from zero to `decimals` places, by decimal exponent (1.005 → 1.01, not 1.00). */
export function roundTo(value: number, decimals: number): number {
  if (!Number.isFinite(value)) return value;
  const magnitude = Math.round(Number(`${Math.abs(value)}e${decimals}`));
  const rounded = Math.sign(value) * Number(`${magnitude}e-${decimals}`);
  return Object.is(rounded, -0) ? 0 : rounded;
}

function isMoney(expr: Expr, money: ReadonlySet<string>): boolean {
  switch (expr.kind) {
    case 'column':
      return money.has(expr.name) || money.has(canonical(expr.name));
    case 'unary':
      return expr.op === '-' && isMoney(expr.arg, money);
    case 'binary': {
      const left = isMoney(expr.left, money);
      const right = isMoney(expr.right, money);
      if (expr.op === '+' || expr.op === '-') return left || right;
      if (expr.op === '*') return left !== right;
      if (expr.op === '/') return left && !right;
      return false;
    }
    case 'call':
      if (expr.fn === 'if') return expr.args.slice(1).some((a) => isMoney(a, money));
      if (['round', 'abs', 'floor', 'ceil', 'coalesce'].includes(expr.fn))
        return expr.args[0] !== undefined && isMoney(expr.args[0], money);
      return false;
    default:
      return false;
  }
}

/** The output columns of `query` that hold money. */
export function moneyColumns(query: Query): Set<string> {
  let money = new Set<string>(MONEY_FIELDS);
  for (const stage of query.stages) {
    if (stage.kind === 'eval') {
      for (const { name, expr } of stage.assignments) {
        if (isMoney(expr, money)) money.add(name);
        else money.delete(name);
      }
    } else if (stage.kind === 'stats') {
      const next = new Set<string>();
      for (const agg of stage.aggs) {
        if (MONEY_AGGREGATIONS.has(agg.fn) && agg.field !== undefined && money.has(canonical(agg.field)))
          next.add(agg.as);
      }
      for (const key of stage.by) if (key.kind === 'field' && money.has(canonical(key.field))) next.add(key.as);
      money = next;
    }
  }
  return money;
}

/** The currency a filter pins for every row: `transaction.currency:X` alone or in a top-level AND. */
function pinnedCurrency(filter: Filter): string | undefined {
  if (filter.kind === 'match' && canonical(filter.field) === CURRENCY_FIELD && !filter.value.text.includes('*'))
    return filter.value.text;
  if (filter.kind === 'and') {
    for (const item of filter.items) {
      const found = pinnedCurrency(item);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * The answer with its money columns rounded to the minor unit (see the file
 * comment). An answer without money columns, or to a query that does not
 * parse here, is returned as it is.
 */
export function roundMoney(queryText: string, answer: QueryAnswer): QueryAnswer {
  let query: Query;
  try {
    query = parseQuery(queryText);
  } catch {
    return answer;
  }
  const money = moneyColumns(query);
  const indexes = answer.columns.flatMap((c, i) => (money.has(c.name) ? [i] : []));
  if (indexes.length === 0) return answer;
  const currencyIndex = answer.columns.findIndex((c) => canonical(c.name) === CURRENCY_FIELD);
  const fixedDecimals = minorUnitDecimals(pinnedCurrency(query.filter));
  const rows = answer.rows.map((row) => {
    const decimals = currencyIndex >= 0 ? minorUnitDecimals(row[currencyIndex]) : fixedDecimals;
    const out = [...row];
    for (const i of indexes) {
      const value = out[i];
      if (typeof value === 'number') out[i] = roundTo(value, decimals);
    }
    return out;
  });
  return { ...answer, rows };
}
