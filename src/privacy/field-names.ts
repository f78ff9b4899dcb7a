/**
 * Which field names hold secrets. A name is split into lower-case words at
 * punctuation and camelCase boundaries (`X-Api-Key` → x, api, key;
 * `accessToken` → access, token; `card_cvv` → card, cvv), and it is secret
 * when a word is one of SECRET_WORDS (or two adjacent words are one of
 * SECRET_PAIRS), unless the word right after it is a DESCRIPTOR: then the
 * field describes the secret instead of holding it (`tokens_used`,
 * `token_type`, `cvc_check`, `password_reset_at`, `api_key_id`).
 * Whole words only: `pinned`, `spinner`, `passport`, `keyboard` are not secret.
 */

/** Words whose field holds a secret (docs/security.md, "Redaction" lists them). */
export const SECRET_WORDS: readonly string[] = [
  'cvv',
  'cvv2',
  'cvc',
  'cvc2',
  'pin',
  'password',
  'passwords',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'secrets',
  'token',
  'tokens',
  'apikey',
  'apikeys',
  'authorization',
  'cookie',
  'cookies',
  'credential',
  'credentials',
];

/** Adjacent word pairs whose field holds a secret. */
export const SECRET_PAIRS: readonly (readonly [string, string])[] = [
  ['api', 'key'],
  ['api', 'keys'],
  ['access', 'key'],
  ['private', 'key'],
  ['secret', 'key'],
  ['session', 'key'],
  // A Sentry DSN's public key, in `?sentry_key=` and `X-Sentry-Auth` (a Shoplens key here).
  ['sentry', 'key'],
];

/** Words that, right after a secret word, make the field describe the secret rather than hold it. */
export const DESCRIPTORS: readonly string[] = [
  'age',
  'attempt',
  'attempts',
  'changed',
  'check',
  'checked',
  'checks',
  'count',
  'enabled',
  'error',
  'errors',
  'exp',
  'expiration',
  'expired',
  'expires',
  'expiry',
  'failed',
  'failure',
  'failures',
  'format',
  'id',
  'ids',
  'issuer',
  'kind',
  'len',
  'length',
  'limit',
  'name',
  'names',
  'policy',
  'present',
  'provided',
  'required',
  'reset',
  'result',
  'retries',
  'rotated',
  'scope',
  'scopes',
  'set',
  'status',
  'strength',
  'ttl',
  'type',
  'updated',
  'used',
  'valid',
  'verified',
  'version',
];

/**
 * Splits a field name into lower-case words. Linear in the name's length
 * (names come from clients): each split looks at two or three characters,
 * never at a whole run of capitals (`([A-Z]+)([A-Z][a-z])` retried the rest
 * of the run from every capital, quadratic on a long all-caps key).
 */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z])(?=[A-Z][a-z])/g, '$1 ')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

/** Decides, with a bounded cache, whether field names hold secrets. */
export class SecretNames {
  readonly #words: ReadonlySet<string>;
  readonly #pairs: ReadonlySet<string>;
  readonly #descriptors: ReadonlySet<string> = new Set(DESCRIPTORS);
  readonly #cache = new Map<string, boolean>();
  /** Matches text that contains any secret word as a substring: a cheap test before the exact one. */
  readonly #anyWord: RegExp;

  /** `extraWords`: more secret words (config `privacy.dropFields` entries without dots or stars). */
  constructor(extraWords: readonly string[] = []) {
    this.#words = new Set([...SECRET_WORDS, ...extraWords.map((w) => w.toLowerCase())]);
    this.#pairs = new Set(SECRET_PAIRS.map(([a, b]) => `${a} ${b}`));
    const stems = [...this.#words, ...SECRET_PAIRS.map(([, b]) => b)].map((w) => w.replace(/[^a-z0-9]/g, ''));
    this.#anyWord = new RegExp(stems.filter((w) => w !== '').join('|'), 'i');
  }

  /** False when `text` cannot hold a secret name (no secret word in it, in any case). */
  mayContainSecretName(text: string): boolean {
    return this.#anyWord.test(text);
  }

  /** True when a field of this name (one key, not a dotted path) holds a secret. */
  isSecret(name: string): boolean {
    let secret = this.#cache.get(name);
    if (secret === undefined) {
      secret = this.#decide(name);
      // Names come from clients: keep the cache bounded.
      if (this.#cache.size >= 10_000) this.#cache.clear();
      this.#cache.set(name, secret);
    }
    return secret;
  }

  #decide(name: string): boolean {
    const words = nameWords(name);
    for (let i = 0; i < words.length; i++) {
      const w = words[i] as string;
      let end = -1;
      if (this.#words.has(w)) end = i;
      else if (i + 1 < words.length && this.#pairs.has(`${w} ${words[i + 1] as string}`)) end = i + 1;
      if (end < 0) continue;
      const next = words[end + 1];
      if (next === undefined || !this.#descriptors.has(next)) return true;
    }
    return false;
  }
}
