/**
 * Names from query text are looked up in the language's own tables only:
 * `constructor(…)` and `__proto__(…)` are unknown functions (a 400 naming
 * them), not Object.prototype members (`__proto__(1)` answered 500).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QueryError } from '../../src/errors.ts';
import { parseQuery } from '../../src/query/index.ts';

describe('query names that shadow built-ins', () => {
  for (const name of ['__proto__', 'constructor', 'hasOwnProperty', 'toString']) {
    it(`refuses ${name}(…) as an unknown function`, () => {
      assert.throws(
        () => parseQuery(`* | eval x = ${name}(1)`),
        (err: unknown) =>
          err instanceof QueryError &&
          err.code === 'query.invalid' &&
          err.message.startsWith(`Unknown function "${name}"`),
      );
    });
  }

  it('keeps __proto__ and constructor usable as field names', () => {
    const q = parseQuery('__proto__.polluted:yes | stats count() as n by constructor');
    assert.equal(q.stages.length, 1);
  });
});
