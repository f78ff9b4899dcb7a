/**
 * Every scan of client text grows linearly with the text (issue 11 items 2
 * and 21): each scanner runs on a pathological input of n and of 16n
 * characters, and 16 times the input must cost well under 256 times the
 * time (what a quadratic scan costs; the former patterns measured more).
 * This compares a scan with itself on one machine, best of several rounds,
 * so a slow or busy machine slows both sides alike; no absolute time is
 * asserted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Silence } from '../../src/alerts/alert-model.ts';
import { silencedBy } from '../../src/alerts/silences.ts';
import { maskCardNumbers } from '../../src/privacy/card-numbers.ts';
import { privacyConfigSchema } from '../../src/privacy/privacy-config.ts';
import { maskQueryText } from '../../src/privacy/query-text.ts';
import { Redactor } from '../../src/privacy/redactor.ts';
import { maskEmails } from '../../src/privacy/text-patterns.ts';
import { compileNamePattern } from '../../src/schema/name-pattern.ts';

const N = 2048;
const FACTOR = 16;
/** Ratio allowed for 16× the input: linear is ~16, quadratic ~256 (room for a busy machine). */
const MAX_RATIO = 100;

/** Milliseconds per call over one round of at least 3 ms. */
function round(call: () => unknown): number {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    call();
    calls++;
    elapsed = performance.now() - start;
  } while (elapsed < 3);
  return elapsed / calls;
}

function assertLinear(make: (n: number) => string, scan: (text: string) => unknown, n = N): void {
  const small = make(n);
  const large = make(FACTOR * n);
  scan(small); // warm up (JIT, caches)
  // Rounds alternate between the two sizes, so that a busy moment slows both; the best round of each counts.
  let bestSmall = Infinity;
  let bestLarge = Infinity;
  const start = performance.now();
  for (let i = 0; i < 9 && (i < 3 || performance.now() - start < 400); i++) {
    bestSmall = Math.min(
      bestSmall,
      round(() => scan(small)),
    );
    bestLarge = Math.min(
      bestLarge,
      round(() => scan(large)),
    );
  }
  const ratio = bestLarge / bestSmall;
  assert.ok(
    ratio < MAX_RATIO,
    `${FACTOR}× the input (${large.length} characters) took ${ratio.toFixed(1)}× the time (linear ≈ ${FACTOR}, quadratic ≈ ${FACTOR * FACTOR})`,
  );
}

const redactor = new Redactor();
const noop = (): void => {};

describe('redaction of client text is linear in its length', () => {
  const cases: [string, (n: number) => string, (text: string) => unknown, number?][] = [
    ['an e-mail local part without a domain (`aaaa…@`)', (n) => `${'a'.repeat(n)}@`, (t) => maskEmails(t, noop)],
    [
      'an e-mail domain without a top-level domain (`a@b.c1.c1…`)',
      (n) => `a@b${'.c1'.repeat(n / 3)}`,
      (t) => maskEmails(t, noop),
    ],
    ['a URL ending in `@`, through the redactor', (n) => `/x?${'a'.repeat(n)}@`, (t) => redactor.redactText(t)],
    [
      'a key=value chain `a:a:a:…` next to a secret word',
      (n) => `token ${'a:'.repeat(n / 2)}`,
      (t) => redactor.redactText(t),
      // Many short keys: the fixed cost per key hides the quadratic part below a few thousand characters.
      4 * N,
    ],
    [
      'a key=value chain `a=a=a=…` next to a secret word',
      (n) => `password ${'a='.repeat(n / 2)}`,
      (t) => redactor.redactText(t),
      4 * N,
    ],
    ['JWT-like runs `eyJ-eyJ-…`', (n) => `x ${'eyJ-'.repeat(n / 4)}`, (t) => redactor.redactText(t)],
    [
      'a JWT header then `eyJ-eyJ-…` without a signature',
      (n) => `eyJaaaaaaaa.${'eyJ-'.repeat(n / 4)}`,
      (t) => redactor.redactText(t),
    ],
    [
      'API keys inside one long JWT-like run, each ending before it does',
      (n) => `${'xoxb-aaaaaaaaaa-eyJ_-'.repeat(n / 21)}.bbbbbbbb.c`,
      (t) => redactor.redactText(t),
    ],
    ['a digit run (card scan)', (n) => '4'.repeat(n), (t) => maskCardNumbers(t)],
    ['card numbers with spaces, repeated', (n) => '4111 1111 1111 1111 '.repeat(n / 20), (t) => maskCardNumbers(t)],
    ['one-digit groups `1 1 1 …`', (n) => '1 '.repeat(n / 2), (t) => maskCardNumbers(t)],
    ['a full-width digit run (second card scan)', (n) => '\uff14'.repeat(n), (t) => maskCardNumbers(t)],
    ['dotted card numbers, one run', (n) => '4111.1111.1111.1111.'.repeat(n / 20), (t) => maskCardNumbers(t)],
    ['one-digit groups with dots `1.1.1.…`', (n) => '1.'.repeat(n / 2), (t) => maskCardNumbers(t)],
    ['glued cards `4111…1111123;`, repeated', (n) => '4111111111111111123;'.repeat(n / 20), (t) => maskCardNumbers(t)],
    ['cards in hex-and-dash runs', (n) => 'beef-4111111111111111-'.repeat(n / 22), (t) => maskCardNumbers(t)],
    ['query text: dotted digits', (n) => '4111.1111/'.repeat(n / 10), (t) => maskQueryText(t, { maskEmails: true })],
    ['query text: `x` repeated', (n) => 'x'.repeat(n), (t) => maskQueryText(t, { maskEmails: true })],
    ['query text: a digit run', (n) => '4'.repeat(n), (t) => maskQueryText(t, { maskEmails: true })],
    ['query text: separated digits', (n) => '4111-1111 '.repeat(n / 10), (t) => maskQueryText(t, { maskEmails: true })],
    ['an all-capitals field name', (n) => 'A'.repeat(n), (t) => new Redactor().redactEvent({ [t]: 1 })],
  ];
  for (const [name, make, scan, n] of cases) it(name, () => assertLinear(make, scan, n));

  it('a configured privacy.maskPatterns pattern (`\\d+x`) on a long digit run', () => {
    const custom = new Redactor(privacyConfigSchema.parse({ maskPatterns: [{ name: 'x', regex: '\\d+x' }] }));
    assertLinear(
      (n) => '1'.repeat(n),
      (t) => custom.redactText(t),
    );
  });

  it('a silence matcher (`=~ ".*.*=.*"`) on a long label value from event data', () => {
    const silence: Silence = {
      id: 's',
      matchers: [{ name: 'message', op: '=~', value: '.*.*=.*' }],
      startsAt: '2020-01-01T00:00:00Z',
      endsAt: '2100-01-01T00:00:00Z',
      comment: 'x',
      createdBy: 'test',
    };
    const now = Date.parse('2026-01-01T00:00:00Z');
    assertLinear(
      (n) => 'x'.repeat(n),
      (t) => silencedBy([silence], { message: t }, now),
    );
  });

  it('a configured field pattern (`privacy.dropFields: [*.*.*.secretx]`) on a long dotted field name', () => {
    const pattern = compileNamePattern('*.*.*.secretx');
    assertLinear(
      (n) => `${'a.'.repeat(n / 2)}secret`,
      (name) => pattern.test(name),
      256,
    );
  });

  it('an event with thousands of secret-named fields to drop (`token_0 … token_N`)', () => {
    const redactor = new Redactor(privacyConfigSchema.parse({}));
    const make = (n: number) => {
      const event: Record<string, string> = { message: 'x' };
      for (let i = 0; event.message!.length + i * 12 < n; i++) event[`token_${i}`] = 'v';
      return JSON.stringify(event);
    };
    const r = redactor.redactEvent(JSON.parse(make(20_000)));
    assert.ok(r.ok && r.marker !== undefined);
    if (r.ok) assert.equal(r.marker!.at(-1), 'field:(more)', 'the marker sums up past 64 dropped fields');
    assertLinear(make, (text) => redactor.redactEvent(JSON.parse(text)), 8192);
  });
});
