/**
 * Shoplens's own logs never hold a card number, secret or token: every log
 * line is redacted as text before it reaches its destination (whatever
 * logged it: a request line, an error with its stack, a warning), and
 * request URLs are logged decoded and redacted (`?token=…`, a card number
 * in a path, percent-encoded or not) and cut to MAX_LOGGED_URL_CHARS.
 */
import { Redactor } from './redactor.ts';

const logRedactor = new Redactor();

/** Redacts one piece of text for a log line or an error message (default privacy settings). */
export function redactMessage(text: string): string {
  return logRedactor.redactText(text);
}

/** A destination that redacts each line before writing it to `target`. */
export function redactingDestination(target: NodeJS.WritableStream): { write(line: string): boolean } {
  return {
    write(line: string): boolean {
      const redacted = logRedactor.redactText(line);
      if (redacted === line || !line.startsWith('{')) return target.write(redacted);
      // Text masking can cut into a JSON number (a long float's digits can look like a card)
      // and break the line; then redact the parsed line value by value, which keeps it JSON.
      try {
        JSON.parse(redacted);
        return target.write(redacted);
      } catch {
        try {
          const result = logRedactor.redactEvent(JSON.parse(line));
          if (result.ok) return target.write(`${JSON.stringify(result.value)}\n`);
        } catch {
          // not JSON after all: the text form it is
        }
        return target.write(redacted);
      }
    },
  };
}

/** Longest request URL logged whole (characters); the rest of a longer one is not logged. */
export const MAX_LOGGED_URL_CHARS = 2048;

/**
 * True for a character that can be part of something the redactor masks in
 * text: a card number, an e-mail address, a token (`[A-Za-z0-9._~+/=%@-]`,
 * white space, anything beyond ASCII) or a percent-encoded one of those.
 */
function mayBePartOfSecret(code: number): boolean {
  return (
    code > 127 ||
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    '._~+/=%@- \t\n\r\f\v'.includes(String.fromCharCode(code))
  );
}

/**
 * A request URL for the log, redacted. A URL longer than `maxChars` is cut
 * before it is scanned (it comes before authentication, from anyone), and
 * the cut never splits a secret: when it falls inside a run of characters
 * that could belong to one (a card number, a token, `%20`-encoded text), the
 * whole run goes with the dropped part. What a key=value secret keeps
 * (`token=ab`) is still redacted whole. The log says how much was dropped:
 * `/x?a=1&…[13312 more characters not logged]`.
 */
export function redactUrl(url: string, maxChars = MAX_LOGGED_URL_CHARS): string {
  if (url.length <= maxChars) return logRedactor.redactText(url);
  let cut = maxChars;
  if (mayBePartOfSecret(url.charCodeAt(cut))) {
    while (cut > 0 && mayBePartOfSecret(url.charCodeAt(cut - 1))) cut--;
  }
  return `${logRedactor.redactText(url.slice(0, cut))}…[${url.length - cut} more characters not logged]`;
}
