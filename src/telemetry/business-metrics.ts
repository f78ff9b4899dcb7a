/**
 * The shop's business KPIs as Prometheus series on `/metrics`, from what
 * each committed ingest log segment adds (src/store/kpis.ts): a Prometheus
 * server scraping Shoplens gets orders, revenue, payments by gateway and
 * outcome, checkout requests and request latency per service and route
 * without running its own exporter, and its PromQL agrees with Shoplens's
 * own queries over the same events.
 *
 * Label values come from the events, so their number is bounded: past
 * `maxSeries` label sets of one metric, new ones count under the value
 * "other" (shoplens_shop_series_folded_total says how often).
 */
import { Counter, type Registry } from 'prom-client';
import { DURATION_BUCKETS_S, type KpiDelta, type KpiName } from '../store/kpis.ts';

export interface BusinessMetricsOptions {
  readonly business: readonly KpiName[];
  readonly maxSeries: number;
}

const OTHER = 'other';
/** Longest label value exported: event fields can be long, and every scrape carries each series' labels. */
const MAX_LABEL_CHARS = 128;

/** Label sets seen per metric, up to the bound. */
class SeriesBudget {
  readonly #seen = new Set<string>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** Whether `key` may be a series of its own (it is one already, or there is room). */
  admit(key: string): boolean {
    if (this.#seen.has(key)) return true;
    if (this.#seen.size >= this.#max) return false;
    this.#seen.add(key);
    return true;
  }
}

interface DurationSeries {
  readonly labels: Record<string, string>;
  count: number;
  sum: number;
  readonly buckets: number[];
}

/**
 * A histogram fed with aggregates (a count, a sum and cumulative bucket
 * counts per label set) rather than one observation per event, which
 * prom-client's Histogram has no call for. It registers as a metric of the
 * registry and is printed by it like any other.
 */
class AggregatedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series = new Map<string, DurationSeries>();

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  add(key: string, labels: Record<string, string>, count: number, sum: number, buckets: readonly number[]): void {
    let s = this.#series.get(key);
    if (!s) {
      s = { labels, count: 0, sum: 0, buckets: DURATION_BUCKETS_S.map(() => 0) };
      this.#series.set(key, s);
    }
    s.count += count;
    s.sum += sum;
    for (let i = 0; i < s.buckets.length; i++) s.buckets[i] = (s.buckets[i] as number) + (buckets[i] ?? 0);
  }

  get(): {
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { value: number; labels: Record<string, string | number>; metricName: string }[];
  } {
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
    for (const s of this.#series.values()) {
      DURATION_BUCKETS_S.forEach((le, i) =>
        values.push({ value: s.buckets[i] as number, labels: { ...s.labels, le }, metricName: `${this.name}_bucket` }),
      );
      values.push({ value: s.count, labels: { ...s.labels, le: '+Inf' }, metricName: `${this.name}_bucket` });
      values.push({ value: s.sum, labels: s.labels, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: s.labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#series.clear();
  }
}

export class BusinessMetrics {
  readonly #enabled: ReadonlySet<KpiName>;
  readonly #budgets = new Map<string, SeriesBudget>();
  readonly #maxSeries: number;
  readonly #orders: Counter<'tenant' | 'channel' | 'region' | 'currency'>;
  readonly #revenue: Counter<'tenant' | 'channel' | 'region' | 'currency'>;
  readonly #payments: Counter<'tenant' | 'gateway' | 'outcome'>;
  readonly #checkouts: Counter<'tenant' | 'outcome'>;
  readonly #duration: AggregatedHistogram;
  readonly #folded: Counter<'metric'>;

  constructor(registry: Registry, options: BusinessMetricsOptions) {
    this.#enabled = new Set(options.business);
    this.#maxSeries = options.maxSeries;
    const registers = [registry];
    this.#orders = new Counter({
      name: 'shoplens_shop_orders_total',
      help: 'Orders completed (order_completed events), by tenant, sales channel (business.channel), region (customer.region) and currency.',
      labelNames: ['tenant', 'channel', 'region', 'currency'],
      registers: this.#enabled.has('orders') ? registers : [],
    });
    this.#revenue = new Counter({
      name: 'shoplens_shop_revenue_total',
      help: 'Sum of transaction.amount of completed orders, in their currency (see the currency label), by tenant, channel, region and currency.',
      labelNames: ['tenant', 'channel', 'region', 'currency'],
      registers: this.#enabled.has('revenue') ? registers : [],
    });
    this.#payments = new Counter({
      name: 'shoplens_shop_payments_total',
      help: 'Payment transactions by tenant, gateway and outcome: success, decline (payment.processor_response declined) or technical_failure (event.outcome failure otherwise).',
      labelNames: ['tenant', 'gateway', 'outcome'],
      registers: this.#enabled.has('payments') ? registers : [],
    });
    this.#checkouts = new Counter({
      name: 'shoplens_shop_checkout_requests_total',
      help: 'Requests to the checkout API (api_request events on metrics.checkoutRoute) by tenant and outcome: failure when answered 5xx, else success.',
      labelNames: ['tenant', 'outcome'],
      registers: this.#enabled.has('checkouts') ? registers : [],
    });
    this.#duration = new AggregatedHistogram(
      'shoplens_shop_request_duration_seconds',
      'Duration of API requests (api_request events with event.duration), by tenant, service and route.',
    );
    if (this.#enabled.has('request_duration')) registry.registerMetric(this.#duration as never);
    this.#folded = new Counter({
      name: 'shoplens_shop_series_folded_total',
      help: 'KPI increments counted under the label value "other" because their metric already had metrics.maxSeries label sets.',
      labelNames: ['metric'],
      registers: options.business.length > 0 ? registers : [],
    });
  }

  /** Labels of their own (values cut to MAX_LABEL_CHARS), or all "other" (beyond the series bound) except the tenant. */
  #labels<L extends Record<string, string>>(metric: string, raw: L): L {
    const labels = {} as Record<string, string>;
    for (const [k, v] of Object.entries(raw)) labels[k] = v.length > MAX_LABEL_CHARS ? v.slice(0, MAX_LABEL_CHARS) : v;
    let budget = this.#budgets.get(metric);
    if (!budget) {
      budget = new SeriesBudget(this.#maxSeries);
      this.#budgets.set(metric, budget);
    }
    if (budget.admit(JSON.stringify(labels))) return labels as L;
    this.#folded.inc({ metric });
    const folded: Record<string, string> = {};
    for (const k of Object.keys(labels)) folded[k] = k === 'tenant' ? (labels[k] as string) : OTHER;
    return folded as L;
  }

  /** Adds what a committed segment brought. */
  add(deltas: readonly KpiDelta[]): void {
    for (const d of deltas) {
      switch (d.kind) {
        case 'orders': {
          const labels = this.#labels('orders', {
            tenant: d.tenant,
            channel: d.channel,
            region: d.region,
            currency: d.currency,
          });
          if (this.#enabled.has('orders')) this.#orders.inc(labels, d.count);
          if (this.#enabled.has('revenue') && d.revenue !== 0 && Number.isFinite(d.revenue))
            this.#revenue.inc(labels, Math.max(0, d.revenue));
          break;
        }
        case 'payments':
          if (this.#enabled.has('payments'))
            this.#payments.inc(
              this.#labels('payments', { tenant: d.tenant, gateway: d.gateway, outcome: d.outcome }),
              d.count,
            );
          break;
        case 'checkouts':
          if (this.#enabled.has('checkouts')) this.#checkouts.inc({ tenant: d.tenant, outcome: d.outcome }, d.count);
          break;
        case 'request_duration':
          if (this.#enabled.has('request_duration')) {
            const labels = this.#labels('request_duration', { tenant: d.tenant, service: d.service, route: d.route });
            this.#duration.add(JSON.stringify(labels), labels, d.count, d.sumSeconds, d.buckets);
          }
          break;
      }
    }
  }
}
