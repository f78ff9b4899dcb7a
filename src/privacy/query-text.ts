/**
 * Query text: card numbers (and, when e-mail masking is on, e-mail
 * addresses) typed into a query are masked the way stored data is, before
 * the query is parsed, run, logged or echoed in an error. The stars are
 * escaped (`\*`) so that they match the stored stars literally instead of
 * acting as wildcards: searching `4111 1111 1111 1111` finds events that
 * hold `**** **** **** 1111`, and `customer.email:john.doe@gmail.com`
 * finds `john.***@gmail.com`. Inside a double-quoted phrase `\*` is a plain
 * star too, so one form serves both.
 *
 * Linear in the query's length: this runs before the query's own bounds are
 * checked, on whatever a client sends.
 */
import { maskCardNumbers, OTHER_SEPARATORS } from './card-numbers.ts';
import type { PrivacyConfig } from './privacy-config.ts';
import { maskEmails } from './text-patterns.ts';

const noop = (): void => {};

/**
 * Digit runs that may hold a card number (as in card-numbers.ts): digits of
 * any script, one separator of card-numbers.ts allowed between two digits;
 * linear: a failing start reads at most 25 characters.
 */
const DIGIT_RUN = new RegExp(
  `\\p{Nd}(?:[${(' -' + OTHER_SEPARATORS).replace(/[\\\]^-]/g, '\\$&')}]?\\p{Nd}){12,}`,
  'gu',
);

/**
 * Words of the query language (between white space, quotes, parentheses,
 * `:`, `|` and `\`). A plain run of one class: it never backtracks.
 */
const WORD = /[^\s"():|\\]+/g;

/** Escapes the stars a mask introduced (the query language reads a bare `*` as a wildcard). */
function escapeStars(masked: string): string {
  return masked.replace(/\*/g, '\\*');
}

/** The query with card numbers (and e-mail addresses, per config) masked as in stored data. */
export function maskQueryText(query: string, config: Pick<PrivacyConfig, 'maskEmails'>): string {
  let out = query;
  if (out.length >= 13) {
    out = out.replace(DIGIT_RUN, (run) => {
      const masked = maskCardNumbers(run, noop);
      return masked === run ? run : escapeStars(masked);
    });
  }
  if (config.maskEmails && out.includes('@')) {
    // A word that holds an `@` with something on both sides is read as an
    // address; the word as a whole, so that a wildcard or field prefix
    // around it stays with it. (The former `[^…]+@[^…]+` retried the rest of
    // the word from every start: a long word without `@` was quadratic.)
    out = out.replace(WORD, (word) => {
      const at = word.indexOf('@', 1);
      if (at < 0 || at > word.length - 2) return word;
      const masked = maskEmails(word, noop);
      return masked === word ? word : escapeStars(masked);
    });
  }
  return out;
}
