/**
 * The demo shop as CSV files (orders, customers, clickstream, products),
 * generated from its catalog and customers: 50,000 orders over 30 days, 5,000 customers, 200,000
 * clickstream events over 7 days and the 15-product catalog. The same seed
 * and end time always give byte-identical files.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { CSV_COLUMNS } from '../ingest/csv.ts';
import { PRODUCTS, type Product } from './catalog.ts';
import { CustomerBase, type Customer } from './customers.ts';
import { cents, hashText, Random, Weighted } from './random.ts';

/** Rows per file. */
export const SHOP_CSV_COUNTS = Object.freeze({ orders: 50_000, customers: 5_000, clickstream: 200_000, products: 15 });
/** How far back before the end time orders and clickstream events go, ms. */
export const SHOP_CSV_SPANS_MS = Object.freeze({ orders: 30 * 86_400_000, clickstream: 7 * 86_400_000 });

/** Columns of products.csv: id, name, category and list price (`shoplens import` takes no products file). */
export const PRODUCT_COLUMNS = ['product_id', 'product_name', 'category', 'price'] as const;

export interface CsvExportOptions {
  /** Same seed, same data. */
  readonly seed: number;
  /** Orders and clickstream end here (epoch ms, exclusive). */
  readonly endMs: number;
}

/** Every dataset as rows of cells, header first. */
export interface ShopCsvDatasets {
  readonly orders: readonly (readonly string[])[];
  readonly customers: readonly (readonly string[])[];
  readonly clickstream: readonly (readonly string[])[];
  readonly products: readonly (readonly string[])[];
}

/** One file written by `exportShopCsv`. */
export interface ExportedFile {
  readonly dataset: keyof ShopCsvDatasets;
  readonly path: string;
  /** Data rows, without the header. */
  readonly rows: number;
}

const ORDER_STATUSES = new Weighted([
  ['COMPLETED', 80],
  ['SHIPPED', 8],
  ['PENDING', 5],
  ['CANCELLED', 4],
  ['RETURNED', 3],
] as const);
const QUANTITIES = new Weighted([
  [1, 70],
  [2, 20],
  [3, 7],
  [4, 3],
] as const);
const DEVICES = new Weighted([
  ['mobile', 58],
  ['desktop', 34],
  ['tablet', 8],
] as const);

/** `2025-01-15 14:23:45`, UTC: the CSV files' time format. */
function csvTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function padded(prefix: string, n: number): string {
  return `${prefix}${String(n).padStart(5, '0')}`;
}

function emailOf(customer: Customer, n: number): string {
  const local = (name: string) =>
    name
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z]/g, '');
  return `${local(customer.firstName)}.${local(customer.lastName)}${n}@example.com`;
}

function ordersOf(random: Random, base: CustomerBase, products: Weighted<Product>, endMs: number): string[][] {
  const startMs = endMs - SHOP_CSV_SPANS_MS.orders;
  const times: number[] = [];
  for (let i = 0; i < SHOP_CSV_COUNTS.orders; i++) times.push(Math.floor(random.float(startMs, endMs) / 1000) * 1000);
  times.sort((a, b) => a - b);
  return times.map((ms, i) => {
    const customer = base.pickVisitor(random);
    const product = random.weighted(products);
    const quantity = random.weighted(QUANTITIES);
    return [
      padded('ORD', i + 1),
      customer.id,
      product.id,
      product.name,
      String(quantity),
      product.price.toFixed(2),
      cents(quantity * product.price).toFixed(2),
      csvTime(ms),
      random.weighted(ORDER_STATUSES),
      customer.location.region,
    ];
  });
}

/** Sessions of VIEW / ADD_TO_CART / PURCHASE (and a few others) until there are exactly enough events. */
function clickstreamOf(random: Random, base: CustomerBase, products: Weighted<Product>, endMs: number): string[][] {
  const startMs = endMs - SHOP_CSV_SPANS_MS.clickstream;
  const events: { ms: number; cells: string[] }[] = [];
  let session = 0;
  while (events.length < SHOP_CSV_COUNTS.clickstream) {
    session++;
    const sessionId = padded('SESSION', session);
    const customer = base.pickVisitor(random);
    const device = random.chance(0.8) ? customer.preferredDevice : random.weighted(DEVICES);
    // Leave room for the session to finish before the end.
    let ms = Math.floor(random.float(startMs, endMs - 3_600_000) / 1000) * 1000;
    const push = (action: string, page: string, productId: string, seconds: number) => {
      if (events.length >= SHOP_CSV_COUNTS.clickstream) return;
      events.push({
        ms,
        cells: [csvTime(ms), sessionId, customer.id, action, page, productId, device, String(seconds)],
      });
      ms += (seconds + random.int(1, 20)) * 1000;
    };
    if (random.chance(0.3)) push('SEARCH', 'search', '', random.int(3, 30));
    const views = 1 + random.poisson(2.5);
    const cart: Product[] = [];
    for (let v = 0; v < views; v++) {
      const product = random.weighted(products);
      push('VIEW', 'product', product.id, random.int(5, 180));
      if (random.chance(0.25)) {
        push('ADD_TO_CART', 'product', product.id, random.int(2, 20));
        cart.push(product);
      }
    }
    if (cart.length > 0 && random.chance(0.45)) {
      push('CHECKOUT', 'checkout', '', random.int(20, 240));
      for (const product of cart) push('PURCHASE', 'checkout', product.id, random.int(2, 15));
    }
  }
  // The file is in time order; the sort is stable, so a session's own order is kept.
  events.sort((a, b) => a.ms - b.ms);
  return events.map((e) => e.cells);
}

/** Generates the four datasets in memory. */
export function shopCsvDatasets(options: CsvExportOptions): ShopCsvDatasets {
  const base = new CustomerBase(options.seed, SHOP_CSV_COUNTS.customers);
  const catalog = PRODUCTS.slice(0, SHOP_CSV_COUNTS.products);
  const products = new Weighted(catalog.map((p) => [p, p.popularity] as const));
  const customers = base.customers.map((c, i) => [
    c.id,
    c.firstName,
    c.lastName,
    emailOf(c, i + 1),
    c.location.city,
    c.location.region,
    c.signupDate,
    c.lifetimeValue.toFixed(2),
    c.tier,
  ]);
  return {
    orders: [
      [...CSV_COLUMNS.orders],
      ...ordersOf(Random.derive(options.seed, hashText('csv-orders')), base, products, options.endMs),
    ],
    customers: [[...CSV_COLUMNS.customers], ...customers],
    clickstream: [
      [...CSV_COLUMNS.clickstream],
      ...clickstreamOf(Random.derive(options.seed, hashText('csv-clickstream')), base, products, options.endMs),
    ],
    products: [[...PRODUCT_COLUMNS], ...catalog.map((p) => [p.id, p.name, p.category, p.price.toFixed(2)])],
  };
}

/** Writes orders.csv, customers.csv, clickstream.csv and products.csv into `dir` (created if needed). */
export async function exportShopCsv(dir: string, options: CsvExportOptions): Promise<ExportedFile[]> {
  await mkdir(dir, { recursive: true });
  const datasets = shopCsvDatasets(options);
  const files: ExportedFile[] = [];
  for (const dataset of ['orders', 'customers', 'clickstream', 'products'] as const) {
    const path = join(dir, `${dataset}.csv`);
    await writeFile(path, stringify(datasets[dataset] as string[][]));
    files.push({ dataset, path, rows: datasets[dataset].length - 1 });
  }
  return files;
}
