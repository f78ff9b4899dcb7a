/**
 * Card numbers (PANs) in free text: runs of 13–19 digits, optionally split
 * into groups by single spaces or dashes, that pass the Luhn check and start
 * with a payment-network digit. Each one is masked to its last four digits,
 * keeping the separators: `4111 1111 1111 1111` → `**** **** **** 1111`.
 *
 * Precisely (docs/security.md, "Redaction" states the same):
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
 *
 * The scan is linear in the text (see maskCardNumbers): it runs on every
 * string clients send, on query text before its length is checked, and on
 * log lines.
 */

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

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Digit groups of the run being scanned: [start, end) offsets into the text, reused from run to run. */
let groupStarts = new Int32Array(64);
let groupEnds = new Int32Array(64);

/** True when the digits of groups `first`..`last` of `text` are a card number (13–19 digits, checked). */
function spanIsCard(text: string, first: number, last: number, digits: number): boolean {
  if (digits < 13 || digits > 19) return false;
  const start = groupStarts[first] as number;
  const lead = text.charCodeAt(start);
  if (!((lead >= 50 && lead <= 54) || lead === 57)) return false; // 2–6 or 9
  let sum = 0;
  let double = false;
  for (let g = last; g >= first; g--) {
    for (let i = (groupEnds[g] as number) - 1; i >= (groupStarts[g] as number); i--) {
      let d = text.charCodeAt(i) - 48;
      if (double) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
      double = !double;
    }
  }
  return sum % 10 === 0;
}

/** `text[start, end)` with every digit but the last four as `*`, separators kept. */
function maskSpan(text: string, start: number, end: number): string {
  let lastFour = end;
  for (let kept = 0; kept < 4; lastFour--) if (isDigit(text.charCodeAt(lastFour - 1))) kept++;
  return text.slice(start, lastFour).replace(/\d/g, '*') + text.slice(lastFour, end);
}

/**
 * Masks every card number in `text`; calls `onCard` once per number masked.
 * Returns `text` itself (same string) when there is none.
 *
 * One pass: each digit run (groups joined by single spaces or dashes) is
 * read once, and within it each group starts at most one window of whole
 * groups of up to 19 digits (at most 7 groups of 3+ digits), each checked
 * with Luhn: O(n × 7 × 19) at worst, whatever the text.
 */
export function maskCardNumbers(text: string, onCard: () => void = () => {}): string {
  const n = text.length;
  if (n < 13) return text;
  let out = '';
  let copied = 0;
  let p = 0;
  while (p < n) {
    if (!isDigit(text.charCodeAt(p))) {
      p++;
      continue;
    }
    // The run: groups of digits, each separated from the next by one space or dash.
    let groups = 0;
    let digits = 0;
    for (;;) {
      const start = p;
      while (p < n && isDigit(text.charCodeAt(p))) p++;
      if (groups === groupStarts.length) {
        const starts = new Int32Array(groups * 2);
        const ends = new Int32Array(groups * 2);
        starts.set(groupStarts);
        ends.set(groupEnds);
        groupStarts = starts;
        groupEnds = ends;
      }
      groupStarts[groups] = start;
      groupEnds[groups] = p;
      groups++;
      digits += p - start;
      const sep = text.charCodeAt(p);
      if ((sep === 32 || sep === 45) && p + 1 < n && isDigit(text.charCodeAt(p + 1))) p++;
      else break;
    }
    if (digits < 13) continue;
    // From each group, the longest card made of it and the groups after it wins. Several groups
    // count only when each has 3+ digits (card groupings), so `2025-06-28 1234` is no card.
    for (let first = 0; first < groups;) {
      const firstLen = (groupEnds[first] as number) - (groupStarts[first] as number);
      let found = -1;
      let total = 0;
      for (let last = first; last < groups; last++) {
        const len = (groupEnds[last] as number) - (groupStarts[last] as number);
        if (last > first && (len < 3 || firstLen < 3)) break;
        total += len;
        if (total > 19) break;
        if (spanIsCard(text, first, last, total)) found = last;
      }
      if (found < 0) {
        first++;
        continue;
      }
      const start = groupStarts[first] as number;
      const end = groupEnds[found] as number;
      out += text.slice(copied, start) + maskSpan(text, start, end);
      copied = end;
      onCard();
      first = found + 1;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
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
