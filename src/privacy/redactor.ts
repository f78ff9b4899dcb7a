/**
 * The redactor: applied to every raw event before it is normalised,
 * serialised or written, and to any other client text Shoplens stores,
 * echoes or logs (index names, document ids, error messages). It works in
 * place on freshly parsed JSON:
 * - card numbers in any string, any object key and any integer → masked to
 *   their last four digits (card-numbers.ts), always;
 * - secret values inside strings (`token=…`, `Bearer …`, API key shapes) →
 *   `[redacted]` (text-patterns.ts), always;
 * - fields whose name holds a secret (field-names.ts) or matches
 *   `privacy.dropFields` → dropped, with their whole value;
 * - e-mail addresses → `john.***@gmail.com` unless `privacy.maskEmails: false`;
 * - client IPs in `privacy.ipFields` → truncated when `privacy.truncateIps`;
 * - `privacy.maskPatterns` → replaced.
 * Fields in `privacy.exemptFields` skip the configurable parts (not cards or secret values).
 *
 * What was redacted is returned as the event's marker (`card_number`,
 * `email`, `ip`, `secret`, `pattern:<name>`, `field:<dotted.name>`) and
 * counted by kind for `shoplens_redactions_total`.
 */
import {
  CHAR_CLASS,
  DIGIT_CLASS,
  maskCardNumbers,
  maskCardText,
  numberIsCard,
  OTHER_SEPARATOR,
  PLAIN_SEPARATOR,
  SURROGATE_CLASS,
} from './card-numbers.ts';
import { SecretNames } from './field-names.ts';
import { truncateIp } from './ip-truncation.ts';
import {
  compileMaskPattern,
  privacyConfigSchema,
  type CompiledMaskPattern,
  type PrivacyConfig,
} from './privacy-config.ts';
import { maskEmails, maskSecretValues, TOKEN_HINT } from './text-patterns.ts';
import { dataObject, setOwn } from '../schema/data-object.ts';
import { compileNamePattern, type NamePattern } from '../schema/name-pattern.ts';

/** The attribute that lists what was redacted from an event. */
export const REDACTION_MARKER = 'privacy.redacted';

/** The configuration with every default: what applies when none is given. */
export const DEFAULT_PRIVACY: PrivacyConfig = privacyConfigSchema.parse({});

/** Outcome of redacting one raw event. */
export type RedactedEvent =
  | {
      readonly ok: true;
      /** The event, redacted (the same object, changed in place, when it was an object). */
      readonly value: unknown;
      /** What was redacted, distinct entries in order of discovery; undefined when nothing. */
      readonly marker: string[] | undefined;
    }
  | { readonly ok: false; readonly code: string; readonly message: string };

function anyMatch(patterns: readonly NamePattern[], name: string): boolean {
  for (const p of patterns) if (p.test(name)) return true;
  return false;
}

/** How redaction treats one field (see Redactor.fieldRule). */
export interface FieldRule {
  /** In `privacy.exemptFields` (or below one): only cards and secret values are masked. */
  readonly exempt: boolean;
  /** Dropped with its whole value: a secret name or a `privacy.dropFields` path. */
  readonly drop: boolean;
  /** Holds a client IP to truncate (`privacy.truncateIps`). */
  readonly ip: boolean;
}

// Classes of mayChange's scan, by UTF-16 code unit.
const MAYBE_DIGIT = 1; // a digit of any script, or a high surrogate (the pair may be one: `𝟒`)
const SEPARATOR = 2; // a separator between a card's groups (card-numbers.ts)
const LOW_SURROGATE = 4; // the second half of a pair: neither breaks nor extends a run
const PERCENT_AT = 8; // `%` (read decoded) or `@` (an e-mail address)
const KEY_VALUE = 16; // `:` or `=`
const SCAN_CLASS = new Uint8Array(65536);
for (let c = 0; c < 65536; c++) {
  const k = CHAR_CLASS[c] as number;
  if (k & (DIGIT_CLASS | SURROGATE_CLASS)) SCAN_CLASS[c] = MAYBE_DIGIT;
  else if (k & (PLAIN_SEPARATOR | OTHER_SEPARATOR)) SCAN_CLASS[c] = SEPARATOR;
  else if (c >= 0xdc00 && c <= 0xdfff) SCAN_CLASS[c] = LOW_SURROGATE;
}
SCAN_CLASS[37] = PERCENT_AT;
SCAN_CLASS[64] = PERCENT_AT;
SCAN_CLASS[58] = KEY_VALUE;
SCAN_CLASS[61] = KEY_VALUE;

class TooDeep extends Error {
  constructor(readonly path: string) {
    super(path);
  }
}

/** How many `field:<name>` entries a marker lists before it sums the rest up as `field:(more)`. */
const MAX_MARKER_FIELDS = 64;
const MORE_FIELDS = 'field:(more)';

/** Kind of a marker entry as counted in the metric (`field:a.b` counts as `field`). */
function metricKind(entry: string): string {
  return entry.startsWith('field:') ? 'field' : entry;
}

export class Redactor {
  readonly config: PrivacyConfig;
  readonly #names: SecretNames;
  readonly #dropPaths: NamePattern[];
  readonly #exempt: NamePattern[];
  readonly #ipFields: NamePattern[];
  readonly #patterns: readonly CompiledMaskPattern[];
  readonly #counts = new Map<string, number>();
  /** Kinds found by the string pass under way (reused: no allocation per string). */
  readonly #hits: string[] = [];
  readonly #onCard = (): void => {
    this.#hits.push('card_number');
  };
  readonly #onSecret = (): void => {
    this.#hits.push('secret');
  };
  readonly #onEmail = (): void => {
    this.#hits.push('email');
  };
  readonly #onPattern = (kind: string): void => {
    this.#hits.push(kind);
  };
  #maxDepth = 64;
  /** Kinds counted since beginCounting, while a caller may take them back. */
  readonly #journal: string[] = [];
  #journaling = false;

  constructor(config: PrivacyConfig = DEFAULT_PRIVACY) {
    this.config = config;
    const words = config.dropFields.filter((f) => !f.includes('.') && !f.includes('*'));
    this.#names = new SecretNames(words);
    this.#dropPaths = config.dropFields.filter((f) => f.includes('.') || f.includes('*')).map(compileNamePattern);
    this.#exempt = config.exemptFields.map(compileNamePattern);
    this.#ipFields = config.truncateIps ? config.ipFields.map(compileNamePattern) : [];
    this.#patterns = config.maskPatterns.map(compileMaskPattern);
  }

  /**
   * How the redaction treats the field `name` (dotted path) whose own key is
   * `key`, below a parent that is `parentExempt`: the same decision
   * redactEvent makes per field, for walkers that cache it per name.
   */
  fieldRule(name: string, key: string, parentExempt: boolean): FieldRule {
    const exempt = parentExempt || (this.#exempt.length > 0 && anyMatch(this.#exempt, name));
    const drop =
      !exempt && (this.#names.isSecret(key) || (this.#dropPaths.length > 0 && anyMatch(this.#dropPaths, name)));
    const ip = !exempt && this.#ipFields.length > 0 && anyMatch(this.#ipFields, name);
    return { exempt, drop, ip };
  }

  /**
   * False when no redaction can change `text` nor report anything in it, so
   * the scanners may be skipped. The conditions are those of the scanners
   * themselves (each is necessary for one of them to act):
   * - shorter than 5 characters: redactText returns it as it is;
   * - `%`: it is also read percent-decoded, where anything can appear;
   * - a run of 13+ digits of any script (or characters that may be digits
   *   outside the BMP), a single separator of card-numbers.ts (space, dash,
   *   dot, slash, …) allowed after each digit: the shortest card number
   *   (maskCardNumbers, both of its scans; a glued card has 14+ digits);
   * - `=` or `:` and a secret word anywhere (the key=value forms of
   *   maskSecretValues);
   * - 19+ characters and one of the token shapes' literal parts (TOKEN_HINT);
   * - `@`: an e-mail address;
   * - any configured maskPattern: a regular expression can match anything.
   * Masking cards only turns digits into `*`, which creates none of these.
   * One table look-up per character.
   */
  mayChange(text: string): boolean {
    const n = text.length;
    if (n < 5) return false;
    if (this.#patterns.length > 0) return true;
    let run = 0;
    let afterDigit = false;
    let keyValue = false;
    for (let i = 0; i < n; i++) {
      const k = SCAN_CLASS[text.charCodeAt(i)] as number;
      if (k === MAYBE_DIGIT) {
        if (++run >= 13) return true;
        afterDigit = true;
      } else if (k === SEPARATOR && afterDigit) afterDigit = false;
      else if (k !== LOW_SURROGATE) {
        run = 0;
        afterDigit = false;
        if (k === PERCENT_AT) return true;
        if (k === KEY_VALUE) keyValue = true;
      }
    }
    if (keyValue && this.#names.mayContainSecretName(text)) return true;
    return n >= 19 && TOKEN_HINT.test(text);
  }

  /**
   * Redacts one string value of the field whose rule is `rule` as
   * redactEvent does (cards, secrets, e-mails, patterns, IP truncation),
   * recording what it found in `marker`.
   */
  redactValue(text: string, rule: FieldRule, marker: string[]): string {
    let out = this.#string(text, rule.exempt, marker);
    if (rule.ip) out = this.#truncate(out, marker);
    return out;
  }

  /** Records an entry (`card_number`, `field:a.b`) in `marker` and the counts, as redactEvent does. */
  recordEntry(entry: string, marker: string[]): void {
    this.#record(entry, marker);
  }

  /**
   * Starts remembering what is counted, so that rollbackCounts can take it
   * back (a caller that redacts an event twice, the second time to make
   * sure of the answer, must count it once).
   */
  beginCounting(): void {
    this.#journal.length = 0;
    this.#journaling = true;
  }

  /** Takes back what was counted since beginCounting, and stops remembering. */
  rollbackCounts(): void {
    if (!this.#journaling) return;
    this.#journaling = false;
    for (const kind of this.#journal) {
      const n = (this.#counts.get(kind) ?? 0) - 1;
      if (n > 0) this.#counts.set(kind, n);
      else this.#counts.delete(kind);
    }
  }

  /** Stops remembering what is counted (keeps the counts). */
  endCounting(): void {
    this.#journaling = false;
  }

  /**
   * Redacts one raw event in place. Containers nested deeper than
   * `maxDepth` + 8 levels are refused (`ingest.too_deep`), so that no
   * unredacted value can hide below the depth the walk reaches.
   */
  redactEvent(raw: unknown, maxDepth = 56): RedactedEvent {
    this.#maxDepth = maxDepth + 8;
    const marker: string[] = [];
    try {
      const value = this.#value(raw, '', false, 0, marker);
      return { ok: true, value, marker: marker.length > 0 ? marker : undefined };
    } catch (err) {
      if (!(err instanceof TooDeep)) throw err;
      return {
        ok: false,
        code: 'ingest.too_deep',
        message: `field "${err.path}" is nested more than ${this.#maxDepth} levels deep`,
      };
    }
  }

  /**
   * Redacts card numbers, secret values, e-mail addresses (when configured)
   * and configured patterns in one piece of text (a message, an index name,
   * an id, a log line). Adds what it found to `marker` when given.
   */
  redactText(text: string, marker?: string[]): string {
    return this.#string(text, false, marker ?? []);
  }

  /** Redaction counts by kind since the last call (and resets them). */
  takeCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [kind, n] of this.#counts) out[kind] = n;
    this.#counts.clear();
    return out;
  }

  #record(entry: string, marker: string[]): void {
    const kind = metricKind(entry);
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + 1);
    if (this.#journaling) this.#journal.push(kind);
    // The marker stays short, so this check stays cheap: an event that drops 30,000 secret-named
    // fields once made it quadratic (8–14 s for one 578 KB line). Past the cap, dropped fields are
    // summed up as one entry; the other kinds (card_number, email, …) are few and always listed.
    if (marker.includes(entry)) return;
    if (kind === 'field' && marker.length >= MAX_MARKER_FIELDS) {
      if (!marker.includes(MORE_FIELDS)) marker.push(MORE_FIELDS);
      return;
    }
    marker.push(entry);
  }

  #value(value: unknown, path: string, exempt: boolean, depth: number, marker: string[]): unknown {
    if (typeof value === 'string') {
      const out = this.#string(value, exempt, marker);
      return this.#ipFields.length > 0 && !exempt && anyMatch(this.#ipFields, path) ? this.#truncate(out, marker) : out;
    }
    if (typeof value === 'number') {
      if (!numberIsCard(value)) return value;
      this.#record('card_number', marker);
      return maskCardText(String(value));
    }
    if (value === null || typeof value !== 'object') return value;
    if (depth >= this.#maxDepth) throw new TooDeep(path);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        const r = this.#value(v, path, exempt, depth + 1, marker);
        if (r !== v) value[i] = r;
      }
      return value;
    }
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      const v = obj[key];
      const newKey = this.#string(key, exempt, marker);
      const name = path === '' ? newKey : `${path}.${newKey}`;
      const isExempt = exempt || (this.#exempt.length > 0 && anyMatch(this.#exempt, name));
      if (
        !isExempt &&
        (this.#names.isSecret(newKey) || (this.#dropPaths.length > 0 && anyMatch(this.#dropPaths, name)))
      ) {
        delete obj[key];
        this.#record(`field:${name}`, marker);
        continue;
      }
      const r = this.#value(v, name, isExempt, depth + 1, marker);
      if (newKey !== key) {
        delete obj[key];
        setOwn(obj, newKey, r);
      } else if (r !== v) setOwn(obj, key, r);
    }
    return obj;
  }

  #truncate(text: string, marker: string[]): string {
    const truncated = truncateIp(text.trim(), this.config.ipv4PrefixLength, this.config.ipv6PrefixLength);
    if (truncated === undefined || truncated === text) return text;
    this.#record('ip', marker);
    return truncated;
  }

  #string(text: string, exempt: boolean, marker: string[]): string {
    if (text.length < 5) return text;
    // Percent-encoded text (URLs) is also read decoded: `4111%201111…` is a card number too.
    if (text.includes('%')) {
      const decoded = safeDecode(text);
      if (decoded !== text) {
        const out = this.#plain(decoded, exempt);
        if (out !== decoded) return this.#commit(out, marker);
        this.#hits.length = 0;
      }
    }
    return this.#commit(this.#plain(text, exempt), marker);
  }

  #commit(text: string, marker: string[]): string {
    for (const kind of this.#hits) this.#record(kind, marker);
    this.#hits.length = 0;
    return text;
  }

  /** One pass over plain text; what it finds goes to #hits. */
  #plain(text: string, exempt: boolean): string {
    let out = maskCardNumbers(text, this.#onCard);
    out = maskSecretValues(out, this.#names, this.#onSecret);
    if (exempt) return out;
    if (this.config.maskEmails) out = maskEmails(out, this.#onEmail);
    for (const p of this.#patterns) out = p.mask(out, this.#onPattern);
    return out;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** Adds the marker to a normalised event's attributes (replacing any a client sent). */
export function markRedactions(
  attributes: Record<string, unknown> | null,
  marker: readonly string[] | undefined,
): Record<string, unknown> | null {
  if (attributes && REDACTION_MARKER in attributes) delete attributes[REDACTION_MARKER];
  if (!marker || marker.length === 0) return attributes && Object.keys(attributes).length > 0 ? attributes : null;
  const out = attributes ?? dataObject();
  out[REDACTION_MARKER] = [...marker];
  return out;
}
