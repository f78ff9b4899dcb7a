/**
 * Secrets and e-mail addresses inside free text (messages, URLs, stack
 * traces, headers copied into a field):
 * - `name=value`, `name: value`, `"name":"value"` where `name` is a secret
 *   field name (see field-names.ts): the value becomes `[redacted]`
 *   (`/cart?token=abc&x=1` → `/cart?token=[redacted]&x=1`); a value that is
 *   an HTTP auth scheme takes its credentials with it
 *   (`Authorization: Basic dXNlcjpw` → `Authorization: [redacted]`);
 * - `Bearer <token>` anywhere; `Basic <base64>` when it looks like base64;
 *   JSON Web Tokens; well-known API key shapes (Stripe `sk_live_…`/`rk_…`,
 *   AWS `AKIA…`, GitHub `ghp_…`, Slack `xox?-…`);
 * - e-mail addresses: the local part keeps its first segment (up to the
 *   first `.`, `_`, `+` or `-`), or its first character when it has none;
 *   the domain stays: `john.doe@gmail.com` → `john.***@gmail.com`,
 *   `johndoe@gmail.com` → `j***@gmail.com`.
 *
 * Every scan here is linear in the length of the text, whatever the text:
 * this runs on client strings of up to a megabyte, on the event loop. A
 * backtracking regular expression is only used where no input can make it
 * retry a long stretch from many start positions (bounded keys, a run that
 * only one literal can precede); the two shapes that could (e-mail
 * addresses, JSON Web Tokens) are hand-written scanners that read each
 * character a bounded number of times. test/privacy/linear-time.test.ts
 * checks the scaling and test/privacy/pattern-equivalence.test.ts checks
 * that they find what the former regular expressions found.
 */
import type { SecretNames } from './field-names.ts';

export const REDACTED = '[redacted]';

const AUTH_SCHEMES = 'Basic|Bearer|Digest|ApiKey|Token|Negotiate|NTLM|AWS4-HMAC-SHA256';

/**
 * A key (starting at a word boundary, at most 64 characters) and its
 * separator. Groups: 1 key, 2 quote and separator. The value is read by
 * VALUE only after a secret key: reading it for every key made `a:a:a:…`
 * quadratic (each key's value ran to the end of the text).
 */
const KEY_SEP = /(?<![\w.-])([A-Za-z_][\w.-]{0,63})(\\?["']?\s*[=:]\s*\\?["']?)/g;

/** The value after a secret key's separator (sticky): it may be an auth scheme and its credentials. */
const VALUE = new RegExp(`(?:(?:${AUTH_SCHEMES})\\s+)?[^\\s"'&;,\\\\)}\\]]+`, 'iy');

/**
 * Token shapes that are secrets wherever they appear, in the former order
 * (JSON Web Tokens, third before, are found by JwtFinder). Bearer tokens:
 * 12+ characters with a digit or a token punctuation (not an English word);
 * Basic credentials: base64 with a lower-case letter followed by a capital
 * or digit somewhere. Linear: the token after `Bearer\s+` holds no white
 * space, so no other `Bearer` can start inside it; the key shapes end with
 * their run, so a start never retries it.
 */
const OTHER_TOKENS = new RegExp(
  [
    '\\b(?:[Bb]earer|BEARER)\\s+(?=[A-Za-z0-9._~+/-]*[0-9._~+/-])[A-Za-z0-9._~+/-]{12,}=*',
    '\\bBasic\\s+(?=[A-Za-z0-9+/]*[a-z][A-Z0-9])[A-Za-z0-9+/]{8,}={0,2}',
    '\\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}',
    '\\bAKIA[0-9A-Z]{16}\\b',
    '\\bgh[pousr]_[A-Za-z0-9]{30,}',
    '\\bxox[abposr]-[A-Za-z0-9-]{10,}',
  ].join('|'),
  'g',
);

/** A cheap test for any of the token shapes' literal parts, before running them. */
export const TOKEN_HINT = /earer|EARER|Basic|eyJ|[sr]k_|AKIA|gh[pousr]_|xox/;

// Character classes of the hand-written scanners, by char code (ASCII only; anything else is in none).
const LOCAL = 1; // e-mail local part: [A-Za-z0-9._%+-]
const LABEL = 2; // domain label: [A-Za-z0-9-]
const ALPHA = 4; // top-level domain: [A-Za-z]
const WORD = 8; // \w: [A-Za-z0-9_]
const JWT = 16; // base64url: [A-Za-z0-9_-]
const CLASSES = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const alnum = /[A-Za-z0-9]/.test(ch);
  CLASSES[c] =
    (alnum || '._%+-'.includes(ch) ? LOCAL : 0) |
    (alnum || ch === '-' ? LABEL : 0) |
    (/[A-Za-z]/.test(ch) ? ALPHA : 0) |
    (alnum || ch === '_' ? WORD : 0) |
    (alnum || ch === '_' || ch === '-' ? JWT : 0);
}

function is(text: string, i: number, cls: number): boolean {
  const c = text.charCodeAt(i);
  return c < 128 && ((CLASSES[c] as number) & cls) !== 0;
}

/** End of the run of `cls` characters starting at `i`. */
function runEnd(text: string, i: number, cls: number): number {
  while (i < text.length && is(text, i, cls)) i++;
  return i;
}

/** `john.doe@gmail.com` → `john.***@gmail.com`. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const cut = local.search(/[._+-]/);
  const kept = cut > 0 ? local.slice(0, cut + 1) : local.slice(0, 1);
  return `${kept}***${address.slice(at)}`;
}

/**
 * End of the e-mail domain that starts at `i` (just after the `@`), or -1.
 * The domain is labels joined by dots, and it ends with the last label (not
 * the first) that starts with two letters, at the end of those letters:
 * what `[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}` matches there.
 */
function domainEnd(text: string, i: number): number {
  let p = runEnd(text, i, LABEL);
  if (p === i) return -1;
  let end = -1;
  while (text.charCodeAt(p) === 46 /* . */) {
    const labelStart = p + 1;
    const labelEnd = runEnd(text, labelStart, LABEL);
    if (labelEnd === labelStart) break;
    const letters = runEnd(text, labelStart, ALPHA);
    if (letters - labelStart >= 2) end = letters;
    p = labelEnd;
  }
  return end;
}

/**
 * Masks e-mail addresses; `onMatch` is called once per address. An address
 * is the run of local-part characters before an `@` and a domain after it
 * (see domainEnd). Neither class holds `@`, so each character is read by the
 * scan of at most two `@`s: linear.
 */
export function maskEmails(text: string, onMatch: () => void): string {
  let at = text.indexOf('@');
  if (at < 0) return text;
  let out = '';
  let copied = 0;
  while (at >= 0) {
    let start = at;
    while (start > copied && is(text, start - 1, LOCAL)) start--;
    const end = start < at ? domainEnd(text, at + 1) : -1;
    if (end < 0) {
      at = text.indexOf('@', at + 1);
      continue;
    }
    onMatch();
    out += text.slice(copied, start) + maskEmail(text.slice(start, end));
    copied = end;
    at = text.indexOf('@', end);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Finds JSON Web Tokens in one text: `eyJ…` at a word boundary, then `.`
 * and 8+ base64url characters, `.` and the signature, as
 * `\\beyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*` does.
 * Written out because that expression re-read a whole run from every
 * `-eyJ` inside it (`eyJ-eyJ-eyJ-…` was quadratic). Every `eyJ` of one run
 * has the same run end and the same tail after it, so both are measured
 * once per run and remembered; asked again from a later position (after a
 * token of another shape that ended inside the run), it reads nothing twice.
 */
class JwtFinder {
  readonly #text: string;
  /** The run last measured: an `eyJ` at #runStart, its header running to #runEnd. */
  #runStart = -1;
  #runEnd = -1;
  /** End of the token whose header ends at #runEnd, or -1 when what follows is no payload and signature. */
  #tokenEnd = -1;

  constructor(text: string) {
    this.#text = text;
  }

  /** Start and end of the first token that starts at or after `from`, or undefined. */
  next(from: number): [number, number] | undefined {
    const text = this.#text;
    for (let p = text.indexOf('eyJ', from); p >= 0;) {
      if (p > 0 && is(text, p - 1, WORD)) {
        p = text.indexOf('eyJ', p + 1);
        continue;
      }
      if (!(p >= this.#runStart && p < this.#runEnd)) this.#measure(p);
      if (this.#runEnd - p - 3 >= 8 && this.#tokenEnd >= 0) return [p, this.#tokenEnd];
      // Every later `eyJ` of this run has fewer characters and the same tail: none is a token.
      p = text.indexOf('eyJ', this.#runEnd);
    }
    return undefined;
  }

  #measure(p: number): void {
    const text = this.#text;
    this.#runStart = p;
    this.#runEnd = runEnd(text, p + 3, JWT);
    this.#tokenEnd = -1;
    if (text.charCodeAt(this.#runEnd) !== 46 /* . */) return;
    const payloadEnd = runEnd(text, this.#runEnd + 1, JWT);
    if (payloadEnd - this.#runEnd - 1 >= 8 && text.charCodeAt(payloadEnd) === 46)
      this.#tokenEnd = runEnd(text, payloadEnd + 1, JWT);
  }
}

/**
 * Masks token shapes, leftmost first as one alternation would: the next
 * match of OTHER_TOKENS and the next JWT are kept, the one that starts first
 * is masked, and a kept match that it overlapped is looked for again after it.
 */
function maskTokens(text: string, onMatch: () => void): string {
  const jwts = new JwtFinder(text);
  OTHER_TOKENS.lastIndex = 0;
  let other = OTHER_TOKENS.exec(text);
  let jwt = jwts.next(0);
  let out = '';
  let copied = 0;
  while (other || jwt) {
    let start: number;
    let end: number;
    let replacement = REDACTED;
    if (jwt && (!other || jwt[0] < other.index)) [start, end] = jwt;
    else {
      const token = (other as RegExpExecArray)[0];
      start = (other as RegExpExecArray).index;
      end = start + token.length;
      const scheme = /^(Bearer|bearer|BEARER|Basic)\s+/.exec(token);
      if (scheme) replacement = `${scheme[1] as string} ${REDACTED}`;
    }
    onMatch();
    out += text.slice(copied, start) + replacement;
    copied = end;
    if (other && other.index < end) {
      OTHER_TOKENS.lastIndex = end;
      other = OTHER_TOKENS.exec(text);
    }
    if (jwt && jwt[0] < end) jwt = jwts.next(end);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Masks secret values (key=value forms and token shapes); `onMatch` is called once per secret. */
export function maskSecretValues(text: string, names: SecretNames, onMatch: () => void): string {
  let out = text;
  if ((out.includes('=') || out.includes(':')) && names.mayContainSecretName(out)) {
    // A manual loop: a key that is not secret must not swallow its value,
    // which may hold a secret of its own (`url=/x?token=abc`).
    KEY_SEP.lastIndex = 0;
    let result = '';
    let copied = 0;
    for (let m = KEY_SEP.exec(out); m; m = KEY_SEP.exec(out)) {
      const valueStart = KEY_SEP.lastIndex;
      if (out.startsWith('[redacted', valueStart) || !names.isSecret(m[1] as string)) continue;
      VALUE.lastIndex = valueStart;
      if (!VALUE.test(out)) continue;
      onMatch();
      result += `${out.slice(copied, valueStart)}${REDACTED}`;
      copied = VALUE.lastIndex;
      KEY_SEP.lastIndex = copied;
    }
    if (copied > 0) out = result + out.slice(copied);
  }
  if (out.length >= 19 && TOKEN_HINT.test(out)) out = maskTokens(out, onMatch);
  return out;
}
