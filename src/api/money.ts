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
import { parseQuery, type Query } from '../query/index.ts';
import { canonical, CURRENCY_FIELD, minorUnitDecimals, moneyColumns, pinnedCurrency } from '../query/money-columns.ts';
import type { QueryAnswer } from '../store/query-service.ts';

export { MONEY_FIELDS, minorUnitDecimals, moneyColumns } from '../query/money-columns.ts';

/** `value` rounded half away from zero to `decimals` places, by decimal exponent (1.005 → 1.01, not 1.00). */
export function roundTo(value: number, decimals: number): number {
  if (!Number.isFinite(value)) return value;
  const magnitude = Math.round(Number(`${Math.abs(value)}e${decimals}`));
  const rounded = Math.sign(value) * Number(`${magnitude}e-${decimals}`);
  return Object.is(rounded, -0) ? 0 : rounded;
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
