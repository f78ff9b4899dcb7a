/**
 * One rule for name patterns (privacy field globs and index → data class
 * patterns): whole name, `*` for any run, case ignored. The index patterns
 * used to be case-sensitive while the privacy globs were not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { Normalizer } from '../../src/ingest/normalizer.ts';
import { DEFAULT_PRIVACY, Redactor } from '../../src/privacy/redactor.ts';
import { compileNamePattern } from '../../src/schema/name-pattern.ts';

describe('name patterns', () => {
  it('match the whole name, * any run (dots too), case ignored, other characters literally', () => {
    const re = compileNamePattern('customer.*');
    assert.ok(re.test('customer.ssn'));
    assert.ok(re.test('Customer.Address.Line1'));
    assert.ok(!re.test('customerXssn'), 'a dot is a dot');
    assert.ok(!re.test('my.customer.ssn'), 'the whole name');
    assert.ok(compileNamePattern('a+b(c)?').test('A+B(C)?'));
    assert.ok(compileNamePattern('*.ip').test('client.source.ip'));
    assert.ok(compileNamePattern('a*b').test('a\nb'), '* also runs over a newline in a name');
  });

  it('map an index to its data class whatever its case, as the privacy globs match fields', () => {
    const ingest = loadConfig({ env: {}, flags: { ingest: { indexDataClass: { 'audit-*': 'audit' } } } }).ingest;
    const normalizer = new Normalizer(ingest);
    assert.equal(normalizer.dataClassForIndex('audit-2026'), 'audit');
    assert.equal(normalizer.dataClassForIndex('AUDIT-2026'), 'audit');
    assert.equal(normalizer.dataClassForIndex('logs-2026'), undefined);
    const redactor = new Redactor({ ...DEFAULT_PRIVACY, dropFields: ['customer.*'] });
    const r = redactor.redactEvent({ Customer: { SSN: '123' }, message: 'x' });
    assert.ok(r.ok);
    assert.deepEqual(r.value, { Customer: {}, message: 'x' });
  });
});
