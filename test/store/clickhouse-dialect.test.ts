/**
 * The ClickHouse dialect's parts that need no server: values bound as
 * literals cannot escape their quotes, placeholders are replaced in one
 * pass, and the capability flags follow the server's version.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capabilitiesFor, parseVersion } from '../../src/store/clickhouse/clickhouse-capabilities.ts';
import { bindLiterals, clickhouseDialect, stringLiteral } from '../../src/store/clickhouse/clickhouse-dialect.ts';

describe('ClickHouse literals', () => {
  it('escapes quotes, backslashes and control characters', () => {
    assert.equal(stringLiteral("it's"), "'it\\'s'");
    assert.equal(stringLiteral('a\\b'), "'a\\\\b'");
    assert.equal(stringLiteral("\\'; DROP TABLE events; --"), "'\\\\\\'; DROP TABLE events; --'");
    assert.equal(stringLiteral('a\nb\0c\u0001'), "'a\\nb\\0c\\x01'");
  });

  it('binds every placeholder once, never the text of a bound value', () => {
    const sql = bindLiterals('SELECT {p1:String}, {p2:Float64}, {p3:Int64}', [
      { value: '{p2:Float64}', type: 'string' },
      { value: -1.5, type: 'double' },
      { value: 1_700_000_000_000_000, type: 'timestamp' },
    ]);
    assert.equal(sql, "SELECT '{p2:Float64}', (-1.5e+0), 1700000000000000");
  });

  it('writes doubles as Float64 literals, also past UInt64', () => {
    assert.equal(bindLiterals('{p1:Float64}', [{ value: 15, type: 'double' }]), '1.5e+1');
    assert.equal(bindLiterals('{p1:Float64}', [{ value: 2e19, type: 'double' }]), '2e+19');
    assert.throws(() => bindLiterals('{p1:Float64}', [{ value: Number.NaN, type: 'double' }]), /finite/);
  });
});

describe('ClickHouse capabilities', () => {
  it('reads major and minor from version()', () => {
    assert.deepEqual(parseVersion('18.16.1'), [18, 16]);
    assert.deepEqual(parseVersion('24.3.2.23'), [24, 3]);
    assert.deepEqual(parseVersion('garbage'), [0, 0]);
  });

  it('uses the old functions on 18.16 and the newer ones on 23', () => {
    const old = capabilitiesFor('18.16.1');
    const current = capabilitiesFor('23.8.1.1');
    assert.equal(old.queryParameters, false);
    assert.equal(current.queryParameters, true);
    assert.match(clickhouseDialect(old).attrString('{p1:String}'), /visitParamExtract/);
    assert.match(clickhouseDialect(current).attrString('{p1:String}'), /JSONExtractString/);
    assert.match(clickhouseDialect(old).quantile('x', 0.5), /^quantile\(0\.5\)/);
    assert.match(clickhouseDialect(current).quantile('x', 0.5), /^quantileExactInclusive\(0\.5\)/);
  });

  it('quotes identifiers with backticks, escaping them', () => {
    assert.equal(clickhouseDialect(capabilitiesFor('18.16')).quoteIdent('a`b'), '`a\\`b`');
  });
});
