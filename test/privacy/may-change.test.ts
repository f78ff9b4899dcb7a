/**
 * Redactor.mayChange, the pre-filter that lets the one-pass prepare skip the
 * scanners for a string: whenever it says a string cannot change, redacting
 * that string changes nothing and reports nothing, under every
 * configuration. Checked on planted cards and secrets and on seeded random
 * strings made of the fragments the scanners look for.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { privacyConfigSchema } from '../../src/privacy/privacy-config.ts';
import { Redactor } from '../../src/privacy/redactor.ts';
import { mulberry32 } from '../helpers/rng.ts';
import { CARDS, grouped, PHRASES, SECRETS } from './plants.ts';

const FRAGMENTS = [
  '0',
  '1',
  '4',
  '7',
  '9',
  '12',
  '4111',
  '1111',
  '2025',
  ' ',
  '-',
  '  ',
  '--',
  '%',
  '%20',
  '%40',
  '%2',
  '+',
  '@',
  '.',
  ':',
  '=',
  '&',
  '?',
  '/',
  '"',
  "'",
  '\\',
  ';',
  ',',
  '(',
  ')',
  'a',
  'Z',
  'é',
  '🛒',
  '\u0000',
  'token',
  'Token',
  'api',
  'key',
  '_',
  'password',
  'cvv',
  'pin',
  'secret',
  'cookie',
  'session',
  'access',
  'Bearer ',
  'bearer ',
  'BEARER ',
  'Basic ',
  'eyJ',
  'sk_live_',
  'rk_test_',
  'AKIA',
  'ghp_',
  'xoxb-',
  'gmail',
  'com',
  'co',
  'x',
  'abcdefgh',
  'ABCDEFGH',
  'dXNlcjpw',
  'DE',
  '89370400440532013000',
];

const CONFIGS = {
  default: privacyConfigSchema.parse({}),
  'e-mails kept': privacyConfigSchema.parse({ maskEmails: false }),
  'drop words and IPs': privacyConfigSchema.parse({ dropFields: ['ssn', 'iban'], truncateIps: true }),
  'a mask pattern': privacyConfigSchema.parse({ maskPatterns: [{ name: 'iban', regex: '\\bDE\\d{20}\\b' }] }),
};

function randomText(r: () => number): string {
  let out = '';
  const n = 1 + Math.floor(r() * 14);
  for (let i = 0; i < n; i++) out += FRAGMENTS[Math.floor(r() * FRAGMENTS.length)] as string;
  return out;
}

function planted(): string[] {
  const out: string[] = [];
  for (const digits of Object.values(CARDS))
    out.push(digits, grouped(digits, ' '), grouped(digits, '-'), `x${digits}y`);
  for (const secret of Object.values(SECRETS)) out.push(secret, `token=${secret}`, `Bearer ${secret}`);
  out.push(...Object.values(PHRASES), 'john.doe@gmail.com', 'a@b.co', '4111%201111%201111%201111');
  return out;
}

describe('Redactor.mayChange: a string it passes is one redaction leaves alone', () => {
  const r = mulberry32(1212);
  const texts = [...planted(), ...Array.from({ length: 30_000 }, () => randomText(r))];

  for (const [name, config] of Object.entries(CONFIGS)) {
    it(`under ${name}`, () => {
      const redactor = new Redactor(config);
      let skipped = 0;
      for (const text of texts) {
        if (redactor.mayChange(text)) continue;
        skipped++;
        const marker: string[] = [];
        assert.equal(redactor.redactText(text, marker), text, `mayChange said no, yet ${JSON.stringify(text)} changed`);
        assert.deepEqual(marker, [], `mayChange said no, yet redacting ${JSON.stringify(text)} reported`);
      }
      assert.deepEqual(redactor.takeCounts(), {});
      // The filter filters: most random texts (and no planted one) pass without the scanners.
      if (config.maskPatterns.length === 0) assert.ok(skipped > 3000, `${skipped} of ${texts.length} skipped`);
    });
  }

  it('says yes for every planted card and secret in text, and no for the values most events carry', () => {
    const redactor = new Redactor();
    // (A secret alone is no text to mask: its field is dropped by name.)
    const masked = planted().filter((text) => redactor.redactText(text) !== text);
    assert.ok(masked.length > 40, `${masked.length} planted texts masked`);
    for (const text of masked) assert.ok(redactor.mayChange(text), text);
    for (const text of [
      'payment-service',
      '2026-06-01T11:59:00.000Z',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36',
      'txn_00000a1b2c3d',
      '/api/products/100007',
      '203.0.113.195',
      'GET /api/cart completed with 200',
    ])
      assert.equal(redactor.mayChange(text), false, text);
  });
});
