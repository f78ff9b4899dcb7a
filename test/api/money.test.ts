/**
 * Money in query answers: sums and averages of amounts come back rounded to
 * the currency's minor unit (no `0.30000000000000004`), per row when the
 * answer is by currency; counts, ratios and scores keep their precision.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { minorUnitDecimals, roundTo } from '../../src/api/money.ts';
import { testEngines } from '../helpers/engines.ts';
import { post, query, startTestServer, type TestServer } from '../helpers/server.ts';

const AT = '2025-03-04T10:00:00Z';
const RANGE = { from: '2025-03-04T00:00:00Z', to: '2025-03-05T00:00:00Z' };

function order(amount: number, currency: string, riskScore: number): string {
  return JSON.stringify({
    '@timestamp': AT,
    event: { type: 'order_completed' },
    transaction: { amount, currency },
    payment: { risk_score: riskScore },
    order: { total_amount: amount },
  });
}

function column(answer: any, name: string): unknown[] {
  const i = answer.columns.findIndex((c: { name: string }) => c.name === name);
  assert.ok(i >= 0, `column ${name} in ${JSON.stringify(answer.columns)}`);
  return answer.rows.map((row: unknown[]) => row[i]);
}

for (const engine of testEngines('money in query answers'))
  describe(`money in query answers (${engine.name})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer({ store: await engine.start() });
      // USD: 10.1 + 20.2 + 30.3 is 60.6 in cents, 60.599999999999994 in doubles.
      // JPY: amounts with a stray fraction (an FX conversion upstream) still answer whole yen.
      const body = [
        order(10.1, 'USD', 1),
        order(20.2, 'USD', 2),
        order(30.3, 'USD', 2),
        order(100.4, 'JPY', 10),
        order(200.3, 'JPY', 20),
      ].join('\n');
      const r = await post(`${server.url}/api/v1/events?refresh=wait_for`, body);
      assert.equal(r.status, 200, JSON.stringify(r.json));
    });
    after(async () => {
      await server?.close();
      await engine.stop();
    });

    it('rounds sums, averages and scaled sums to cents, and leaves counts and scores alone', async () => {
      const r = await query(
        server.url,
        'transaction.currency:USD | stats sum(transaction.amount) as revenue, avg(transaction.amount) as aov, ' +
          'sum(order.total_amount) as totals, count() as orders, avg(payment.risk_score) as risk ' +
          '| eval quarter = revenue / 4, share = revenue / totals',
        RANGE,
      );
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.deepEqual(column(r.json, 'revenue'), [60.6]);
      assert.deepEqual(column(r.json, 'totals'), [60.6]);
      assert.deepEqual(column(r.json, 'aov'), [20.2]);
      assert.deepEqual(column(r.json, 'quarter'), [15.15]);
      assert.deepEqual(column(r.json, 'orders'), [3]);
      // Not money: a score and a ratio of two amounts keep every digit.
      assert.deepEqual(column(r.json, 'risk'), [5 / 3]);
      assert.equal(column(r.json, 'share').length, 1);
    });

    it('rounds each row to its own currency when the answer is by currency', async () => {
      const r = await query(
        server.url,
        '* | stats sum(transaction.amount) as revenue by transaction.currency | sort transaction.currency',
        RANGE,
      );
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.deepEqual(r.json.rows, [
        ['JPY', 301],
        ['USD', 60.6],
      ]);
      const yen = await query(server.url, 'transaction.currency:JPY | stats sum(transaction.amount) as revenue', RANGE);
      assert.deepEqual(yen.json.rows, [[301]]);
    });

    it('knows minor units from ISO 4217 and rounds half away from zero', () => {
      assert.equal(minorUnitDecimals('USD'), 2);
      assert.equal(minorUnitDecimals('jpy'), 0);
      assert.equal(minorUnitDecimals('KWD'), 3);
      assert.equal(minorUnitDecimals('not a currency'), 2);
      assert.equal(roundTo(1.005, 2), 1.01);
      assert.equal(roundTo(-1.005, 2), -1.01);
      assert.equal(roundTo(1234.5600000000002, 2), 1234.56);
    });
  });
