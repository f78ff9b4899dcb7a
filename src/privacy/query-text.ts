/**
 * Query text: card numbers (and, when e-mail masking is on, e-mail
 * addresses) typed into a query are masked the way stored data is, before
 * the query is parsed, run, logged or echoed in an error. The stars are
 * escaped (`\*`) so that they match the stored stars literally instead of
 * acting as wildcards: searching `4111 1111 1111 1111` finds events that
 * hold `**** **** **** 1111`, and `customer.email:john.doe@gmail.com`
 * finds `john.***@gmail.com`. Inside a double-quoted phrase `\*` is a plain
 * star too, so one form serves both.
 */
import { maskCardNumbers } from './card-numbers.ts';
import type { PrivacyConfig } from './privacy-config.ts';
import { maskEmails } from './text-patterns.ts';

const noop = (): void => {};

/** Escapes the stars a mask introduced (the query language reads a bare `*` as a wildcard). */
function escapeStars(masked: string): string {
  return masked.replace(/\*/g, '\\*');
}

/** The query with card numbers (and e-mail addresses, per config) masked as in stored data. */
export function maskQueryText(query: string, config: Pick<PrivacyConfig, 'maskEmails'>): string {
  let out = query;
  if (out.length >= 13) {
    out = out.replace(/\d(?:[ -]?\d){12,}/g, (run) => {
      const masked = maskCardNumbers(run, noop);
      return masked === run ? run : escapeStars(masked);
    });
  }
  if (config.maskEmails) {
    out = out.replace(/[^\s"():|\\]+@[^\s"():|\\]+/g, (word) => {
      const masked = maskEmails(word, noop);
      return masked === word ? word : escapeStars(masked);
    });
  }
  return out;
}
