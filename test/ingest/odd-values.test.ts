/**
 * Odd values and hostile keys at the normalisation step: each bad field is a
 * per-line rejection that names the field and what was expected, never the
 * value; `__proto__`, `constructor` and `prototype` are plain data keys.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeEvent } from '../../src/ingest/normalize.ts';
import { Normalizer } from '../../src/ingest/normalizer.ts';
import { loadConfig } from '../../src/config.ts';
import { OPTIONS } from './normalize-options.ts';

/** Normalises a JSON text (as the ingest routes do: JSON.parse makes `__proto__` an own key). */
function fromJson(text: string) {
  return normalizeEvent(JSON.parse(text), OPTIONS);
}

function prototypesClean(): void {
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), BUILTIN_OBJECT_KEYS);
}
const BUILTIN_OBJECT_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

describe('normalizeEvent: odd values', () => {
  it('rejects timestamps beyond any date per line, naming the field (1e300 used to throw)', () => {
    for (const text of [
      '{"@timestamp":1e300}',
      '{"@timestamp":-1e300}',
      '{"@timestamp":1e400}',
      '{"@timestamp":"NaN"}',
      '{"@timestamp":"1e300"}',
      `{"@timestamp":"${'9'.repeat(400)}"}`,
      '{"timestamp":9e30}',
    ]) {
      const r = fromJson(text);
      assert.equal(r.ok, false, text);
      if (r.ok) continue;
      assert.equal(r.code, 'ingest.invalid_timestamp', text);
      assert.match(r.message, /^field "(@timestamp|timestamp)": expected an ISO-8601 time or epoch milliseconds/, text);
    }
  });

  it('counts the dots of a dotted name toward maxDepth, as the nesting it stands for', () => {
    const deep = fromJson(JSON.stringify({ message: 'dk', [`${'a.'.repeat(20_000)}b`]: 1 }));
    assert.equal(deep.ok, false);
    if (!deep.ok) {
      assert.equal(deep.code, 'ingest.too_deep');
      assert.ok(deep.message.length < 300, 'the message quotes a shortened name');
    }
    const mixed = fromJson(JSON.stringify({ x: { y: { [`${'a.'.repeat(18)}b`]: 1 } } }));
    assert.equal(mixed.ok, false, 'dots inside nested objects count too');
    assert.equal(fromJson(JSON.stringify({ [`${'a.'.repeat(18)}b`]: 1 })).ok, true, '19 levels pass');
  });

  it('rejects far-past and far-future times without quoting them', () => {
    const past = fromJson('{"@timestamp":-5}');
    assert.deepEqual(past.ok ? undefined : [past.code, past.message], [
      'ingest.timestamp_out_of_range',
      'field "@timestamp": the time is older than the accepted 3650 days',
    ]);
    const future = fromJson('{"@timestamp":"2999-01-01T00:00:00Z"}');
    assert.deepEqual(future.ok ? undefined : [future.code, future.message], [
      'ingest.timestamp_out_of_range',
      'field "@timestamp": the time is more than 3600s in the future',
    ]);
  });

  it('names the field and the expected type, never the value that was sent', () => {
    const secret = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc-but-a-string';
    const cases: [string, RegExp][] = [
      [`{"transaction.amount":"${secret}"}`, /^field "transaction\.amount": expected a number, got a string$/],
      [
        '{"http.response.status_code":123456789012}',
        /^field "http\.response\.status_code": expected a whole number between/,
      ],
      [
        '{"http.response.status_code":1.5}',
        /^field "http\.response\.status_code": expected a whole number, got a number with a fraction$/,
      ],
      ['{"service.name":[{"a":1}]}', /^field "service\.name": expected a string, got an array$/],
      [
        '{"security.fraud_indicators":[{"x":"y"}]}',
        /^field "security\.fraud_indicators": expected a string or an array of strings, got an array$/,
      ],
      [
        `{"data_class":"${secret}"}`,
        /^field "data_class": expected one of app, security, audit, business, got a string$/,
      ],
      [
        `{"@timestamp":"${secret}"}`,
        /^field "@timestamp": expected an ISO-8601 time or epoch milliseconds, got a string that is not a time$/,
      ],
    ];
    for (const [text, expected] of cases) {
      const r = fromJson(text);
      assert.equal(r.ok, false, text);
      if (r.ok) continue;
      assert.match(r.message, expected, text);
      assert.ok(!r.message.includes('sk_live'), r.message);
    }
  });

  it('keeps odd but valid values: numbers as ids, -0, huge amounts, unicode', () => {
    const r = fromJson(
      '{"event.id":12345,"transaction.amount":1e300,"event.duration":-0,"message":"Zürich 🛒 \\u0000"}',
    );
    assert.ok(r.ok);
    assert.equal(r.record.columns['event_id'], '12345');
    assert.equal(r.record.columns['amount'], 1e300);
    assert.equal(r.record.columns['message'], 'Zürich 🛒 \u0000');
  });
});

describe('normalizeEvent: prototype keys are data', () => {
  it('keeps __proto__, constructor and prototype as attributes and touches no prototype', () => {
    const r = fromJson(
      '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":2}},"prototype":3,"message":"proto"}',
    );
    assert.ok(r.ok);
    const attrs = r.record.attributes ?? {};
    assert.equal(Object.getPrototypeOf(attrs), null);
    assert.deepEqual(Object.entries(attrs), [
      ['__proto__.polluted', 'yes'],
      ['constructor.prototype.polluted', 2],
      ['prototype', 3],
    ]);
    prototypesClean();
  });

  it('stores a non-object __proto__ value as data instead of losing it', () => {
    const r = fromJson('{"__proto__":[1,2],"message":"x"}');
    assert.ok(r.ok);
    assert.deepEqual(Object.entries(r.record.attributes ?? {}), [['__proto__', [1, 2]]]);
    assert.equal(JSON.stringify(r.record.attributes), '{"__proto__":[1,2]}');
  });

  it('maps Segment properties named like built-ins as plain properties', () => {
    const r = fromJson(
      '{"type":"track","event":"Order Completed","properties":{"constructor":"c","toString":"t","__proto__":{"x":1},"total":5},"__proto__":{"y":2}}',
    );
    assert.ok(r.ok);
    assert.equal(r.record.columns['amount'], 5);
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(r.record.attributes ?? {}).filter(
          ([k]) => k.includes('__proto__') || k.startsWith('properties.'),
        ),
      ),
      {
        'properties.constructor': 'c',
        'properties.toString': 't',
        'properties.__proto__.x': 1,
        '__proto__.y': 2,
      },
    );
    prototypesClean();
  });

  it('goes through the redactor and normaliser with the keys intact', () => {
    const normalizer = new Normalizer(loadConfig({ env: {} }).ingest);
    const r = normalizer.normalize(JSON.parse('{"__proto__":{"polluted":"yes"},"message":"proto"}'), {
      tenant: 'default',
      receivedAtMs: Date.now(),
    });
    assert.ok(r.ok);
    assert.equal(r.record.attributes?.['__proto__.polluted'], 'yes');
    prototypesClean();
  });
});
