/**
 * Speed must not buy a leak: the linear-time scanners (issue 11 item 21)
 * find what the former regular expressions found. On many short random
 * texts built from the pieces that matter (token prefixes, separators,
 * quotes, `@`, dots, digits, tokens glued to tokens) the new and the
 * former code give the same output.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskCardNumbers } from '../../src/privacy/card-numbers.ts';
import { nameWords, SecretNames } from '../../src/privacy/field-names.ts';
import { maskQueryText } from '../../src/privacy/query-text.ts';
import { Redactor } from '../../src/privacy/redactor.ts';
import { maskEmails, maskSecretValues } from '../../src/privacy/text-patterns.ts';
import { mulberry32 } from '../helpers/rng.ts';
import {
  formerMaskCardNumbers,
  formerMaskEmails,
  formerMaskQueryEmails,
  formerMaskSecretValues,
  formerNameWords,
} from './former-patterns.ts';
import { referenceGlued } from './card-reference.ts';

const noop = (): void => {};

/** `count` random texts of up to `maxPieces` pieces, the same every run. */
function texts(seed: number, pieces: readonly string[], maxPieces: number, count: number): string[] {
  const random = mulberry32(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let text = '';
    const n = 1 + Math.floor(random() * maxPieces);
    for (let j = 0; j < n; j++) text += pieces[Math.floor(random() * pieces.length)] as string;
    out.push(text);
  }
  return out;
}

function assertSameAsFormer(inputs: string[], now: (t: string) => string, former: (t: string) => string): void {
  let compared = 0;
  for (const text of inputs) {
    assert.equal(now(text), former(text), `input ${JSON.stringify(text)}`);
    compared++;
  }
  assert.equal(compared, inputs.length);
}

describe('the linear scanners find what the former patterns found', () => {
  const names = new SecretNames();

  it('card numbers', () => {
    const pieces = ['4111', '1111', '5500', '0000', '0004', '378282', '246310005', '4', '1', '12', '999', '2025'];
    const cards = ['4111111111111111', '4111 1111 1111 1111', '5500-0000-0000-0004', '3782 822463 10005'];
    const glue = [...cards, '4000000000000000006', ' ', '-', '  ', '--', ' -', 'x', ';', '6011', '24'];
    // (';' breaks a run; '.' and ',' no longer always do: dotted card shapes are card-evasions.test.ts's.)
    const inputs = texts(10, [...pieces, ...glue], 10, 40_000);
    assert.ok(inputs.filter((t) => formerMaskCardNumbers(t) !== t).length > 1000, 'the inputs hold card numbers');
    // Since the glued-card rule, a card with up to 6 digits glued after it (or zeros before) is masked too.
    const glued = inputs.filter((t) => referenceGlued(formerMaskCardNumbers(t)) !== formerMaskCardNumbers(t));
    assert.ok(glued.length > 100, `${glued.length} inputs hold glued cards`);
    assertSameAsFormer(
      inputs,
      (t) => maskCardNumbers(t),
      (t) => referenceGlued(formerMaskCardNumbers(t)),
    );
  });

  it('e-mail addresses', () => {
    const pieces = ['a', 'b1', 'Jo', '.', '..', '-', '_', '+', '%', '@', '@b', '@@', '.co', '.c1', 'COM', '.uk', '9'];
    const inputs = texts(11, [...pieces, ' ', 'é', ':'], 12, 40_000);
    assert.ok(inputs.filter((t) => formerMaskEmails(t) !== t).length > 500, 'the inputs hold addresses');
    assertSameAsFormer(inputs, (t) => maskEmails(t, noop), formerMaskEmails);
  });

  it('key=value secrets', () => {
    const pieces = ['token', 'password', 'api_key', 'tokens_used', 'a', 'url', '=', ':', ' ', '"', "'", '\\'];
    const more = ['Basic ', 'Bearer ', 'x', '&', ';', '/', '?', '-', '.', '[redacted]', 'abc123'];
    const inputs = texts(12, [...pieces, ...more], 12, 40_000);
    assert.ok(inputs.filter((t) => formerMaskSecretValues(t, names) !== t).length > 1000, 'the inputs hold secrets');
    assertSameAsFormer(
      inputs,
      (t) => maskSecretValues(t, names, noop),
      (t) => formerMaskSecretValues(t, names),
    );
  });

  it('token shapes: bearer and basic credentials, JWTs, API keys', () => {
    const tokens = [
      'eyJhbGciOiJI',
      '.eyJzdWIiOiIx',
      'eyJabcdefgh.abcdefgh.',
      '.sig_-x',
      'Bearer abc.def.ghi.j',
      'bearer ',
      'Basic dXNlcjpwYXNz',
      'Basic ',
      'xoxb-1234567890',
      'sk_live_abcdefghij',
      'ghp_abcdefghijabcdefghijabcdefghij',
      'AKIAABCDEFGHIJKLMNOP',
    ];
    const glue = ['eyJ', 'abcdefgh', '-', '.', '_', ' ', '\u00a0', '~', '/', '+', '=', 'x', '123456789012', 'aB3'];
    const inputs = texts(13, [...tokens, ...glue], 8, 40_000);
    assert.ok(inputs.filter((t) => formerMaskSecretValues(t, names) !== t).length > 1000, 'the inputs hold tokens');
    assertSameAsFormer(
      inputs,
      (t) => maskSecretValues(t, names, noop),
      (t) => formerMaskSecretValues(t, names),
    );
  });

  it('e-mail words in query text', () => {
    const pieces = ['a', 'x.y', '@', 'b.co', ' ', '"', '(', ')', ':', '|', '\\', '*', 'email', 'AND', '-'];
    const inputs = texts(14, pieces, 12, 20_000);
    assert.ok(inputs.filter((t) => formerMaskQueryEmails(t) !== t).length > 100, 'the inputs hold addresses');
    assertSameAsFormer(inputs, (t) => maskQueryText(t, { maskEmails: true }), formerMaskQueryEmails);
  });

  it('field-name words', () => {
    const pieces = ['A', 'B', 'a', 'b', '1', '_', '-', 'Api', 'KEY', 'key', 'Ab', 'AB', 'Token', 'İ', '\u212a'];
    for (const name of texts(15, pieces, 10, 20_000)) {
      assert.deepEqual(nameWords(name), formerNameWords(name), `name ${JSON.stringify(name)}`);
    }
  });
});

describe('the linear scanners still catch each shape', () => {
  const r = new Redactor();

  it('card numbers with spaces and dashes, e-mails, tokens and key=value secrets in one text', () => {
    const text =
      'paid 4111 1111 1111 1111 and 5500-0000-0000-0004 by john.doe@gmail.com ' +
      'Authorization: Bearer abc.def.ghi.jkl token=s3cr3t sk_live_4eC39HqLyjWDarjtT1zdp7dc ' +
      'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    assert.equal(
      r.redactText(text),
      'paid **** **** **** 1111 and ****-****-****-0004 by john.***@gmail.com ' +
        'Authorization: [redacted] token=[redacted] [redacted] jwt [redacted]',
    );
  });

  it('a JWT after a dash, and one whose header holds `-eyJ`', () => {
    assert.equal(r.redactText('id-eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig'), 'id-[redacted]');
    assert.equal(r.redactText('x eyJhbGci-eyJ0eXAiOiJKV1Qi.eyJzdWIiOiIxIn0.sig y'), 'x [redacted] y');
  });

  it('e-mails at the edges of their grammar', () => {
    assert.equal(r.redactText('a@b.co.uk, x@y, a@b.c1, jo@shop.com1'), 'a***@b.co.uk, x@y, a@b.c1, j***@shop.com1');
    assert.equal(r.redactText('x@y@shop.example'), 'x@y***@shop.example');
    assert.equal(r.redactText('a@b.comx9@c.de'), 'a***@b.comx9***@c.de');
  });
});
