/**
 * Silences and maintenance windows: label matchers with a start and an end.
 * A silenced alert still fires and is recorded; it is only not notified.
 *
 * `=~` and `!~` matchers are regular expressions in RE2 syntax (as in
 * Prometheus Alertmanager), matched against the whole label value with
 * re2js, a linear-time engine: label values come from event data, and a
 * backtracking engine would let one pattern and one long value stall the
 * event loop. Each pattern is compiled once and kept (silences are read
 * from the store for every evaluation).
 */
import { RE2JS } from 're2js';
import type { Silence, SilenceMatcher } from './alert-model.ts';

/** Compiled patterns by source, or the reason one does not compile. */
const compiled = new Map<string, RE2JS | Error>();
const MAX_COMPILED = 1000;

/** The pattern compiled for a whole-value match, or the syntax error (cached either way). */
function compilePattern(source: string): RE2JS | Error {
  let re = compiled.get(source);
  if (re === undefined) {
    try {
      // The bare pattern first: `a)|(b` is only valid once wrapped, and would then mean something else.
      RE2JS.compile(source);
      re = RE2JS.compile(`(?:${source})`);
    } catch (err) {
      re = err instanceof Error ? err : new Error(String(err));
    }
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(source, re);
  }
  return re;
}

function matcherMatches(m: SilenceMatcher, labels: Readonly<Record<string, string>>): boolean {
  const value = Object.hasOwn(labels, m.name) ? (labels[m.name] ?? '') : '';
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
    case '!~': {
      const re = compilePattern(m.value);
      // A stored pattern that RE2 rejects (saved before patterns were checked
      // as RE2) matches nothing either way: the silence does not apply and
      // the alert is notified, rather than muted by a pattern nobody can read.
      if (re instanceof Error) return false;
      return re.testExact(value) === (m.op === '=~');
    }
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

/**
 * Checks a matcher's regular expression (RE2 syntax) and compiles it for
 * later matches; throws a message naming the matcher and what is wrong,
 * e.g. `matcher service=~"a(?=b)": invalid or unsupported Perl syntax: (?=`.
 */
export function checkMatcher(m: SilenceMatcher): void {
  if (m.op !== '=~' && m.op !== '!~') return;
  const re = compilePattern(m.value);
  if (re instanceof Error) {
    const reason = re.message.replace(/^error parsing regexp: /, '');
    throw new Error(`matcher ${m.name}${m.op}"${m.value}": not a valid RE2 regular expression: ${reason}`);
  }
}
