/**
 * Shoplens's own logs never hold a card number, secret or token: every log
 * line is redacted as text before it reaches its destination (whatever
 * logged it: a request line, an error with its stack, a warning), and
 * request URLs are logged decoded and redacted (`?token=…`, a card number
 * in a path, percent-encoded or not).
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

/** A request URL for the log: redacted in its decoded form when decoding reveals something. */
export function redactUrl(url: string): string {
  return logRedactor.redactText(url);
}
