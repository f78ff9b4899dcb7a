/**
 * The `privacy` section of the configuration (src/config.ts includes it).
 * Card numbers and secrets are always redacted; what can be configured is
 * e-mail masking, IP truncation, more fields to drop, more value patterns
 * to mask, and fields exempt from the configurable parts.
 *
 * Value patterns (`maskPatterns`) are RE2 regular expressions, run with
 * re2js (linear time): they are applied to every string clients send, and a
 * backtracking engine would let one unlucky pattern and one long string
 * stall the server. The configuration is refused at load, naming the
 * pattern, when RE2 rejects one (lookarounds and backreferences are not RE2).
 */
import { RE2JS } from 're2js';
import { z } from 'zod';

/** A list from YAML, or from the environment as JSON (`["a","b"]`) or comma-separated text. */
function list<T extends z.ZodType>(item: T) {
  return z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    const text = value.trim();
    if (text.startsWith('[')) {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return value;
      }
    }
    return text === '' ? [] : text.split(',').map((s) => s.trim());
  }, z.array(item));
}

const boolean = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/** RE2JS flags for the `flags` letters (`u` is how RE2 always reads text: by code point). */
function re2Flags(flags: string): number {
  return (
    (flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0) |
    (flags.includes('m') ? RE2JS.MULTILINE : 0) |
    (flags.includes('s') ? RE2JS.DOTALL : 0)
  );
}

/** An extra value pattern: every match of `regex` in any string is replaced. */
const maskPattern = z
  .object({
    /** Name in the event marker (`pattern:<name>`) and the metric label. */
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'expected a name of letters, digits, "_", "." or "-"'),
    /** RE2 regular expression source, e.g. `\\bDE\\d{20}\\b` for German IBANs. */
    regex: z.string().min(1),
    /** Flags (e.g. "i"): i (ignore case), m (multi-line ^ and $), s (dot matches newline), u (accepted, always on). */
    flags: z
      .string()
      .regex(/^[imsu]*$/, 'expected flags among i, m, s, u')
      .default(''),
    /** What a match becomes (literally: `$1` is not expanded). */
    replacement: z.string().default('[redacted]'),
  })
  .strict()
  .superRefine((p, ctx) => {
    try {
      RE2JS.compile(p.regex, re2Flags(p.flags));
    } catch (err) {
      const reason = (err as Error).message.replace(/^error parsing regexp: /, '');
      ctx.addIssue({
        code: 'custom',
        path: ['regex'],
        message: `pattern "${p.name}" is not a valid regular expression (RE2 syntax): ${reason}`,
      });
    }
  });

/** A configured value pattern. */
export type MaskPattern = z.output<typeof maskPattern>;

/** A value pattern compiled once (when the redactor is built), applied to many strings. */
export interface CompiledMaskPattern {
  /** Marker entry and metric kind: `pattern:<name>`. */
  readonly kind: string;
  /** `text` with every non-empty match replaced; calls `onMatch(kind)` once per match. Linear in `text`. */
  mask(text: string, onMatch: (kind: string) => void): string;
}

/** Compiles a value pattern (already checked by the schema) with re2js. */
export function compileMaskPattern(p: MaskPattern): CompiledMaskPattern {
  const re = RE2JS.compile(p.regex, re2Flags(p.flags));
  const kind = `pattern:${p.name}`;
  return {
    kind,
    mask(text, onMatch) {
      // test() runs the DFA without captures: the common case (no match) stays cheap.
      if (!re.test(text)) return text;
      const m = re.matcher(text);
      let out = '';
      let copied = 0;
      while (m.find()) {
        // An empty match would insert the replacement between every two characters.
        if (m.end() === m.start()) continue;
        out += text.slice(copied, m.start()) + p.replacement;
        copied = m.end();
        onMatch(kind);
      }
      return copied === 0 ? text : out + text.slice(copied);
    },
  };
}

export const privacyConfigSchema = z
  .object({
    /** Mask e-mail addresses in every string (`john.doe@gmail.com` → `john.***@gmail.com`). */
    maskEmails: boolean.default(true),
    /** Truncate client IP addresses in the `ipFields` to their network prefix. */
    truncateIps: boolean.default(false),
    /** IPv4 prefix kept when truncating (24: `203.0.113.195` → `203.0.113.0`). */
    ipv4PrefixLength: z.coerce.number().int().min(0).max(32).default(24),
    /** IPv6 prefix kept when truncating (48: `2001:db8:1:2::5` → `2001:db8:1::`). */
    ipv6PrefixLength: z.coerce.number().int().min(0).max(128).default(48),
    /** Fields that hold client IPs (dotted names; `*` matches any characters). */
    ipFields: list(z.string().min(1)).default([
      'security.ip_address',
      'client.ip',
      'source.ip',
      'client.address',
      'source.address',
      'ip',
      'ip_address',
      'client_ip',
      '*.ip',
      '*.ip_address',
      '*.client_ip',
    ]),
    /**
     * More fields to drop: a plain word (`ssn`) is matched against the words of
     * every key like the built-in secret words; an entry with `.` or `*` is a
     * dotted-name pattern (`customer.birth_date`, `*.national_id`).
     */
    dropFields: list(z.string().min(1)).default([]),
    /** More value patterns to mask in every string. */
    maskPatterns: list(maskPattern).default([]),
    /**
     * Dotted-name patterns of fields exempt from the configurable redactions
     * (dropping by name, e-mail masking, IP truncation, `maskPatterns`).
     * Card numbers and secret values are masked everywhere, always.
     */
    exemptFields: list(z.string().min(1)).default([]),
  })
  .strict();

/** The parsed `privacy` configuration. */
export type PrivacyConfig = Readonly<z.output<typeof privacyConfigSchema>>;
