/**
 * When the demo shop is busy: a daily curve (quiet at night, a lunch bump,
 * an evening peak), a weekly curve (weekends a little busier) and promotion
 * windows that bring a burst of traffic and better conversion.
 *
 * Everything is a pure function of the time, in the shop's time zone (UTC by
 * default), so any window of history can be generated on its own.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Relative traffic at each full hour of the day (0:00 … 23:00), before normalising to a mean of 1. */
// prettier-ignore
const HOURLY = [
  0.55, 0.38, 0.27, 0.22, 0.2, 0.24, 0.38, 0.6, 0.8, 0.92, 1.0, 1.05,
  1.12, 1.08, 1.02, 1.0, 1.05, 1.15, 1.32, 1.5, 1.62, 1.55, 1.25, 0.85,
];
/** Relative traffic per weekday, Sunday first (as `Date#getUTCDay`). */
const WEEKDAY = [1.08, 0.96, 0.94, 0.97, 1.0, 1.02, 1.05];

function normalised(values: readonly number[]): readonly number[] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Object.freeze(values.map((v) => v / mean));
}

const HOURLY_NORM = normalised(HOURLY);
const WEEKDAY_NORM = normalised(WEEKDAY);

/** A recurring sales event. */
export interface Promotion {
  /** Campaign id put on the sessions it brings (`business.campaign_id`, `session.campaign`). */
  readonly campaignId: string;
  /** Day of the week, 0 = Sunday … 6 = Saturday (shop time). */
  readonly weekday: number;
  /** Start, in hours after midnight shop time (may be fractional). */
  readonly startHour: number;
  readonly durationHours: number;
  /** Traffic multiplier while it runs (2 = twice the sessions). */
  readonly trafficBoost: number;
  /** Multiplier on the add-to-cart and checkout probabilities. */
  readonly conversionBoost: number;
  /** Discount on the promoted category, as a fraction of the price. */
  readonly discount: number;
  /** Category on sale; its products are viewed more during the promotion. */
  readonly category: string;
}

/** The default promotion: a weekly Saturday-evening flash sale on electronics. */
export const DEFAULT_PROMOTIONS: readonly Promotion[] = Object.freeze([
  Object.freeze({
    campaignId: 'weekend_flash_sale',
    weekday: 6,
    startHour: 17,
    durationHours: 4,
    trafficBoost: 2.2,
    conversionBoost: 1.4,
    discount: 0.15,
    category: 'electronics',
  }),
]);

/** The shop's calendar: seasonality curves plus promotions, in one time zone. */
export class ShopCalendar {
  readonly promotions: readonly Promotion[];
  readonly #offsetMs: number;

  /**
   * @param promotions recurring promotions (default: the Saturday flash sale)
   * @param utcOffsetMinutes the shop's time zone, e.g. -300 for New York winter time (default 0: UTC)
   */
  constructor(promotions: readonly Promotion[] = DEFAULT_PROMOTIONS, utcOffsetMinutes = 0) {
    for (const p of promotions) {
      if (!Number.isInteger(p.weekday) || p.weekday < 0 || p.weekday > 6) {
        throw new Error(`promotion ${p.campaignId}: weekday must be 0-6, got ${p.weekday}`);
      }
      if (!(p.durationHours > 0) || !(p.trafficBoost > 0) || !(p.conversionBoost > 0)) {
        throw new Error(`promotion ${p.campaignId}: duration and boosts must be positive`);
      }
    }
    this.promotions = promotions;
    this.#offsetMs = utcOffsetMinutes * 60_000;
  }

  /** Hours since midnight in shop time, fractional (0 ≤ h < 24). */
  hourOfDay(tMs: number): number {
    const local = tMs + this.#offsetMs;
    return (((local % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
  }

  /** Daily curve at `tMs`, mean 1 over a day (linear between the hourly points). */
  dailyFactor(tMs: number): number {
    const h = this.hourOfDay(tMs);
    const i = Math.floor(h);
    const a = HOURLY_NORM[i] as number;
    const b = HOURLY_NORM[(i + 1) % 24] as number;
    return a + (b - a) * (h - i);
  }

  /** Weekly curve at `tMs`, mean 1 over a week. */
  weeklyFactor(tMs: number): number {
    return WEEKDAY_NORM[new Date(tMs + this.#offsetMs).getUTCDay()] as number;
  }

  /** The promotion running at `tMs`, if any. */
  activePromotion(tMs: number): Promotion | undefined {
    const local = tMs + this.#offsetMs;
    const weekday = new Date(local).getUTCDay();
    const hour = this.hourOfDay(tMs);
    for (const p of this.promotions) {
      // A promotion may run past midnight into the next day.
      const end = p.startHour + p.durationHours;
      if (weekday === p.weekday && hour >= p.startHour && hour < end) return p;
      if (weekday === (p.weekday + 1) % 7 && end > 24 && hour < end - 24) return p;
    }
    return undefined;
  }

  /** Traffic at `tMs` relative to the shop's long-run average: daily × weekly × promotion boost. */
  trafficMultiplier(tMs: number): number {
    return this.dailyFactor(tMs) * this.weeklyFactor(tMs) * (this.activePromotion(tMs)?.trafficBoost ?? 1);
  }
}
