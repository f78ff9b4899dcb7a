import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCardNumber, luhnValid, maskCardNumbers } from '../../src/privacy/card-numbers.ts';
import { SecretNames } from '../../src/privacy/field-names.ts';
import { truncateIp } from '../../src/privacy/ip-truncation.ts';
import { privacyConfigSchema } from '../../src/privacy/privacy-config.ts';
import { maskQueryText } from '../../src/privacy/query-text.ts';
import { Redactor } from '../../src/privacy/redactor.ts';
import { maskEmail } from '../../src/privacy/text-patterns.ts';

function redact(raw: unknown, config = {}): { value: any; marker: string[] | undefined } {
  const r = new Redactor(privacyConfigSchema.parse(config)).redactEvent(raw);
  if (!r.ok) assert.fail(`${r.code}: ${r.message}`);
  return { value: r.value, marker: r.marker };
}

describe('card numbers', () => {
  it('checks Luhn', () => {
    assert.equal(luhnValid('4111111111111111'), true);
    assert.equal(luhnValid('4111111111111112'), false);
    assert.equal(luhnValid('378282246310005'), true);
  });

  it('masks Luhn-valid numbers of 13 to 19 digits to their last four, keeping separators', () => {
    assert.equal(maskCardNumbers('pay 4111111111111111 now'), 'pay ************1111 now');
    assert.equal(maskCardNumbers('4111 1111 1111 1111'), '**** **** **** 1111');
    assert.equal(maskCardNumbers('5500-0000-0000-0004'), '****-****-****-0004');
    assert.equal(maskCardNumbers('amex 3782 822463 10005'), 'amex **** ****** *0005');
    assert.equal(maskCardNumbers('4222222222222'), '*********2222'); // 13 digits (old Visa)
    assert.equal(maskCardNumbers('6011000990139424000'.slice(0, 16)), '************9424');
    const nineteen = '4000000000000000006'; // Luhn-valid 19 digits
    assert.ok(isCardNumber(nineteen));
    assert.equal(maskCardNumbers(`x${nineteen}y`), 'x***************0006y');
  });

  it('leaves Luhn-invalid numbers, short numbers and other digit runs alone', () => {
    for (const text of [
      '4111 1111 1111 1112',
      '411111111111', // 12 digits
      '41111111111111121111', // 20 digits, no brand card of 13–19 digits at its start
      'order 12345678901234567890123',
      'ts 1719500000000 and 1719500000000000', // epoch ms and µs start with 1
      '2025-06-28 2025-06-29 1234',
    ]) {
      assert.equal(maskCardNumbers(text), text, text);
    }
  });

  it('does not look for a card inside a longer unseparated number, but finds one among separated groups', () => {
    assert.equal(maskCardNumbers('9914111111111111111'), '9914111111111111111'); // 19 digits, Luhn-invalid
    assert.equal(maskCardNumbers('4111 1111 1111 1111 2 days'), '**** **** **** 1111 2 days');
    assert.equal(maskCardNumbers('ref 99 4111-1111-1111-1111'), 'ref 99 ****-****-****-1111');
    // …except a card with up to 6 digits glued after it (card + CVV in one field), masked with them.
    assert.equal(maskCardNumbers('41111111111111111111'), '************1111****');
  });
});

describe('secret field names', () => {
  const names = new SecretNames();
  it('drops the names of the brief and their variants', () => {
    for (const n of [
      'cvv',
      'card_cvv',
      'cvc',
      'CVV2',
      'pin',
      'userPin',
      'pin_code',
      'password',
      'passwd',
      'password_hash',
      'secret',
      'client_secret',
      'token',
      'accessToken',
      'refresh_token',
      'api_key',
      'apiKey',
      'X-Api-Key',
      'x-apikey',
      'Authorization',
      'proxy-authorization',
      'cookie',
      'Set-Cookie',
      'credentials',
      'private_key',
    ]) {
      assert.equal(names.isSecret(n), true, n);
    }
  });

  it('keeps innocent names: whole words only, and descriptors of a secret', () => {
    for (const n of [
      'pinned',
      'spinner',
      'shipping',
      'passport',
      'keyboard',
      'tokens_used',
      'token_type',
      'token_count',
      'cvc_check',
      'password_reset_at',
      'api_key_id',
      'secret_name',
      'card_last_four',
      'card_type',
      'session_id',
      'idempotency_key',
    ]) {
      assert.equal(names.isSecret(n), false, n);
    }
  });
});

describe('Redactor.redactEvent', () => {
  it('redacts at any depth: nested objects, arrays, object keys, numbers; marks what it did', () => {
    const { value, marker } = redact({
      message: 'card 4111 1111 1111 1111 declined',
      payment: { card: { number: '5500000000000004', cvv: '123', cvc_check: 'pass' } },
      items: [{ note: ['x', { pan: 4111111111111111 }] }],
      '4111111111111111': 'a key',
      headers: { Authorization: 'Bearer abc.def.ghi', 'X-Api-Key': 'k-123', accept: 'json' },
      user: { password: { old: 'a', new: 'b' }, name: 'ann' },
    });
    assert.deepEqual(value, {
      message: 'card **** **** **** 1111 declined',
      payment: { card: { number: '************0004', cvc_check: 'pass' } },
      items: [{ note: ['x', { pan: '************1111' }] }],
      '************1111': 'a key',
      headers: { accept: 'json' },
      user: { name: 'ann' },
    });
    assert.deepEqual(marker, [
      'card_number',
      'field:payment.card.cvv',
      'field:headers.Authorization',
      'field:headers.X-Api-Key',
      'field:user.password',
    ]);
  });

  it('masks secret values inside text: URLs, key=value, JSON in a message, bearer tokens, stack traces', () => {
    const { value, marker } = redact({
      url: '/checkout?token=s3cr3t&step=2&api_key=abc123',
      message: 'login failed password=hunter2 user=ann',
      body: '{"password":"hunter2","user":"ann"}',
      stack: 'Error: 401\n    at call (Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig)',
      note: 'stripe key sk_live_4eC39HqLyjWDarjtT1zdp7dc',
    });
    assert.equal(value.url, '/checkout?token=[redacted]&step=2&api_key=[redacted]');
    assert.equal(value.message, 'login failed password=[redacted] user=ann');
    assert.equal(value.body, '{"password":"[redacted]","user":"ann"}');
    assert.ok(!value.stack.includes('eyJ'), value.stack);
    assert.equal(value.note, 'stripe key [redacted]');
    assert.deepEqual(marker, ['secret']);
  });

  it('reads percent-encoded text decoded', () => {
    const { value } = redact({ url: '/pay?card=4111%201111%201111%201111&x=1' });
    assert.equal(value.url, '/pay?card=**** **** **** 1111&x=1');
  });

  it('masks e-mail addresses as john.***@gmail.com, unless configured off or the field is exempt', () => {
    assert.equal(maskEmail('john.doe@gmail.com'), 'john.***@gmail.com');
    assert.equal(maskEmail('johndoe@gmail.com'), 'j***@gmail.com');
    const on = redact({ customer: { email: 'john.doe@gmail.com' }, message: 'sent to ann_lee@shop.example' });
    assert.deepEqual(on.value, { customer: { email: 'john.***@gmail.com' }, message: 'sent to ann_***@shop.example' });
    assert.deepEqual(on.marker, ['email']);
    const off = redact({ customer: { email: 'john.doe@gmail.com' } }, { maskEmails: false });
    assert.deepEqual(off.value, { customer: { email: 'john.doe@gmail.com' } });
    const exempt = redact(
      { customer: { email: 'john.doe@gmail.com', cvv: '1', card: '4111111111111111' }, contact: 'a.b@c.de' },
      { exemptFields: ['customer.*'] },
    );
    // Exempt from e-mail masking and name-based dropping, never from card masking.
    assert.deepEqual(exempt.value, {
      customer: { email: 'john.doe@gmail.com', cvv: '1', card: '************1111' },
      contact: 'a.***@c.de',
    });
  });

  it('truncates client IPs when configured', () => {
    assert.equal(truncateIp('203.0.113.195', 24, 48), '203.0.113.0');
    assert.equal(truncateIp('10.1.2.3', 16, 48), '10.1.0.0');
    assert.equal(truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348', 24, 48), '2001:db8:85a3::');
    assert.equal(truncateIp('::ffff:203.0.113.195', 24, 120), '::ffff:cb00:7100');
    assert.equal(truncateIp('not an ip', 24, 48), undefined);
    const raw = { security: { ip_address: '203.0.113.195' }, client: { ip: '2001:db8:1:2::5' }, note: '203.0.113.195' };
    assert.deepEqual(redact(structuredClone(raw)).value, raw); // off by default
    const on = redact(structuredClone(raw), { truncateIps: true });
    assert.deepEqual(on.value, {
      security: { ip_address: '203.0.113.0' },
      client: { ip: '2001:db8:1::' },
      note: '203.0.113.195',
    });
    assert.deepEqual(on.marker, ['ip']);
  });

  it('applies configured drop fields (words and dotted patterns) and mask patterns', () => {
    const { value, marker } = redact(
      {
        customer: { ssn: '1', birth_date: '1990-01-01', national_ssn_id: 'x', name: 'a' },
        iban: 'DE89370400440532013000',
      },
      {
        dropFields: ['ssn', 'customer.birth_date'],
        maskPatterns: [{ name: 'iban', regex: '\\bDE\\d{20}\\b', replacement: 'DE[iban]' }],
      },
    );
    assert.deepEqual(value, { customer: { national_ssn_id: 'x', name: 'a' }, iban: 'DE[iban]' });
    assert.deepEqual(marker, ['field:customer.ssn', 'field:customer.birth_date', 'pattern:iban']);
  });

  it('keeps prototype-pollution keys as plain data and refuses absurd nesting', () => {
    const raw = JSON.parse('{"__proto__":{"polluted":"4111111111111111"},"constructor":{"prototype":{"x":1}}}');
    const { value } = redact(raw);
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.deepEqual(Object.keys(value), ['__proto__', 'constructor']);
    assert.equal(value['__proto__'].polluted, '************1111');
    let deep: unknown = 'x';
    for (let i = 0; i < 5000; i++) deep = [deep];
    const r = new Redactor().redactEvent({ a: deep }, 20);
    assert.equal(r.ok, false);
    assert.equal(r.ok ? '' : r.code, 'ingest.too_deep');
  });

  it('counts by kind for /metrics', () => {
    const r = new Redactor();
    r.redactEvent({ a: '4111111111111111 and 5500000000000004', cvv: 1, token: 2, e: 'x.y@z.io' });
    assert.deepEqual(r.takeCounts(), { card_number: 2, field: 2, email: 1 });
    assert.deepEqual(r.takeCounts(), {});
  });
});

describe('query text', () => {
  it('masks card numbers and e-mails as stored, with literal (escaped) stars', () => {
    assert.equal(
      maskQueryText('4111 1111 1111 1111', { maskEmails: true }),
      '\\*\\*\\*\\* \\*\\*\\*\\* \\*\\*\\*\\* 1111',
    );
    assert.equal(
      maskQueryText('customer.email:john.doe@gmail.com AND "card 4111111111111111"', { maskEmails: true }),
      'customer.email:john.\\*\\*\\*@gmail.com AND "card \\*\\*\\*\\*\\*\\*\\*\\*\\*\\*\\*\\*1111"',
    );
    assert.equal(
      maskQueryText('customer.email:john.doe@gmail.com', { maskEmails: false }),
      'customer.email:john.doe@gmail.com',
    );
    assert.equal(maskQueryText('order.id:1719500000000', { maskEmails: true }), 'order.id:1719500000000');
  });
});

describe('privacy config', () => {
  it('has safe defaults and refuses a bad pattern naming it', () => {
    const c = privacyConfigSchema.parse({});
    assert.equal(c.maskEmails, true);
    assert.equal(c.truncateIps, false);
    assert.equal(c.ipv4PrefixLength, 24);
    assert.equal(c.ipv6PrefixLength, 48);
    const bad = privacyConfigSchema.safeParse({ maskPatterns: [{ name: 'x', regex: '(' }] });
    assert.equal(bad.success, false);
    assert.match(JSON.stringify(bad.error?.issues), /not a valid regular expression/);
    assert.deepEqual(privacyConfigSchema.parse({ dropFields: 'ssn, tax_id' }).dropFields, ['ssn', 'tax_id']);
  });

  it('takes mask patterns in RE2 syntax: refuses what RE2 cannot run (naming the pattern), honours flags', () => {
    // A lookahead is valid JavaScript but could backtrack; RE2 has none.
    const bad = privacyConfigSchema.safeParse({ maskPatterns: [{ name: 'iban', regex: 'DE(?=\\d{20})\\d+' }] });
    assert.equal(bad.success, false);
    assert.match(
      JSON.stringify(bad.error?.issues),
      /pattern \\"iban\\" is not a valid regular expression \(RE2 syntax\): invalid or unsupported Perl syntax/,
    );
    const { value, marker } = redact(
      { note: 'ref SECRET-123 and secret-45', n: 'a$1b' },
      { maskPatterns: [{ name: 'ref', regex: 'secret-\\d+', flags: 'i', replacement: '[ref $1]' }] },
    );
    assert.deepEqual(value, { note: 'ref [ref $1] and [ref $1]', n: 'a$1b' });
    assert.deepEqual(marker, ['pattern:ref']);
  });
});
