/**
 * The demo shop's customers, one customers.csv row each:
 * `CUST00001, John, Smith, john.smith1@example.com, New York, US-EAST,
 * 2023-05-12, 3456.78, GOLD`. The tier follows the lifetime value
 * (BRONZE < 500 USD ≤ SILVER < 2,000 ≤ GOLD < 5,000 ≤ PLATINUM), and
 * higher tiers come back to the shop more often.
 */
import { cents, hashText, Random, Weighted } from './random.ts';

export const TIERS = ['BRONZE', 'SILVER', 'GOLD', 'PLATINUM'] as const;
export type Tier = (typeof TIERS)[number];

/** Sales regions, upper-case as in the CSV files (`US-EAST`). */
export const REGIONS = ['US-EAST', 'US-WEST', 'EU-WEST', 'EU-CENTRAL', 'ASIA-PACIFIC', 'LATAM'] as const;
export type Region = (typeof REGIONS)[number];

/** Where a customer lives. */
export interface Location {
  readonly city: string;
  /** ISO 3166-1 alpha-2. */
  readonly country: string;
  /** State or province code, logged as `customer.state` (`NY`). */
  readonly state: string;
  readonly region: Region;
  /** Currency the shop charges there (ISO 4217). */
  readonly currency: string;
}

/** One customer. */
export interface Customer {
  /** `CUST00001` … `CUST05000`. */
  readonly id: string;
  readonly firstName: string;
  readonly lastName: string;
  /** Masked as payment events log it: `john.***@example.com`. */
  readonly maskedEmail: string;
  readonly location: Location;
  /** `YYYY-MM-DD`. */
  readonly signupDate: string;
  /** USD spent before the simulation starts. */
  readonly lifetimeValue: number;
  readonly lifetimeOrders: number;
  readonly tier: Tier;
  /** Device the customer mostly shops from. */
  readonly preferredDevice: 'mobile' | 'desktop' | 'tablet';
}

/** Number of customers in the demo shop (customers.csv has 5,000 rows). */
export const CUSTOMER_COUNT = 5_000;

const LOCATIONS: readonly (readonly [Location, number])[] = [
  [{ city: 'New York', country: 'US', state: 'NY', region: 'US-EAST', currency: 'USD' }, 10],
  [{ city: 'Boston', country: 'US', state: 'MA', region: 'US-EAST', currency: 'USD' }, 5],
  [{ city: 'Miami', country: 'US', state: 'FL', region: 'US-EAST', currency: 'USD' }, 5],
  [{ city: 'Atlanta', country: 'US', state: 'GA', region: 'US-EAST', currency: 'USD' }, 4],
  [{ city: 'Toronto', country: 'CA', state: 'ON', region: 'US-EAST', currency: 'USD' }, 3],
  [{ city: 'San Francisco', country: 'US', state: 'CA', region: 'US-WEST', currency: 'USD' }, 7],
  [{ city: 'Los Angeles', country: 'US', state: 'CA', region: 'US-WEST', currency: 'USD' }, 7],
  [{ city: 'Seattle', country: 'US', state: 'WA', region: 'US-WEST', currency: 'USD' }, 5],
  [{ city: 'Denver', country: 'US', state: 'CO', region: 'US-WEST', currency: 'USD' }, 3],
  [{ city: 'London', country: 'GB', state: 'LND', region: 'EU-WEST', currency: 'GBP' }, 8],
  [{ city: 'Paris', country: 'FR', state: 'IDF', region: 'EU-WEST', currency: 'EUR' }, 5],
  [{ city: 'Amsterdam', country: 'NL', state: 'NH', region: 'EU-WEST', currency: 'EUR' }, 3],
  [{ city: 'Dublin', country: 'IE', state: 'D', region: 'EU-WEST', currency: 'EUR' }, 2],
  [{ city: 'Madrid', country: 'ES', state: 'MD', region: 'EU-WEST', currency: 'EUR' }, 2],
  [{ city: 'Berlin', country: 'DE', state: 'BE', region: 'EU-CENTRAL', currency: 'EUR' }, 4],
  [{ city: 'Munich', country: 'DE', state: 'BY', region: 'EU-CENTRAL', currency: 'EUR' }, 3],
  [{ city: 'Vienna', country: 'AT', state: 'W', region: 'EU-CENTRAL', currency: 'EUR' }, 2],
  [{ city: 'Warsaw', country: 'PL', state: 'MZ', region: 'EU-CENTRAL', currency: 'EUR' }, 1],
  [{ city: 'Singapore', country: 'SG', state: 'SG', region: 'ASIA-PACIFIC', currency: 'USD' }, 4],
  [{ city: 'Tokyo', country: 'JP', state: '13', region: 'ASIA-PACIFIC', currency: 'USD' }, 4],
  [{ city: 'Sydney', country: 'AU', state: 'NSW', region: 'ASIA-PACIFIC', currency: 'USD' }, 4],
  [{ city: 'Jakarta', country: 'ID', state: 'JK', region: 'ASIA-PACIFIC', currency: 'USD' }, 3],
  [{ city: 'São Paulo', country: 'BR', state: 'SP', region: 'LATAM', currency: 'USD' }, 3],
  [{ city: 'Mexico City', country: 'MX', state: 'CMX', region: 'LATAM', currency: 'USD' }, 2],
];

// prettier-ignore
const FIRST_NAMES = [
  'John', 'Emily', 'Michael', 'Sarah', 'David', 'Laura', 'James', 'Anna', 'Robert', 'Maria',
  'Daniel', 'Sophie', 'Thomas', 'Olivia', 'Lucas', 'Emma', 'Hiroshi', 'Yuki', 'Wei', 'Mei',
  'Carlos', 'Ana', 'Pierre', 'Camille', 'Jonas', 'Lena', 'Arjun', 'Priya', 'Budi', 'Siti',
];
// prettier-ignore
const LAST_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Martin', 'Dubois',
  'Müller', 'Schmidt', 'Rossi', 'Tanaka', 'Sato', 'Chen', 'Wang', 'Silva', 'Santos', 'Kowalski',
  'Novak', 'Nguyen', 'Kim', 'Lee', 'Patel', 'Sharma', 'Wijaya', 'Hughes', 'Clarke', 'Moreau',
];

/** Tier by lifetime value in USD. */
export function tierFor(lifetimeValue: number): Tier {
  if (lifetimeValue >= 5000) return 'PLATINUM';
  if (lifetimeValue >= 2000) return 'GOLD';
  if (lifetimeValue >= 500) return 'SILVER';
  return 'BRONZE';
}

/** How much more often a customer of each tier starts a session than a BRONZE one. */
const VISIT_WEIGHT: Record<Tier, number> = { BRONZE: 1, SILVER: 1.6, GOLD: 2.4, PLATINUM: 3.5 };

const DEVICE_PREFERENCE = new Weighted<Customer['preferredDevice']>([
  ['mobile', 58],
  ['desktop', 34],
  ['tablet', 8],
]);

const SIGNUP_FROM_MS = Date.UTC(2021, 0, 1);
const SIGNUP_TO_MS = Date.UTC(2025, 11, 31);

function emailLocal(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

function makeCustomer(index: number, random: Random, locations: Weighted<Location>): Customer {
  const firstName = random.pick(FIRST_NAMES);
  const lastName = random.pick(LAST_NAMES);
  const signupMs = random.float(SIGNUP_FROM_MS, SIGNUP_TO_MS);
  // Older accounts have spent more; the log-normal gives a long tail of big spenders.
  const yearsActive = Math.max(0.1, (SIGNUP_TO_MS - signupMs) / (365.25 * 86_400_000));
  const lifetimeValue = cents(Math.min(60_000, random.logNormal(260 * Math.sqrt(yearsActive), 1.15)));
  const tier = tierFor(lifetimeValue);
  const device = random.weighted(DEVICE_PREFERENCE);
  return {
    id: `CUST${String(index + 1).padStart(5, '0')}`,
    firstName,
    lastName,
    maskedEmail: `${emailLocal(firstName)}.***@example.com`,
    location: random.weighted(locations),
    signupDate: new Date(signupMs).toISOString().slice(0, 10),
    lifetimeValue,
    lifetimeOrders: Math.max(1, Math.round(lifetimeValue / random.float(90, 220))),
    tier,
    preferredDevice: device,
  };
}

/** The customer base of one seed, and who shows up for a session. */
export class CustomerBase {
  readonly customers: readonly Customer[];
  readonly #visitors: Weighted<Customer>;

  constructor(seed: number, count: number = CUSTOMER_COUNT) {
    const random = Random.derive(seed, hashText('customers'));
    const locations = new Weighted(LOCATIONS);
    const customers: Customer[] = [];
    for (let i = 0; i < count; i++) customers.push(Object.freeze(makeCustomer(i, random, locations)));
    this.customers = Object.freeze(customers);
    this.#visitors = new Weighted(customers.map((c) => [c, VISIT_WEIGHT[c.tier]] as const));
  }

  /** A customer starting a session, more often from the higher tiers. */
  pickVisitor(random: Random): Customer {
    return random.weighted(this.#visitors);
  }

  /** Customers per tier. */
  countByTier(): Record<Tier, number> {
    const counts: Record<Tier, number> = { BRONZE: 0, SILVER: 0, GOLD: 0, PLATINUM: 0 };
    for (const c of this.customers) counts[c.tier]++;
    return counts;
  }
}
