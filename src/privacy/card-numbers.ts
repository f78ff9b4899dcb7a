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
 * Evasive shapes (docs/security.md, "Redaction", lists them exactly):
 * - digits of any script (Unicode `Nd`) are read as their values and the
 *   rules above apply to them; the original characters are masked;
 * - groups split by other separators (OTHER_SEPARATORS: dots, slashes,
 *   underscores, plus, no-break and thin spaces, dashes, mixed) count only
 *   when grouped as cards are printed (4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3),
 *   with a brand's issuer prefix and length (brandMatches) and Luhn;
 * - a brand card glued to 1–6 more digits, or after 1–6 zeros (gluedCard);
 * - never: a span in a UUID or hex id (insideId), an EAN-13 (isEan13), the
 *   fraction of a decimal (isFraction).
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

/**
 * True when 13 digits carry a valid EAN-13 / ISBN-13 check digit (weights 1
 * and 3 from the left): a product barcode or a book, not a card (13-digit
 * Visa numbers are no longer issued; the ~1 in 10 that would also pass this
 * check are not masked).
 */
export function isEan13(digits: string): boolean {
  if (digits.length !== 13) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (digits.charCodeAt(i) - 48) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10 === digits.charCodeAt(12) - 48;
}

/** True when `digits` (digits only) is a plausible card number. */
export function isCardNumber(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && networkDigit(digits[0]) && luhnValid(digits) && !isEan13(digits);
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

// ---------------------------------------------------------------------------
// Character classes, for the scans here and for Redactor.mayChange.

/** A decimal digit of any script (Unicode `Nd`: ASCII, full-width, Arabic-Indic, Devanagari, …). */
export const DIGIT_CLASS = 1;
/** A space or a dash: today's group separators. */
export const PLAIN_SEPARATOR = 2;
/** The other separators cards are written with (see OTHER_SEPARATORS). */
export const OTHER_SEPARATOR = 4;
/** A high surrogate: with the low surrogate after it, it may be a digit (`𝟒`, U+1D7D2). */
export const SURROGATE_CLASS = 8;

/**
 * Separators other than space and dash that a card number's groups may be
 * split by: `.` `/` `_` `+`, no-break and thin spaces (U+00A0, U+2000–U+200A,
 * U+202F, U+205F, U+3000), hyphens and dashes (U+2010–U+2015, U+2212), the
 * middle dot, and the full-width forms of `+ - . / _`.
 */
export const OTHER_SEPARATORS =
  './_+\u00a0\u00b7\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000' +
  '\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0b\uff0d\uff0e\uff0f\uff3f';

/** Class bits of every UTF-16 code unit. */
export const CHAR_CLASS = new Uint8Array(65536);
/** Value (0–9) of each BMP digit; 255 for anything else. */
const DIGIT_VALUE = new Uint8Array(65536).fill(255);
/**
 * The first code point (the zero) of each block of ten decimal digits in
 * the BMP: every `\p{Nd}` character of Unicode 15 (ASCII, Arabic-Indic,
 * extended Arabic-Indic, NKo, the Indic scripts, Thai, Lao, Tibetan,
 * Myanmar, Khmer, Mongolian, …, full-width). test/privacy/card-evasions.test.ts
 * checks the list against the engine's `\p{Nd}`.
 */
export const DIGIT_BLOCKS = [
  0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6, 0xe50, 0xed0, 0xf20,
  0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0,
  0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10,
];
{
  for (const zero of DIGIT_BLOCKS) {
    for (let v = 0; v < 10; v++) {
      DIGIT_VALUE[zero + v] = v;
      CHAR_CLASS[zero + v] = DIGIT_CLASS;
    }
  }
  for (let c = 0xd800; c < 0xdc00; c++) CHAR_CLASS[c] = SURROGATE_CLASS;
  CHAR_CLASS[32] = PLAIN_SEPARATOR;
  CHAR_CLASS[45] = PLAIN_SEPARATOR;
  for (const ch of OTHER_SEPARATORS) CHAR_CLASS[ch.charCodeAt(0)] = OTHER_SEPARATOR;
}

/** Values of the digits outside the BMP (mathematical `𝟎`–`𝟿`, Osmanya, Brahmi, …) met so far; -1: no digit. */
const astralValues = new Map<number, number>();

function astralValue(cp: number): number {
  let v = astralValues.get(cp);
  if (v !== undefined) return v;
  const nd = /^\p{Nd}$/u;
  if (!nd.test(String.fromCodePoint(cp))) v = -1;
  else {
    let start = cp;
    while (nd.test(String.fromCodePoint(start - 1))) start--;
    v = (cp - start) % 10;
  }
  if (astralValues.size < 4096) astralValues.set(cp, v);
  return v;
}

/** Value of the digit at `i` (any script), or -1; a digit outside the BMP is two code units long. */
function digitAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c !== c) return -1; // past the end (NaN)
  const k = CHAR_CLASS[c] as number;
  if (k & DIGIT_CLASS) return DIGIT_VALUE[c] as number;
  if (k & SURROGATE_CLASS) {
    const low = text.charCodeAt(i + 1);
    if (low >= 0xdc00 && low <= 0xdfff) return astralValue((c - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000);
  }
  return -1;
}

// ---------------------------------------------------------------------------
// Brands, and the rules shared by both scans.

/**
 * True when `digits` (ASCII, the whole number) starts with a card brand's
 * issuer prefix and has one of that brand's lengths: Visa 4 (13, 16, 19),
 * Mastercard 51–55 and 2221–2720 (16), American Express 34, 37 (15),
 * Discover 6011, 644–649, 65 (16–19), JCB 3528–3589 (16–19), Diners Club
 * 36, 38, 300–305 (14–19), UnionPay 62 (16–19).
 */
export function brandMatches(digits: string): boolean {
  const n = digits.length;
  if (n < 13 || n > 19) return false;
  const two = Number(digits.slice(0, 2));
  const three = Number(digits.slice(0, 3));
  const four = Number(digits.slice(0, 4));
  if (two >= 40 && two <= 49) return n === 13 || n === 16 || n === 19;
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return n === 16;
  if (two === 34 || two === 37) return n === 15;
  if (four === 6011 || two === 65 || (three >= 644 && three <= 649)) return n >= 16;
  if (four >= 3528 && four <= 3589) return n >= 16;
  if (two === 36 || two === 38 || (three >= 300 && three <= 305)) return n >= 14;
  if (two === 62) return n >= 16;
  return false;
}

/** True when `digits` is a card number under the strict rules: a brand's prefix and length, and Luhn. */
export function isBrandCard(digits: string): boolean {
  return brandMatches(digits) && luhnValid(digits) && !isEan13(digits);
}

/** Most digits a card number may have glued after it (a CVV, an expiry, both). */
const MAX_GLUED = 6;

/**
 * The card in an unseparated digit run of 14–25 digits that is not a card as
 * a whole (`digits`, ASCII): a brand card (isBrandCard) followed by 1–6 more
 * digits (`4111111111111111` + `123`, a card and its CVV in one field), the
 * longest such card first; or a brand card after 1–6 zeros (a zero-padded
 * fixed-width field). Returns [first digit, end of the card, end of what is
 * masked] as digit indexes, or undefined. Digits before the card other than
 * zeros are not looked past: a card is not searched for at the end of a
 * longer number (epoch nanoseconds, snowflake ids).
 */
export function gluedCard(digits: string): [number, number, number] | undefined {
  const n = digits.length;
  if (n < 14 || n > 19 + MAX_GLUED) return undefined;
  const lead = digits.charCodeAt(0);
  if (lead >= 50 && lead <= 54) {
    for (let len = Math.min(19, n - 1); len >= 13 && n - len <= MAX_GLUED; len--) {
      const card = digits.slice(0, len);
      if (isBrandCard(card)) return [0, len, n];
    }
  } else if (lead === 48) {
    let zeros = 1;
    while (zeros < n && digits.charCodeAt(zeros) === 48) zeros++;
    if (zeros <= MAX_GLUED && isBrandCard(digits.slice(zeros))) return [zeros, n, n];
  }
  return undefined;
}

const HEX_ID_LENGTHS = new Set([16, 24, 32, 40, 64]);
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122);
}

/**
 * True when `text[start, end)` (a card-shaped span) is part of an id: a UUID
 * (8-4-4-4-12 hex digits with dashes, at least one a letter) that overlaps it, or a hex id (16, 24,
 * 32, 40 or 64 hex characters with at least one letter, alone between
 * non-alphanumerics: span and trace ids, ObjectIds, digests) that holds it.
 * Reads at most 36 characters on either side.
 */
function insideId(text: string, start: number, end: number): boolean {
  const n = text.length;
  let a = start;
  while (a > 0 && start - a < 36 && (isHex(text.charCodeAt(a - 1)) || text.charCodeAt(a - 1) === 45)) a--;
  let b = end;
  while (b < n && b - end < 36 && (isHex(text.charCodeAt(b)) || text.charCodeAt(b) === 45)) b++;
  if (a < start || b > end) {
    const around = text.slice(a, b);
    UUID.lastIndex = 0;
    for (let m = UUID.exec(around); m; m = UUID.exec(around)) {
      if (a + m.index < end && a + m.index + m[0].length > start && /[a-f]/i.test(m[0])) return true;
    }
  }
  // A hex id: the hex characters around the span, the span itself with no separator.
  let h = start;
  while (h > 0 && start - h < 64 && isHex(text.charCodeAt(h - 1))) h--;
  let e = end;
  while (e < n && e - end < 64 && isHex(text.charCodeAt(e))) e++;
  if (
    !HEX_ID_LENGTHS.has(e - h) ||
    (h > 0 && isAlnum(text.charCodeAt(h - 1))) ||
    (e < n && isAlnum(text.charCodeAt(e)))
  )
    return false;
  for (let i = h; i < e; i++) {
    const c = text.charCodeAt(i);
    if (!isHex(c)) return false;
    if (c > 57) return true;
  }
  return false;
}

/**
 * `text[start, end)` with its digits (any script; a digit outside the BMP
 * counts once) masked to `*`, but for the first `keepLead` of them (the
 * zeros before a zero-padded card) and those whose index among the span's
 * digits is in [keepFrom, keepTo) (a card's last four); separators and
 * other characters kept.
 */
function maskDigits(
  text: string,
  start: number,
  end: number,
  keepLead: number,
  keepFrom: number,
  keepTo: number,
): string {
  let out = '';
  let index = 0;
  for (let i = start; i < end;) {
    const v = digitAt(text, i);
    const width = v >= 0 && (CHAR_CLASS[text.charCodeAt(i)] as number) & SURROGATE_CLASS ? 2 : 1;
    if (v < 0) out += text[i] as string;
    else {
      out += index < keepLead || (index >= keepFrom && index < keepTo) ? text.slice(i, i + width) : '*';
      index++;
    }
    i += width;
  }
  return out;
}

/**
 * True when the digit group at `start` follows a decimal point or comma
 * right after a digit (`0.5488135039273248`, `3,1415926535897932`): the
 * fraction of a number, not a card, when it is one group on its own.
 */
function isFraction(text: string, start: number): boolean {
  const c = text.charCodeAt(start - 1);
  if (c !== 46 && c !== 44 && c !== 0xff0e && c !== 0xff0c) return false;
  const before = text.charCodeAt(start - 2);
  if (before >= 0xdc00 && before <= 0xdfff) return digitAt(text, start - 3) >= 0;
  return digitAt(text, start - 2) >= 0;
}

// ---------------------------------------------------------------------------
// The scan of ASCII digits with spaces and dashes (today's rules).

/** Digit groups of the run being scanned: [start, end) offsets into the text, reused from run to run. */
let groupStarts = new Int32Array(64);
let groupEnds = new Int32Array(64);

function growGroups(): void {
  const starts = new Int32Array(groupStarts.length * 2);
  const ends = new Int32Array(groupStarts.length * 2);
  starts.set(groupStarts);
  ends.set(groupEnds);
  groupStarts = starts;
  groupEnds = ends;
}

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
  if (sum % 10 !== 0) return false;
  if (digits !== 13) return true;
  let all = '';
  for (let g = first; g <= last; g++) all += text.slice(groupStarts[g], groupEnds[g]);
  return !isEan13(all);
}

/** `text[start, end)` with every digit but the last four as `*`, separators kept. */
function maskSpan(text: string, start: number, end: number): string {
  let lastFour = end;
  for (let kept = 0; kept < 4; lastFour--) if (isDigit(text.charCodeAt(lastFour - 1))) kept++;
  return text.slice(start, lastFour).replace(/\d/g, '*') + text.slice(lastFour, end);
}

/**
 * Masks every card number in `text`; calls `onCard` once per number masked.
 * Returns `text` itself (same string) when there is none. Two scans, each
 * linear in the text:
 * - ASCII digits in groups joined by single spaces or dashes (maskPlain);
 * - then, only when the text has a run of 13+ digits of any script joined by
 *   single separators of any kind that holds a digit other than ASCII or a
 *   separator other than space and dash (needsWideScan), that run under the
 *   rules for such shapes (maskWide).
 */
export function maskCardNumbers(text: string, onCard: () => void = () => {}): string {
  if (text.length < 13) return text;
  const out = maskPlain(text, onCard);
  return needsWideScan(out) ? maskWide(out, onCard) : out;
}

/**
 * ASCII card numbers: each digit run (groups joined by single spaces or
 * dashes) is read once, and within it each group starts at most one window
 * of whole groups of up to 19 digits (at most 7 groups of 3+ digits), each
 * checked with Luhn: O(n × 7 × 19) at worst, whatever the text. A group of
 * 14–25 digits that starts no card is also read by gluedCard.
 */
function maskPlain(text: string, onCard: () => void): string {
  const n = text.length;
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
      if (groups === groupStarts.length) growGroups();
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
      const start = groupStarts[first] as number;
      if (found < 0) {
        const lead = text.charCodeAt(start);
        const glued =
          firstLen >= 14 && (lead === 48 || (lead >= 50 && lead <= 54))
            ? gluedCard(text.slice(start, start + firstLen))
            : undefined;
        if (glued && !isFraction(text, start) && !insideId(text, start + glued[0], start + glued[1])) {
          const [from, cardEnd, end] = glued;
          out += text.slice(copied, start) + maskDigits(text, start, start + end, from, cardEnd - 4, cardEnd);
          copied = start + end;
          onCard();
        }
        first++;
        continue;
      }
      const end = groupEnds[found] as number;
      if (!(found === first && isFraction(text, start)) && !insideId(text, start, end)) {
        out += text.slice(copied, start) + maskSpan(text, start, end);
        copied = end;
        onCard();
      }
      first = found + 1;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}

// ---------------------------------------------------------------------------
// The scan of other shapes: digits of any script, other separators.

/**
 * True when `text` has a run of 13+ digits (any script) joined by single
 * separators (PLAIN_SEPARATOR or OTHER_SEPARATOR) that holds a digit other
 * than ASCII or a separator other than space and dash: the only runs
 * maskWide reads. One pass of table look-ups; true for no ASCII-only text
 * whose digits are split by spaces and dashes alone.
 */
export function needsWideScan(text: string): boolean {
  const n = text.length;
  let digits = 0;
  let wide = false;
  let afterDigit = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const k = CHAR_CLASS[c] as number;
    if (k & DIGIT_CLASS || (k & SURROGATE_CLASS && digitAt(text, i) >= 0)) {
      if (c > 57) {
        wide = true;
        if (k & SURROGATE_CLASS) i++;
      }
      digits++;
      if (wide && digits >= 13) return true;
      afterDigit = true;
      continue;
    }
    if (afterDigit && k & (PLAIN_SEPARATOR | OTHER_SEPARATOR)) {
      if (k & OTHER_SEPARATOR) wide = true;
      afterDigit = false;
      continue;
    }
    digits = 0;
    wide = false;
    afterDigit = false;
  }
  return false;
}

/** The card groupings looked for across other separators, longest first: 4-4-4-4-3, 4-4-4-4, 4-6-5, 4-6-4. */
const GROUPINGS: readonly (readonly number[])[] = [
  [4, 4, 4, 4, 3],
  [4, 4, 4, 4],
  [4, 6, 5],
  [4, 6, 4],
];

/**
 * Card numbers in runs of digits of any script joined by single separators
 * of any kind (maskCardNumbers' second scan); a run whose digits are all
 * ASCII and whose separators are all spaces and dashes was the first scan's
 * and is skipped. The digits are read as ASCII (normalised) and the original
 * characters are masked. From each group of a run, the longest of:
 * - a span of whole groups grouped as cards are printed (GROUPINGS) that is
 *   a brand card (isBrandCard), whatever the separators between them;
 * - a span of groups joined by spaces and dashes only that is a card by
 *   today's rules (13–19 digits, groups of 3+ when several, first digit 2–6
 *   or 9, Luhn): `４１１１ １１１１ １１１１ １１１１`;
 * - one group of 14–25 digits holding a glued card (gluedCard).
 * Each group starts at most 4 + 7 windows of up to 19 digits: linear.
 */
function maskWide(text: string, onCard: () => void): string {
  const n = text.length;
  let out = '';
  let copied = 0;
  let p = 0;
  const starts: number[] = [];
  const ends: number[] = [];
  const digitStarts: number[] = [];
  const otherAfter: boolean[] = [];
  while (p < n) {
    if (digitAt(text, p) < 0) {
      p++;
      continue;
    }
    starts.length = 0;
    ends.length = 0;
    digitStarts.length = 0;
    otherAfter.length = 0;
    let digits = '';
    let wide = false;
    for (;;) {
      starts.push(p);
      digitStarts.push(digits.length);
      for (let v = digitAt(text, p); v >= 0; v = digitAt(text, p)) {
        const c = text.charCodeAt(p);
        if (c > 57) wide = true;
        digits += String.fromCharCode(48 + v);
        p += (CHAR_CLASS[c] as number) & SURROGATE_CLASS ? 2 : 1;
      }
      ends.push(p);
      const k = CHAR_CLASS[text.charCodeAt(p)] as number;
      if (k & (PLAIN_SEPARATOR | OTHER_SEPARATOR) && digitAt(text, p + 1) >= 0) {
        const other = (k & OTHER_SEPARATOR) !== 0;
        otherAfter.push(other);
        if (other) wide = true;
        p++;
      } else {
        otherAfter.push(false);
        break;
      }
    }
    if (!wide || digits.length < 13) continue;
    const groups = starts.length;
    digitStarts.push(digits.length);
    const len = (g: number): number => (digitStarts[g + 1] as number) - (digitStarts[g] as number);
    const span = (first: number, last: number): string =>
      digits.slice(digitStarts[first] as number, digitStarts[last + 1] as number);
    for (let first = 0; first < groups;) {
      let found = -1;
      for (const grouping of GROUPINGS) {
        const last = first + grouping.length - 1;
        if (last >= groups) continue;
        let fits = true;
        for (let g = 0; g < grouping.length && fits; g++) fits = len(first + g) === grouping[g];
        if (fits && isBrandCard(span(first, last))) {
          found = last;
          break;
        }
      }
      let total = 0;
      for (let last = first; last < groups; last++) {
        if (last > first && (otherAfter[last - 1] || len(last) < 3 || len(first) < 3)) break;
        total += len(last);
        if (total > 19) break;
        if (last > found && total >= 13 && isCardNumber(span(first, last))) found = last;
      }
      const start = starts[first] as number;
      if (found < 0) {
        const glued = len(first) >= 14 ? gluedCard(span(first, first)) : undefined;
        const groupEnd = ends[first] as number;
        if (glued && !isFraction(text, start) && !insideId(text, start, groupEnd)) {
          const [from, cardEnd] = glued;
          out += text.slice(copied, start) + maskDigits(text, start, groupEnd, from, cardEnd - 4, cardEnd);
          copied = groupEnd;
          onCard();
        }
        first++;
        continue;
      }
      const end = ends[found] as number;
      if (!(found === first && isFraction(text, start)) && !insideId(text, start, end)) {
        out += text.slice(copied, start) + maskDigits(text, start, end, 0, span(first, found).length - 4, Infinity);
        copied = end;
        onCard();
      }
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
