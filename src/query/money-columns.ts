/**
 * Which columns of a query's answer hold money, and in which currency: a
 * money field (below), an aggregation over one (sum, avg, min, max,
 * percentiles), or an `eval` that scales one (`revenue / 60`, `revenue -
 * refunds`); a count, a ratio of two amounts or a risk score is not money.
 * Used by the API to round answers to the minor unit and by alerts to format
 * amounts in notifications.
 */
import type { Expr, Filter, Query } from './ir.ts';
import { typedField } from '../schema/fields.ts';

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

export const CURRENCY_FIELD = 'transaction.currency';
const DEFAULT_DECIMALS = 2;
const MONEY_AGGREGATIONS = new Set(['sum', 'avg', 'min', 'max', 'percentile']);

/** The canonical name of a typed field (aliases such as `amount` → `transaction.amount`), else the name itself. */
export function canonical(name: string): string {
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
export function pinnedCurrency(filter: Filter): string | undefined {
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
