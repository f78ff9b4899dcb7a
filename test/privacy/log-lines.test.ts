import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { MAX_LOGGED_URL_CHARS, redactingDestination, redactUrl } from '../../src/privacy/log-redaction.ts';
import { createLogger } from '../../src/telemetry/logger.ts';

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

describe('request URLs in the log', () => {
  function loggedUrl(url: string): string {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    createLogger('info', sink).info({ req: { method: 'GET', url } }, 'incoming request');
    const line = JSON.parse(lines.join('')) as { req: { url: string } };
    return line.req.url;
  }

  it('are cut to 2 KB before they are scanned, saying how much was dropped', () => {
    // 15 KB ending in `@`: cost 243 ms of e-mail backtracking before auth, per request.
    const url = `/api/v1/events?card=4111111111111111&q=${'a'.repeat(15_000)}@`;
    const logged = loggedUrl(url);
    assert.ok(logged.length < MAX_LOGGED_URL_CHARS + 64, `${logged.length} characters logged`);
    assert.match(logged, /^\/api\/v1\/events\?card=\*{12}1111&…\[\d+ more characters not logged\]$/);
  });

  it('never keep a piece of a secret that the cut made unrecognisable', () => {
    const secrets = [
      ['/pay/4111 1111 1111 1111/x', '4111'],
      ['/pay?n=4111%201111%201111%201111&x=1', '4111'],
      ['/pay/5500-0000-0000-0004/x', '5500'],
      ['/hook/sk_live_4eC39HqLyjWDarjtT1zdp7dc/x', 'sk_live'],
      ['/cb/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl/x', 'eyJ'],
      ['/auth?h=Bearer%20abc123def456ghi789&x=1', 'abc'],
      ['/u/john.doe@gmail.com/orders', 'doe'],
    ] as const;
    for (const [url, piece] of secrets) {
      for (let max = 0; max <= url.length; max++) {
        const kept = redactUrl(url, max).replace(/…\[\d+ more characters not logged\]$/, '');
        assert.ok(!kept.includes(piece), `${url} cut at ${max}: ${kept}`);
        assert.ok(!decodeURIComponent(kept.replace(/%(?![0-9A-Fa-f]{2})/g, '')).includes(piece), `${url} at ${max}`);
      }
      assert.equal(redactUrl(url, url.length), redactUrl(url), 'a URL within the limit is logged whole');
    }
  });
});
