/**
 * Reading events back: `_source` is rebuilt from the stored attributes'
 * dotted names. Names like `__proto__.polluted` (stored by any version,
 * also before null-prototype objects) come back as data and reach no
 * built-in prototype.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_FIELDS } from '../../src/schema/fields.ts';
import { buildSource } from '../../src/store/event-source.ts';

const noColumns = EVENT_FIELDS.map(() => null);

describe('buildSource', () => {
  it('nests dotted names and keeps a flat key where a parent is a value', () => {
    const source = buildSource(noColumns, { 'a.b': 1, 'a.c.d': 2, x: 3, 'x.y': 4 });
    assert.equal(JSON.stringify(source), '{"a":{"b":1,"c":{"d":2}},"x":3,"x.y":4}');
  });

  it('keeps a stored name of 20,000 dots serialisable: parts past 64 levels stay one dotted key', () => {
    const name = `${'a.'.repeat(20_000)}b`;
    const source = buildSource(noColumns, { [name]: 1, ok: 2 });
    const text = JSON.stringify(source); // threw RangeError (stack) before the cap
    let node: unknown = JSON.parse(text);
    let depth = 0;
    while (typeof node === 'object' && node !== null && 'a' in node) {
      node = (node as Record<string, unknown>)['a'];
      depth++;
    }
    assert.equal(depth, 63);
    assert.deepEqual(node, { [`${'a.'.repeat(20_000 - 63)}b`]: 1 });
    assert.equal((JSON.parse(text) as Record<string, unknown>)['ok'], 2);
  });

  it('reads back stored __proto__ / constructor / prototype names as data, leaving Object.prototype alone', () => {
    // The attributes column as stored: JSON text, parsed as the store parses it.
    const stored = JSON.parse(
      '{"__proto__.polluted":"yes","constructor.prototype.polluted":"yes","a.__proto__.b":1,"__proto__.__proto__.c":2,"prototype":3}',
    ) as Record<string, unknown>;
    const source = buildSource(noColumns, stored);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
    assert.deepEqual(
      JSON.parse(JSON.stringify(source)),
      JSON.parse(
        '{"__proto__":{"polluted":"yes","__proto__":{"c":2}},"constructor":{"prototype":{"polluted":"yes"}},"a":{"__proto__":{"b":1}},"prototype":3}',
      ),
    );
  });
});
