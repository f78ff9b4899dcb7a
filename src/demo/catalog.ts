/**
 * The demo shop's product catalog: a fifteen-product electronics store (Gaming
 * Laptop LAPTOP001 at 1299.99, Smartphone Pro PHONE001 at 899.99, ...) grown
 * to a few more categories, with prices, margins, ratings and stock.
 *
 * Stock is a pure function of time (a restock cycle per product), not a
 * counter, so any time window of the simulated shop can be generated on its
 * own and always gives the same answer.
 */
import { hashText, Random, Weighted } from './random.ts';

/** One product the shop sells. */
export interface Product {
  /** Upper-case kind plus a three-digit number: `LAPTOP001`. */
  readonly id: string;
  readonly name: string;
  /** Top-level category, as in `business.category` (`electronics`). */
  readonly category: string;
  readonly subcategory: string;
  /** List price in USD. */
  readonly price: number;
  /** Gross margin as a fraction of the price (0.28 = 28 %). */
  readonly margin: number;
  /** Average review rating, 1-5. */
  readonly rating: number;
  readonly reviewCount: number;
  /** Units on hand right after a restock. */
  readonly restockLevel: number;
  /** Relative share of product views (higher = more popular). */
  readonly popularity: number;
  /** URL slug for `page.url`: `/products/gaming-laptop`. */
  readonly slug: string;
}

type ProductRow = readonly [
  id: string,
  name: string,
  category: string,
  subcategory: string,
  price: number,
  margin: number,
  rating: number,
  reviewCount: number,
  restockLevel: number,
  popularity: number,
];

const ROWS: readonly ProductRow[] = [
  ['LAPTOP001', 'Gaming Laptop', 'electronics', 'laptops', 1299.99, 0.18, 4.6, 2310, 120, 9],
  ['LAPTOP002', 'Ultrabook Air 14', 'electronics', 'laptops', 999.99, 0.21, 4.5, 1875, 150, 8],
  ['PHONE001', 'Smartphone Pro', 'electronics', 'smartphones', 899.99, 0.24, 4.5, 5120, 300, 14],
  ['PHONE002', 'Smartphone Lite', 'electronics', 'smartphones', 399.99, 0.22, 4.2, 3380, 400, 11],
  ['TABLET001', 'Tablet Plus 11', 'electronics', 'tablets', 549.99, 0.23, 4.4, 1640, 200, 7],
  ['WATCH001', 'Smartwatch Series 5', 'electronics', 'wearables', 299.99, 0.3, 4.3, 2980, 250, 8],
  ['HEADPH001', 'Wireless Headphones', 'electronics', 'audio', 199.99, 0.35, 4.6, 4410, 350, 10],
  ['EARBUD001', 'Noise-Cancelling Earbuds', 'electronics', 'audio', 149.99, 0.38, 4.4, 3905, 400, 10],
  ['SPEAKER001', 'Smart Speaker Mini', 'electronics', 'audio', 89.99, 0.4, 4.1, 2750, 500, 6],
  ['CAMERA001', 'Mirrorless Camera', 'electronics', 'cameras', 749.99, 0.2, 4.7, 980, 80, 4],
  ['MONITOR001', '27" 4K Monitor', 'electronics', 'computer_accessories', 349.99, 0.25, 4.5, 1420, 180, 6],
  ['KEYBRD001', 'Mechanical Keyboard', 'electronics', 'computer_accessories', 129.99, 0.42, 4.6, 2630, 300, 6],
  ['MOUSE001', 'Gaming Mouse', 'electronics', 'computer_accessories', 59.99, 0.45, 4.5, 3870, 450, 7],
  ['CONSOLE001', 'Game Console X', 'electronics', 'gaming', 499.99, 0.12, 4.8, 6210, 90, 9],
  ['DRONE001', 'Camera Drone 4K', 'electronics', 'cameras', 799.99, 0.22, 4.3, 760, 60, 3],
  ['COFFEE001', 'Espresso Machine', 'home_kitchen', 'appliances', 249.99, 0.33, 4.4, 1530, 140, 5],
  ['VACUUM001', 'Robot Vacuum', 'home_kitchen', 'appliances', 329.99, 0.3, 4.2, 2210, 160, 5],
  ['BLENDER001', 'High-Speed Blender', 'home_kitchen', 'appliances', 119.99, 0.36, 4.3, 1190, 220, 4],
  ['SHOE001', 'Trail Running Shoes', 'fashion', 'footwear', 129.99, 0.5, 4.4, 2840, 380, 7],
  ['JACKET001', 'Waterproof Rain Jacket', 'fashion', 'outerwear', 89.99, 0.55, 4.2, 1320, 260, 5],
  ['BAG001', 'Travel Backpack 30L', 'fashion', 'bags', 79.99, 0.52, 4.6, 2080, 300, 5],
  ['YOGA001', 'Non-Slip Yoga Mat', 'sports_outdoors', 'fitness', 39.99, 0.6, 4.5, 3310, 500, 5],
  ['BIKE001', 'Smart Indoor Bike', 'sports_outdoors', 'fitness', 1099.99, 0.25, 4.3, 540, 40, 2],
  ['BOOK001', 'The Data-Driven Shop (Hardcover)', 'books', 'business', 24.99, 0.4, 4.7, 890, 600, 3],
  ['SKIN001', 'Daily Skincare Set', 'beauty', 'skincare', 59.99, 0.62, 4.4, 1960, 420, 4],
];

function slugOf(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** Every product, in a fixed order. */
export const PRODUCTS: readonly Product[] = Object.freeze(
  ROWS.map(([id, name, category, subcategory, price, margin, rating, reviewCount, restockLevel, popularity]) =>
    Object.freeze({
      id,
      name,
      category,
      subcategory,
      price,
      margin,
      rating,
      reviewCount,
      restockLevel,
      popularity,
      slug: slugOf(name),
    }),
  ),
);

/** The distinct top-level categories, in catalog order. */
export const CATEGORIES: readonly string[] = Object.freeze([...new Set(PRODUCTS.map((p) => p.category))]);

const DAY_MS = 86_400_000;

/** Products at least this popular are the demo's bestsellers. */
export const BESTSELLER_POPULARITY = 10;
/** The fewest units a bestseller has on hand in the demo's normal restock cycle. */
export const BESTSELLER_MIN_STOCK = 30;

/** How one product's stock runs down and is refilled, derived from the demo's random seed. */
interface StockCycle {
  readonly cycleMs: number;
  readonly phaseMs: number;
  /** Fraction of restockLevel sold per cycle; above 1 the shelf is empty before the truck comes. */
  readonly depletion: number;
}

/** The catalog with seeded stock cycles. */
export class Catalog {
  readonly products: readonly Product[] = PRODUCTS;
  readonly #byId = new Map<string, Product>(PRODUCTS.map((p) => [p.id, p]));
  readonly #cycles = new Map<string, StockCycle>();
  readonly #popularity: Weighted<Product>;
  readonly #popularityByCategory = new Map<string, Weighted<Product>>();

  constructor(seed: number) {
    for (const product of PRODUCTS) {
      const random = Random.derive(seed, hashText('stock'), hashText(product.id));
      // Most products never run out; about a third sell out for a while before the truck comes.
      const drawn = random.chance(0.35) ? random.float(1.1, 1.5) : random.float(0.45, 0.9);
      // Bestsellers (popularity >= BESTSELLER_POPULARITY) never run below BESTSELLER_MIN_STOCK in the normal
      // cycle, so the pack's BestsellerLowStock rule only fires on a real stock-out (the `stock-out` incident).
      // The draws above are made either way, so the other products' cycles and the rest of the stream are unchanged.
      const depletion =
        product.popularity >= BESTSELLER_POPULARITY
          ? Math.min(drawn, (product.restockLevel - BESTSELLER_MIN_STOCK - 1) / product.restockLevel)
          : drawn;
      const cycleMs = Math.round(random.float(2, 6) * DAY_MS);
      this.#cycles.set(product.id, { cycleMs, phaseMs: Math.floor(random.next() * cycleMs), depletion });
    }
    this.#popularity = new Weighted(PRODUCTS.map((p) => [p, p.popularity] as const));
    for (const category of CATEGORIES) {
      const inCategory = PRODUCTS.filter((p) => p.category === category);
      this.#popularityByCategory.set(category, new Weighted(inCategory.map((p) => [p, p.popularity] as const)));
    }
  }

  /** The product with this id, if the catalog has it. */
  product(id: string): Product | undefined {
    return this.#byId.get(id);
  }

  /** A product drawn by popularity, optionally within one category. */
  pickProduct(random: Random, category?: string): Product {
    const table = (category === undefined ? undefined : this.#popularityByCategory.get(category)) ?? this.#popularity;
    return random.weighted(table);
  }

  /** Units on hand at `tMs` (epoch ms): a saw-tooth from restockLevel down, never below 0. */
  stockAt(productId: string, tMs: number): number {
    const product = this.#byId.get(productId);
    const cycle = this.#cycles.get(productId);
    if (!product || !cycle) return 0;
    const intoCycle = (((tMs + cycle.phaseMs) % cycle.cycleMs) + cycle.cycleMs) % cycle.cycleMs;
    const sold = (intoCycle / cycle.cycleMs) * cycle.depletion * product.restockLevel;
    return Math.max(0, Math.floor(product.restockLevel - sold));
  }
}
