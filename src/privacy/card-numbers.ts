/**
 * Card numbers (PANs) in free text: runs of 13–19 digits, optionally split
 * into groups by single spaces or dashes, that pass the Luhn check and start
 * with a payment-network digit. Each one is masked to its last four digits,
 * keeping the separators: `4111 1111 1111 1111` → `**** **** **** 1111`.
 *
 * Precisely (README "Redaction" states the same):
 * - A digit run is a maximal sequence of digits in which single spaces or
 *   dashes may separate groups. A run glued to other digits is one run, so a
 *   card number is never looked for *inside* a longer unseparated number
 *   (order ids, epoch nanoseconds); in a separated run, any span of whole
 *   groups can be the card (`4111 1111 1111 1111 2` → the first four groups).
 * - A span of several groups counts only when every group has 3 or more
 *   digits (card groupings are 4-4-4-4, 4-6-5, 4-4-4-4-3 ...), so dates like
 *   `2025-06-28 2025-06-29` are not taken for cards.
 * - The first digit must be 2–6 or 9 (ISO/IEC 7812 major industry
 *   identifiers of Mastercard 2-series, Amex/Diners/JCB, Visa, Mastercard,
 *   Discover/UnionPay/Maestro and national schemes such as Troy). Epoch
 *   timestamps in ms/µs/ns start with 1 until 2033 and stay intact.
 */

/** Maximal digit runs of 13+ digits, groups separated by one space or dash. */
const DIGIT_RUN = /\d(?:[ -]?\d){12,}/g;

/** True when the digits pass the Luhn (mod 10) check. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function networkDigit(first: string | undefined): boolean {
  return first !== undefined && ((first >= '2' && first <= '6') || first === '9');
}

/** True when `digits` (digits only) is a plausible card number. */
export function isCardNumber(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && networkDigit(digits[0]) && luhnValid(digits);
}

/** `4111-1111-1111-1111` → `****-****-****-1111`: every digit but the last four becomes `*`. */
export function maskCardText(text: string): string {
  let toKeep = 4;
  let out = '';
  for (let i = text.length - 1; i >= 0; i--) {
    const ch = text[i] as string;
    if (ch >= '0' && ch <= '9') {
      out = (toKeep > 0 ? ch : '*') + out;
      toKeep--;
    } else out = ch + out;
  }
  return out;
}

interface Group {
  readonly start: number;
  readonly end: number;
  readonly digits: string;
}

/** Masks the card numbers inside one digit run. */
function maskRun(run: string, onCard: () => void): string {
  if (run.length <= 19 && !run.includes(' ') && !run.includes('-')) {
    if (!isCardNumber(run)) return run;
    onCard();
    return maskCardText(run);
  }
  const groups: Group[] = [];
  const re = /\d+/g;
  for (let m = re.exec(run); m; m = re.exec(run)) {
    groups.push({ start: m.index, end: m.index + m[0].length, digits: m[0] });
  }
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < groups.length) {
    let found = -1;
    let digits = '';
    for (let j = i; j < groups.length; j++) {
      const g = groups[j] as Group;
      if (j > i && (g.digits.length < 3 || (groups[i] as Group).digits.length < 3)) break;
      digits += g.digits;
      if (digits.length > 19) break;
      if (isCardNumber(digits)) found = j; // keep looking: the longest card wins
    }
    if (found < 0) {
      i++;
      continue;
    }
    const start = (groups[i] as Group).start;
    const end = (groups[found] as Group).end;
    out += run.slice(copied, start) + maskCardText(run.slice(start, end));
    copied = end;
    onCard();
    i = found + 1;
  }
  return copied === 0 ? run : out + run.slice(copied);
}

/**
 * Masks every card number in `text`; calls `onCard` once per number masked.
 * Returns `text` itself (same string) when there is none.
 */
export function maskCardNumbers(text: string, onCard: () => void = () => {}): string {
  if (text.length < 13) return text;
  DIGIT_RUN.lastIndex = 0;
  if (!DIGIT_RUN.test(text)) return text;
  DIGIT_RUN.lastIndex = 0;
  return text.replace(DIGIT_RUN, (run) => maskRun(run, onCard));
}

/**
 * A JSON number that could be a card number: an integer of 13–19 digits
 * starting with a network digit that passes Luhn, or one too large for a
 * double to hold exactly (its digits are no longer the ones sent, so Luhn
 * cannot be checked, and the first 15 still are the card's).
 */
export function numberIsCard(n: number): boolean {
  if (!(n >= 1e12 && n < 1e19) || !Number.isInteger(n)) return false;
  const digits = String(n);
  if (!networkDigit(digits[0])) return false;
  return Number.isSafeInteger(n) ? luhnValid(digits) : true;
}
