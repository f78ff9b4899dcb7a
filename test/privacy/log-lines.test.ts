import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactingDestination } from '../../src/privacy/log-redaction.ts';

function writeThrough(line: string): string {
  const out: string[] = [];
  const destination = redactingDestination({
    write: (s: string) => {
      out.push(s);
      return true;
    },
  } as unknown as NodeJS.WritableStream);
  destination.write(line);
  return out.join('');
}

describe('log lines', () => {
  it('stay valid JSON when a number looks like a card, and still lose the card', () => {
    // The fraction's digits are a Luhn-valid Visa number: masking them as text would break the JSON.
    const line = `${JSON.stringify({ responseTime: 0.4111111111111111, msg: 'paid with 4111-1111-1111-1111', level: 30 })}\n`;
    const written = writeThrough(line);
    const parsed = JSON.parse(written) as Record<string, unknown>;
    assert.equal(parsed['responseTime'], 0.4111111111111111);
    assert.equal(parsed['msg'], 'paid with ****-****-****-1111');
    assert.ok(!written.includes('4111-1111-1111-1111'));
  });

  it('mask a card number logged as a JSON integer', () => {
    const written = writeThrough(`${JSON.stringify({ card: 4111111111111111, level: 30 })}\n`);
    assert.ok(!written.includes('4111111111111111'));
    assert.doesNotThrow(() => JSON.parse(written));
  });
});
