/**
 * An independent statement of the card rules of card-numbers.ts, written
 * as regular expressions over digit strings (slow, simple), for the tests to
 * check the scanner against: the brand table (issuer prefixes and lengths)
 * and the glued-card rule.
 */
import { luhnValid } from '../../src/privacy/card-numbers.ts';

/** Issuer prefix and length of each brand, as published (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay). */
const BRANDS: readonly RegExp[] = [
  /^4(?:\d{12}|\d{15}|\d{18})$/,
  /^5[1-5]\d{14}$/,
  /^(?:222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720)\d{12}$/,
  /^3[47]\d{13}$/,
  /^(?:6011|65\d\d|64[4-9]\d)\d{12,15}$/,
  /^35(?:2[89]|[3-8]\d)\d{12,15}$/,
  /^(?:3[68]\d\d|30[0-5]\d)\d{10,15}$/,
  /^62\d{14,17}$/,
];

/** True when 13 digits end with their EAN-13 check digit (a barcode or an ISBN, not a card). */
export function referenceEan13(digits: string): boolean {
  if (!/^\d{13}$/.test(digits)) return false;
  const weighted = [...digits.slice(0, 12)].reduce((sum, d, i) => sum + Number(d) * [1, 3][i % 2]!, 0);
  return (10 - (weighted % 10)) % 10 === Number(digits[12]);
}

/** True when `digits` is a brand's card number, passes Luhn, and is no EAN-13. */
export function referenceBrandCard(digits: string): boolean {
  return BRANDS.some((re) => re.test(digits)) && luhnValid(digits) && !referenceEan13(digits);
}

/**
 * The glued-card rule applied to text the former scanner already masked:
 * every run of 14–25 ASCII digits (not touching other digits or `*`) that
 * starts with a brand card of 13–19 digits followed by 1–6 more digits
 * (longest card first), or is 1–6 zeros and a brand card, is masked to the
 * card's last four (the zeros kept).
 */
export function referenceGlued(text: string): string {
  return text.replace(/(?<![\d*])\d{14,25}(?![\d*])/g, (run) => {
    if (/^[2-6]/.test(run)) {
      for (let len = Math.min(19, run.length - 1); len >= 13 && run.length - len <= 6; len--) {
        if (referenceBrandCard(run.slice(0, len)))
          return `${'*'.repeat(len - 4)}${run.slice(len - 4, len)}${'*'.repeat(run.length - len)}`;
      }
    }
    const padded = /^(0{1,6})([1-9]\d{12,18})$/.exec(run);
    if (padded && referenceBrandCard(padded[2] as string)) {
      const card = padded[2] as string;
      return `${padded[1] as string}${'*'.repeat(card.length - 4)}${card.slice(-4)}`;
    }
    return run;
  });
}
