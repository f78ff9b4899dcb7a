/**
 * Planted secrets for the leak test, and a scanner that looks for them in
 * any text: card numbers in digits-only, spaced and dashed forms (and their
 * first twelve digits, which a partial leak would show), secret strings as
 * written.
 */
import { luhnValid } from '../../src/privacy/card-numbers.ts';

/** Completes a number with its Luhn check digit. */
export function withCheckDigit(partial: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(`${partial}${d}`)) return `${partial}${d}`;
  throw new Error('unreachable');
}

/** Luhn-valid card numbers of several brands and lengths (digits only). */
export const CARDS = {
  visa16: withCheckDigit('453201511283036'),
  visa13: withCheckDigit('422222222213'),
  visa19: withCheckDigit('491761000000000007'),
  mastercard: withCheckDigit('542523343010990'),
  mastercard2: withCheckDigit('222300004840001'),
  amex: withCheckDigit('37424545540012'),
  discover: withCheckDigit('601100099013942'),
  diners: withCheckDigit('3056930902590'),
  jcb: withCheckDigit('353011133330001'),
  unionpay: withCheckDigit('621234567890123456'),
  /** The test numbers everyone types: Visa's 4111 1111 1111 1111 and Mastercard's 5500-0000-0000-0004. */
  visaTest: '4111111111111111',
  mastercardTest: '5500000000000004',
} as const;

/** `4532015112830366` → `4532 0151 1283 0366`. */
export function grouped(digits: string, separator: string): string {
  return digits.replace(/(\d{4})(?=\d)/g, `$1${separator}`);
}

/** Secret values planted in fields that must be dropped or in text that must be masked. */
export const SECRETS = {
  password: 'Hunter2-PLANTpw-7f3a9c',
  cvv: 'PLANTcvv-913',
  pin: 'PLANTpin-4420',
  token: 'tokPLANT9b1c2d3e4f5a',
  apiKey: 'akPLANT5e6f7a8b9c0d',
  cookie: 'sessPLANTcookie4d5e6f',
  secret: 'csPLANTsecret0a1b2c',
  bearer: 'bearPLANT0123456789abcdef',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJQTEFOVGp3dCJ9.PLANTjwtSignature',
  stripe: 'sk_live_PLANTstripe4eC39HqLyjWD',
  /** The password everyone types (`password=hunter2`). */
  hunter2: 'hunter2',
} as const;

/** Secrets that are only secret in their `name=value` form (the value alone is too common to search for). */
export const PHRASES = {
  cvv: 'cvv=123',
} as const;

/** Every form a planted card could leak in. */
function cardForms(digits: string): string[] {
  return [digits, grouped(digits, ' '), grouped(digits, '-'), digits.slice(0, 12)];
}

/** Needles to search for: label → text. */
export function needles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [brand, digits] of Object.entries(CARDS)) {
    for (const form of cardForms(digits)) out.set(`${brand} "${form}"`, form);
  }
  for (const [name, value] of Object.entries(SECRETS)) out.set(name, value);
  for (const [name, value] of Object.entries(PHRASES)) out.set(`phrase ${name}`, value);
  return out;
}

/** Labels of the needles found in `haystack`. */
export function findPlants(haystack: string): string[] {
  const found: string[] = [];
  for (const [label, needle] of needles()) if (haystack.includes(needle)) found.push(label);
  return found;
}
