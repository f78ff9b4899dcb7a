/**
 * Silences and maintenance windows: label matchers with a start and an end.
 * A silenced alert still fires and is recorded; it is only not notified.
 */
import type { Silence, SilenceMatcher } from './alert-model.ts';

function matcherMatches(m: SilenceMatcher, labels: Readonly<Record<string, string>>): boolean {
  const value = labels[m.name] ?? '';
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return new RegExp(`^(?:${m.value})$`).test(value);
    case '!~':
      return !new RegExp(`^(?:${m.value})$`).test(value);
  }
}

/** The silence is in force at `nowMs`. */
export function isActive(silence: Silence, nowMs: number): boolean {
  return Date.parse(silence.startsAt) <= nowMs && nowMs < Date.parse(silence.endsAt);
}

/** The active silence that mutes these labels, if any. */
export function silencedBy(
  silences: readonly Silence[],
  labels: Readonly<Record<string, string>>,
  nowMs: number,
): Silence | undefined {
  return silences.find((s) => isActive(s, nowMs) && s.matchers.every((m) => matcherMatches(m, labels)));
}

/** Checks a matcher's regular expression; throws a message naming it. */
export function checkMatcher(m: SilenceMatcher): void {
  if (m.op === '=~' || m.op === '!~') {
    try {
      new RegExp(m.value);
    } catch (err) {
      throw new Error(`matcher ${m.name}${m.op}"${m.value}": ${(err as Error).message}`);
    }
  }
}
