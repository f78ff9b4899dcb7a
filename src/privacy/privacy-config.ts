/**
 * The `privacy` section of the configuration (src/config.ts includes it).
 * Card numbers and secrets are always redacted; what can be configured is
 * e-mail masking, IP truncation, more fields to drop, more value patterns
 * to mask, and fields exempt from the configurable parts.
 */
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

/** An extra value pattern: every match of `regex` in any string is replaced. */
const maskPattern = z
  .object({
    /** Name in the event marker (`pattern:<name>`) and the metric label. */
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'expected a name of letters, digits, "_", "." or "-"'),
    /** JavaScript regular expression source, e.g. `\\bDE\\d{20}\\b` for German IBANs. */
    regex: z.string().min(1),
    /** Regular expression flags besides `g` (e.g. "i"). */
    flags: z
      .string()
      .regex(/^[imsu]*$/, 'expected flags among i, m, s, u')
      .default(''),
    /** What a match becomes. */
    replacement: z.string().default('[redacted]'),
  })
  .strict()
  .superRefine((p, ctx) => {
    try {
      new RegExp(p.regex, `${p.flags}g`);
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        path: ['regex'],
        message: `not a valid regular expression: ${(err as Error).message}`,
      });
    }
  });

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
