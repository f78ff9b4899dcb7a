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
 */
import type { SecretNames } from './field-names.ts';

export const REDACTED = '[redacted]';

const AUTH_SCHEMES = 'Basic|Bearer|Digest|ApiKey|Token|Negotiate|NTLM|AWS4-HMAC-SHA256';

/**
 * A key (starting at a word boundary) and its value. Groups: 1 key, 2 quote
 * and separator, 3 value. The value may be an auth scheme and its credentials.
 */
const KEY_VALUE = new RegExp(
  `(?<![\\w.-])([A-Za-z_][\\w.-]{0,63})(\\\\?["']?\\s*[=:]\\s*\\\\?["']?)((?:(?:${AUTH_SCHEMES})\\s+)?[^\\s"'&;,\\\\)}\\]]+)`,
  'gi',
);

/** Token shapes that are secrets wherever they appear. */
const SECRET_TOKENS = new RegExp(
  [
    // Bearer tokens: 12+ characters with a digit or a token punctuation (not an English word).
    '\\b(?:[Bb]earer|BEARER)\\s+(?=[A-Za-z0-9._~+/-]*[0-9._~+/-])[A-Za-z0-9._~+/-]{12,}=*',
    // Basic credentials: base64 with a lower-case letter followed by a capital or digit somewhere.
    '\\bBasic\\s+(?=[A-Za-z0-9+/]*[a-z][A-Z0-9])[A-Za-z0-9+/]{8,}={0,2}',
    // JSON Web Tokens.
    '\\beyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*',
    '\\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}',
    '\\bAKIA[0-9A-Z]{16}\\b',
    '\\bgh[pousr]_[A-Za-z0-9]{30,}',
    '\\bxox[abposr]-[A-Za-z0-9-]{10,}',
  ].join('|'),
  'g',
);

/** A cheap test for any of SECRET_TOKENS' literal parts, before running it. */
const TOKEN_HINT = /earer|EARER|Basic|eyJ|[sr]k_|AKIA|gh[pousr]_|xox/;

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

/** `john.doe@gmail.com` → `john.***@gmail.com`. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const cut = local.search(/[._+-]/);
  const kept = cut > 0 ? local.slice(0, cut + 1) : local.slice(0, 1);
  return `${kept}***${address.slice(at)}`;
}

/** Masks e-mail addresses; `onMatch` is called once per address. */
export function maskEmails(text: string, onMatch: () => void): string {
  if (!text.includes('@')) return text;
  return text.replace(EMAIL, (address) => {
    onMatch();
    return maskEmail(address);
  });
}

/** Masks secret values (key=value forms and token shapes); `onMatch` is called once per secret. */
export function maskSecretValues(text: string, names: SecretNames, onMatch: () => void): string {
  let out = text;
  if ((out.includes('=') || out.includes(':')) && names.mayContainSecretName(out)) {
    // A manual loop: a match whose key is not secret must not swallow its
    // value, which may hold a secret of its own (`url=/x?token=abc`).
    KEY_VALUE.lastIndex = 0;
    let result = '';
    let copied = 0;
    for (let m = KEY_VALUE.exec(out); m; m = KEY_VALUE.exec(out)) {
      const key = m[1] as string;
      const sep = m[2] as string;
      const value = m[3] as string;
      if (value.startsWith('[redacted') || !names.isSecret(key)) {
        KEY_VALUE.lastIndex = m.index + key.length + sep.length;
        continue;
      }
      onMatch();
      result += `${out.slice(copied, m.index)}${key}${sep}${REDACTED}`;
      copied = m.index + m[0].length;
    }
    if (copied > 0) out = result + out.slice(copied);
  }
  if (out.length >= 19 && TOKEN_HINT.test(out)) {
    out = out.replace(SECRET_TOKENS, (token) => {
      onMatch();
      const scheme = /^(Bearer|bearer|BEARER|Basic)\s+/.exec(token);
      return scheme ? `${scheme[1] as string} ${REDACTED}` : REDACTED;
    });
  }
  return out;
}
