/**
 * Orders, customers and clickstream CSV files → canonical events
 * (src/ingest/csv.ts), and the demo shop's CSV generator (src/demo/csv-export.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { exportShopCsv, SHOP_CSV_COUNTS, SHOP_CSV_SPANS_MS, type ExportedFile } from '../../src/demo/csv-export.ts';
import { AppError } from '../../src/errors.ts';
import { csvRowToEvent, readCsvEvents, type CsvKind, type CsvRowResult } from '../../src/ingest/csv.ts';
import { Normalizer } from '../../src/ingest/normalizer.ts';

async function readAll(kind: CsvKind, text: string): Promise<CsvRowResult[]> {
  const out: CsvRowResult[] = [];
  for await (const row of readCsvEvents(kind, Readable.from([text]))) out.push(row);
  return out;
}

function mapped(kind: CsvKind, line: string): Record<string, unknown> {
  const result = csvRowToEvent(kind, line.split(','), 2);
  assert.ok(result.ok, result.ok ? '' : result.reason);
  return result.event;
}

describe('CSV rows → events', () => {
  it('maps a completed order row (ORD00001, Gaming Laptop, US-EAST)', () => {
    const event = mapped(
      'orders',
      'ORD00001,CUST00234,LAPTOP001,Gaming Laptop,1,1299.99,1299.99,2025-01-15 14:23:45,COMPLETED,US-EAST',
    );
    assert.deepEqual(event, {
      '@timestamp': '2025-01-15T14:23:45Z',
      'event.id': 'order:ORD00001',
      'event.type': 'order_completed',
      'event.category': 'order',
      data_class: 'business',
      'order.id': 'ORD00001',
      'order.status': 'COMPLETED',
      'order.quantity': 1,
      'customer.id': 'CUST00234',
      'customer.region': 'US-EAST',
      'product.id': 'LAPTOP001',
      'product.name': 'Gaming Laptop',
      'product.price': 1299.99,
      'transaction.amount': 1299.99,
      _index: 'import-orders',
    });
    const other = mapped(
      'orders',
      'ORD00002,CUST01456,PHONE001,Smartphone Pro,2,899.99,1799.98,2025-01-15 15:12:33,CANCELLED,EU-WEST',
    );
    assert.equal(other['event.type'], 'order_cancelled');
    assert.equal(other['transaction.amount'], 1799.98);
  });

  it('maps a customer row (CUST00001, GOLD) to a business customer_profile at the signup date', () => {
    const event = mapped(
      'customers',
      'CUST00001,John,Smith,john.smith1@example.com,New York,US-EAST,2023-05-12,3456.78,GOLD',
    );
    assert.deepEqual(event, {
      '@timestamp': '2023-05-12T00:00:00Z',
      'event.id': 'customer:CUST00001',
      'event.type': 'customer_profile',
      'event.category': 'customer',
      data_class: 'business',
      'customer.id': 'CUST00001',
      'customer.first_name': 'John',
      'customer.last_name': 'Smith',
      'customer.email': 'john.smith1@example.com',
      'customer.city': 'New York',
      'customer.region': 'US-EAST',
      'customer.signup_date': '2023-05-12',
      'customer.lifetime_value': 3456.78,
      'customer.tier': 'GOLD',
      _index: 'import-customers',
    });
  });

  it('maps a VIEW and an ADD_TO_CART clickstream row of one session, with stable ids per row', () => {
    const view = mapped('clickstream', '2025-02-01 10:15:23,SESSION00123,CUST00456,VIEW,product,LAPTOP001,mobile,45');
    const add = mapped(
      'clickstream',
      '2025-02-01 10:16:45,SESSION00123,CUST00456,ADD_TO_CART,product,LAPTOP001,mobile,12',
    );
    const { 'event.id': viewId, ...viewRest } = view;
    assert.match(String(viewId), /^click:[0-9a-f]{24}$/);
    assert.deepEqual(viewRest, {
      '@timestamp': '2025-02-01T10:15:23Z',
      'event.type': 'product_viewed',
      'event.action': 'VIEW',
      'event.category': 'clickstream',
      data_class: 'business',
      'user.session_id': 'SESSION00123',
      'session.device_type': 'mobile',
      'event.duration': 45_000,
      'customer.id': 'CUST00456',
      'page.category': 'product',
      'product.id': 'LAPTOP001',
      _index: 'import-clickstream',
    });
    assert.equal(add['event.type'], 'add_to_cart');
    assert.equal(add['event.duration'], 12_000);
    assert.notEqual(add['event.id'], viewId);
    assert.equal(
      mapped('clickstream', '2025-02-01 10:15:23,SESSION00123,CUST00456,VIEW,product,LAPTOP001,mobile,45')['event.id'],
      viewId,
    );
    const purchase = mapped(
      'clickstream',
      '2025-02-01 10:18:01,SESSION00123,CUST00456,PURCHASE,checkout,LAPTOP001,mobile,5',
    );
    assert.equal(purchase['event.type'], 'order_completed');
  });

  it('normalises the mapped events into the typed columns, all in the business data class', () => {
    const normalizer = new Normalizer(loadConfig({}).ingest);
    const ctx = { tenant: 'default', receivedAtMs: Date.parse('2025-03-01T00:00:00Z') };
    const order = normalizer.normalize(
      mapped(
        'orders',
        'ORD00001,CUST00234,LAPTOP001,Gaming Laptop,1,1299.99,1299.99,2025-01-15 14:23:45,COMPLETED,US-EAST',
      ),
      ctx,
      'import-orders',
    );
    assert.ok(order.ok);
    assert.equal(order.record.dataClass, 'business');
    assert.equal(order.record.ts, Date.parse('2025-01-15T14:23:45Z') * 1000);
    assert.equal(order.record.columns['event_type'], 'order_completed');
    assert.equal(order.record.columns['amount'], 1299.99);
    assert.equal(order.record.columns['region'], 'US-EAST');
    assert.equal(order.record.columns['order_id'], 'ORD00001');
    assert.equal(order.record.attributes?.['order.status'], 'COMPLETED');
    const customer = normalizer.normalize(
      mapped('customers', 'CUST00001,John,Smith,john.smith1@example.com,New York,US-EAST,2023-05-12,3456.78,GOLD'),
      ctx,
      'import-customers',
    );
    assert.ok(customer.ok);
    assert.equal(customer.record.dataClass, 'business');
    assert.equal(customer.record.attributes?.['customer.tier'], 'GOLD');
    const click = normalizer.normalize(
      mapped('clickstream', '2025-02-01 10:15:23,SESSION00123,CUST00456,VIEW,product,LAPTOP001,mobile,45'),
      ctx,
      'import-clickstream',
    );
    assert.ok(click.ok);
    assert.equal(click.record.columns['device'], 'mobile');
    assert.equal(click.record.columns['page_category'], 'product');
    assert.equal(click.record.columns['session_id'], 'SESSION00123');
    assert.equal(click.record.columns['duration_ms'], 45_000);
  });

  it('rejects bad rows by line number and reason and keeps the good ones', async () => {
    const text = [
      'order_id,customer_id,product_id,product_name,quantity,price,total_amount,order_date,status,region',
      'ORD00001,CUST00234,LAPTOP001,Gaming Laptop,1,1299.99,1299.99,2025-01-15 14:23:45,COMPLETED,US-EAST',
      'ORD00002,CUST01456,PHONE001,Smartphone Pro,2,899.99,abc,2025-01-15 15:12:33,COMPLETED,EU-WEST',
      '',
      'ORD00003,CUST01456,PHONE001,Smartphone Pro,2,899.99,1799.98,2025-02-30 15:12:33,COMPLETED,EU-WEST',
      'ORD00004,CUST01456,PHONE001,Smartphone Pro,2,899.99,1799.98,2025-01-15 15:12:33,COMPLETED',
      'ORD00005,CUST01456,PHONE001,"Smartphone Pro, 256 GB",1.5,899.99,1799.98,2025-01-16 15:12:33,COMPLETED,EU-WEST',
      ',CUST01456,PHONE001,Smartphone Pro,2,899.99,1799.98,2025-01-15 15:12:33,COMPLETED,EU-WEST',
      'ORD00007,CUST01456,PHONE001,"Smartphone Pro, 256 GB",2,899.99,1799.98,2025-01-17T09:00:00Z,SHIPPED,EU-WEST',
      '',
    ].join('\n');
    const rows = await readAll('orders', text);
    assert.deepEqual(
      rows.filter((r) => !r.ok),
      [
        { ok: false, line: 3, reason: 'total_amount is not a number' },
        {
          ok: false,
          line: 5,
          reason: 'order_date is not a date (expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)',
        },
        { ok: false, line: 6, reason: 'expected 10 columns, got 9' },
        { ok: false, line: 7, reason: 'quantity is not a whole number' },
        { ok: false, line: 8, reason: 'order_id is empty' },
      ],
    );
    const good = rows.filter((r) => r.ok);
    assert.deepEqual(
      good.map((r) => [r.line, r.id, r.event['product.name'], r.event['event.type'], r.event['@timestamp']]),
      [
        [2, 'order:ORD00001', 'Gaming Laptop', 'order_completed', '2025-01-15T14:23:45Z'],
        [9, 'order:ORD00007', 'Smartphone Pro, 256 GB', 'order_updated', '2025-01-17T09:00:00Z'],
      ],
    );
  });

  it("refuses a file whose header is not exactly its kind's columns, naming what is wrong", async () => {
    await assert.rejects(
      readAll('customers', 'customer_id,first_name,surname,email,city,region,signup_date,lifetime_value,tier,notes\n'),
      (err: unknown) =>
        err instanceof AppError &&
        err.code === 'import.bad_header' &&
        err.message.includes('missing last_name') &&
        err.message.includes('unexpected "surname", "notes"') &&
        err.message.includes('customer_id,first_name,last_name,email,city,region,signup_date,lifetime_value,tier'),
    );
    await assert.rejects(
      readAll('clickstream', 'session_id,timestamp,customer_id,action,page,product_id,device,duration_seconds\n'),
      /columns out of order or repeated/,
    );
    await assert.rejects(readAll('orders', ''), /orders CSV is empty/);
    // The orders file given as customers: the first thing the user sees names the mix-up.
    await assert.rejects(
      readAll(
        'customers',
        'order_id,customer_id,product_id,product_name,quantity,price,total_amount,order_date,status,region\n',
      ),
      /customers CSV header does not match: missing first_name/,
    );
  });
});

describe('the demo shop as CSV files', () => {
  const endMs = Date.UTC(2025, 1, 15);
  let dir: string;
  let files: ExportedFile[];
  const text = (dataset: string) => readFileSync(join(dir, `${dataset}.csv`), 'utf8');
  const rowsOf = (dataset: string) =>
    text(dataset)
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoplens-test-'));
    files = await exportShopCsv(join(dir, 'a'), { seed: 7, endMs });
    dir = join(dir, 'a');
  });
  after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('writes 50,000 orders over 30 days, 5,000 customers, 200,000 clickstream events over 7 days, 15 products', () => {
    assert.deepEqual(
      files.map((f) => [f.dataset, f.rows]),
      [
        ['orders', 50_000],
        ['customers', 5_000],
        ['clickstream', 200_000],
        ['products', 15],
      ],
    );
    assert.deepEqual(SHOP_CSV_COUNTS, { orders: 50_000, customers: 5_000, clickstream: 200_000, products: 15 });
    const inWindow = (rows: string[][], column: number, spanMs: number) =>
      rows.every((r) => {
        const ms = Date.parse(`${(r[column] as string).replace(' ', 'T')}Z`);
        return ms >= endMs - spanMs && ms < endMs;
      });
    const orders = rowsOf('orders');
    assert.equal(orders.length, 50_000);
    assert.ok(inWindow(orders, 7, SHOP_CSV_SPANS_MS.orders));
    assert.equal(SHOP_CSV_SPANS_MS.orders, 30 * 86_400_000);
    assert.equal(new Set(orders.map((r) => r[0])).size, 50_000);
    assert.equal(orders[0]?.[0], 'ORD00001');
    const clicks = rowsOf('clickstream');
    assert.equal(clicks.length, 200_000);
    assert.ok(inWindow(clicks, 0, SHOP_CSV_SPANS_MS.clickstream));
    assert.equal(SHOP_CSV_SPANS_MS.clickstream, 7 * 86_400_000);
    assert.deepEqual(
      new Set(clicks.map((r) => r[3])),
      new Set(['SEARCH', 'VIEW', 'ADD_TO_CART', 'CHECKOUT', 'PURCHASE']),
    );
    assert.equal(rowsOf('products').length, 15);
    assert.equal(new Set(orders.map((r) => r[2])).size, 15);
  });

  it('writes orders whose totals are quantity × price, for customers in the file, in their region', () => {
    const customers = new Map(rowsOf('customers').map((r) => [r[0], r]));
    for (const [, customerId, , , quantity, price, total, , , region] of rowsOf('orders')) {
      assert.equal(total, (Number(quantity) * Number(price)).toFixed(2));
      assert.equal(customers.get(customerId as string)?.[5], region);
    }
    assert.deepEqual(new Set(rowsOf('customers').map((r) => r[8])), new Set(['BRONZE', 'SILVER', 'GOLD', 'PLATINUM']));
  });

  it('writes byte-identical files for the same seed', async () => {
    const again = join(dir, '..', 'b');
    await exportShopCsv(again, { seed: 7, endMs });
    for (const f of files) {
      assert.ok(readFileSync(f.path).equals(readFileSync(join(again, `${f.dataset}.csv`))), f.dataset);
    }
  });
});
