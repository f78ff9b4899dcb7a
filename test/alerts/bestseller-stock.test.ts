/**
 * BestsellerLowStock on the demo catalog (issue 13): the bestsellers (popularity >= 10) never run below 30 units
 * in the normal restock cycle, for any of 200 seeds, so the rule does not fire at demo start; the rule watches
 * every bestseller, including the product the `stock-out` incident empties, and its threshold catches that
 * incident's 9 units.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadRuleFile, PACK_FILE } from '../../src/alerts/rule-files.ts';
import { Catalog, PRODUCTS } from '../../src/demo/catalog.ts';
import { BESTSELLER_ID } from '../../src/demo/incidents.ts';

const DAY_MS = 86_400_000;
const STEP_MS = 15 * 60_000;
/** A week covers every restock cycle (2–6 days); sampled from an arbitrary instant. */
const FROM = Date.UTC(2025, 9, 13, 0, 0);

const bestsellers = PRODUCTS.filter((p) => p.popularity >= 10).map((p) => p.id);

function packRule() {
  const result = loadRuleFile(PACK_FILE, 'pack');
  const rule = result.rules.find((r) => r.id === 'BestsellerLowStock');
  assert.ok(rule, 'the pack has BestsellerLowStock');
  return rule;
}

describe('BestsellerLowStock on the demo catalog', () => {
  it('bestsellers keep at least 30 units over a week, for seeds 1–200', () => {
    assert.ok(bestsellers.length >= 3, `bestsellers: ${bestsellers.join(', ')}`);
    const lows: string[] = [];
    for (let seed = 1; seed <= 200; seed++) {
      const catalog = new Catalog(seed);
      for (const id of bestsellers) {
        let min = Infinity;
        for (let t = FROM; t < FROM + 7 * DAY_MS; t += STEP_MS) min = Math.min(min, catalog.stockAt(id, t));
        if (min < 30) lows.push(`seed ${seed} ${id}: ${min}`);
      }
    }
    assert.deepEqual(lows, []);
  });

  it('other products still sell out in the normal cycle (the stock model is not flattened)', () => {
    let soldOut = 0;
    const catalog = new Catalog(42);
    for (const p of PRODUCTS.filter((q) => q.popularity < 10)) {
      for (let t = FROM; t < FROM + 7 * DAY_MS; t += STEP_MS) {
        if (catalog.stockAt(p.id, t) === 0) {
          soldOut++;
          break;
        }
      }
    }
    assert.ok(soldOut >= 2, `${soldOut} non-bestsellers sell out in a week`);
  });

  it('the rule watches every bestseller and the stock-out incident product, below 10 units', () => {
    const rule = packRule();
    const text = JSON.stringify(rule.spec);
    assert.ok(bestsellers.includes(BESTSELLER_ID));
    for (const id of bestsellers) assert.match(text, new RegExp(`\\b${id}\\b`), `rule watches ${id}`);
    assert.match(text, /stock < 10/);
  });
});
