/**
 * The regular expressions the redactor used before they were made linear
 * (issue 11 item 21), kept verbatim as the reference the new scanners are
 * compared with on short random inputs (pattern-equivalence.test.ts): on a
 * few dozen characters their backtracking costs nothing, and what they
 * found is what the new code must still find.
 */
import { isCardNumber, maskCardText } from '../../src/privacy/card-numbers.ts';
import type { SecretNames } from '../../src/privacy/field-names.ts';

const REDACTED = '[redacted]';
const AUTH_SCHEMES = 'Basic|Bearer|Digest|ApiKey|Token|Negotiate|NTLM|AWS4-HMAC-SHA256';
const KEY_VALUE = new RegExp(
  `(?<![\\w.-])([A-Za-z_][\\w.-]{0,63})(\\\\?["']?\\s*[=:]\\s*\\\\?["']?)((?:(?:${AUTH_SCHEMES})\\s+)?[^\\s"'&;,\\\\)}\\]]+)`,
  'gi',
);
const SECRET_TOKENS = new RegExp(
  [
    '\\b(?:[Bb]earer|BEARER)\\s+(?=[A-Za-z0-9._~+/-]*[0-9._~+/-])[A-Za-z0-9._~+/-]{12,}=*',
    '\\bBasic\\s+(?=[A-Za-z0-9+/]*[a-z][A-Z0-9])[A-Za-z0-9+/]{8,}={0,2}',
    '\\beyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*',
    '\\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}',
    '\\bAKIA[0-9A-Z]{16}\\b',
    '\\bgh[pousr]_[A-Za-z0-9]{30,}',
    '\\bxox[abposr]-[A-Za-z0-9-]{10,}',
  ].join('|'),
  'g',
);
const TOKEN_HINT = /earer|EARER|Basic|eyJ|[sr]k_|AKIA|gh[pousr]_|xox/;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const QUERY_EMAIL_WORD = /[^\s"():|\\]+@[^\s"():|\\]+/g;

function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const cut = local.search(/[._+-]/);
  const kept = cut > 0 ? local.slice(0, cut + 1) : local.slice(0, 1);
  return `${kept}***${address.slice(at)}`;
}

/** The former maskEmails. */
export function formerMaskEmails(text: string): string {
  return text.replace(EMAIL, maskEmail);
}

/** The former maskSecretValues. */
export function formerMaskSecretValues(text: string, names: SecretNames): string {
  let out = text;
  if ((out.includes('=') || out.includes(':')) && names.mayContainSecretName(out)) out = maskKeyValues(out, names);
  if (out.length >= 19 && TOKEN_HINT.test(out)) out = maskTokens(out);
  return out;
}

function maskKeyValues(text: string, names: SecretNames): string {
  KEY_VALUE.lastIndex = 0;
  let result = '';
  let copied = 0;
  for (let m = KEY_VALUE.exec(text); m; m = KEY_VALUE.exec(text)) {
    const key = m[1] as string;
    const sep = m[2] as string;
    const value = m[3] as string;
    if (value.startsWith('[redacted') || !names.isSecret(key)) {
      KEY_VALUE.lastIndex = m.index + key.length + sep.length;
      continue;
    }
    result += `${text.slice(copied, m.index)}${key}${sep}${REDACTED}`;
    copied = m.index + m[0].length;
  }
  return copied > 0 ? result + text.slice(copied) : text;
}

function maskTokens(text: string): string {
  return text.replace(SECRET_TOKENS, (token) => {
    const scheme = /^(Bearer|bearer|BEARER|Basic)\s+/.exec(token);
    return scheme ? `${scheme[1] as string} ${REDACTED}` : REDACTED;
  });
}

/** The former e-mail part of maskQueryText (card numbers are masked before it, as then). */
export function formerMaskQueryEmails(query: string): string {
  return query.replace(QUERY_EMAIL_WORD, (word) => {
    const masked = formerMaskEmails(word);
    return masked === word ? word : masked.replace(/\*/g, '\\*');
  });
}

/** The former nameWords (field-names.ts). */
export function formerNameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

const DIGIT_RUN = /\d(?:[ -]?\d){12,}/g;

/** The former maskRun of card-numbers.ts: the card numbers inside one digit run. */
function formerMaskRun(run: string): string {
  if (run.length <= 19 && !run.includes(' ') && !run.includes('-')) {
    return isCardNumber(run) ? maskCardText(run) : run;
  }
  const groups: { start: number; end: number; digits: string }[] = [];
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
      const g = groups[j]!;
      if (j > i && (g.digits.length < 3 || groups[i]!.digits.length < 3)) break;
      digits += g.digits;
      if (digits.length > 19) break;
      if (isCardNumber(digits)) found = j;
    }
    if (found < 0) {
      i++;
      continue;
    }
    const start = groups[i]!.start;
    const end = groups[found]!.end;
    out += run.slice(copied, start) + maskCardText(run.slice(start, end));
    copied = end;
    i = found + 1;
  }
  return copied === 0 ? run : out + run.slice(copied);
}

/** The former maskCardNumbers. */
export function formerMaskCardNumbers(text: string): string {
  if (text.length < 13) return text;
  return text.replace(DIGIT_RUN, formerMaskRun);
}
