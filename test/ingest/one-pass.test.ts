/**
 * Differential test of the one-pass prepare (src/ingest/event-row-writer.ts
 * behind Normalizer.prepareRow and prepareEvents): on every corpus, each
 * event's row line (or rejection), the rejections of whole bodies and the
 * redaction counts equal those of the former chain (former-chain.ts, the
 * old code kept here): redactEvent → normalizeEvent → markRedactions →
 * toRowLine.
 * Corpora: the bench's payment and API-request events, the demo shop's
 * traffic, the privacy fuzz corpus (good, poisoned and bad lines), planted
 * cards and secrets, hand-written edge cases and seeded random events made
 * of risky keys and values, each under several privacy configurations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiRequestEvent, paymentEvent } from '../../bench/events.ts';
import { loadConfig } from '../../src/config.ts';
import { toRawEvent } from '../../src/demo/demo-event.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import { EventRowWriter } from '../../src/ingest/event-row-writer.ts';
import { prepareEvents } from '../../src/ingest/events-ndjson.ts';
import { parseTimestamp } from '../../src/ingest/normalize.ts';
import { Normalizer, type IngestContext } from '../../src/ingest/normalizer.ts';
import { privacyConfigSchema, type PrivacyConfig } from '../../src/privacy/privacy-config.ts';
import { Redactor } from '../../src/privacy/redactor.ts';
import { mulberry32 } from '../helpers/rng.ts';
import { FuzzCorpus } from '../privacy/fuzz-corpus.ts';
import { CARDS, grouped, PHRASES, SECRETS } from '../privacy/plants.ts';
import { formerPrepareEvents, formerRow } from './former-chain.ts';

const INGEST = loadConfig({ env: {}, flags: {} }).ingest;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const CTX: IngestContext = { tenant: 'acme', receivedAtMs: NOW };

const CONFIGS: Record<string, PrivacyConfig> = {
  default: privacyConfigSchema.parse({}),
  'IPs truncated, e-mails kept': privacyConfigSchema.parse({ truncateIps: true, maskEmails: false }),
  'drop, exempt and mask patterns': privacyConfigSchema.parse({
    truncateIps: true,
    dropFields: ['ssn', 'customer.birth_date', '*.national_id'],
    exemptFields: ['debug.*', 'support'],
    maskPatterns: [{ name: 'iban', regex: '\\bDE\\d{20}\\b' }],
  }),
};

function bench(n: number): string[] {
  const random = mulberry32(42);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    out.push(paymentEvent(i, NOW - ((random() * 3_600_000) | 0), random));
    out.push(apiRequestEvent(i, NOW - ((random() * 3_600_000) | 0), random));
  }
  return out.map((e) => JSON.stringify(e));
}

function demo(): string[] {
  const sim = new ShopSimulator({ seed: 11, customerCount: 300, trafficScale: 3, infraIntervalMs: 30_000 });
  const events = sim.eventsBetween(NOW - 20 * 60_000, NOW);
  return events.map((e) => JSON.stringify(toRawEvent(e)));
}

const CARD_TEXTS = [
  CARDS.visa16,
  grouped(CARDS.mastercard, ' '),
  grouped(CARDS.amex, '-'),
  `card ${CARDS.visa13} used`,
  `4111%201111%201111%201111`,
  CARDS.unionpay,
];
const SECRET_TEXTS = [
  `Bearer ${SECRETS.bearer}`,
  SECRETS.jwt,
  SECRETS.stripe,
  `/cart?token=${SECRETS.token}&x=1`,
  `password=${SECRETS.hunter2}`,
  PHRASES.cvv,
  'Authorization: Basic dXNlcjpwYXNzd29yZA==',
];
const PLAIN_TEXTS = [
  'ok',
  'checkout completed',
  'john.doe@gmail.com',
  'mail me at a@b.co please',
  '203.0.113.195',
  '2001:db8:85a3:8d3:1319:8a2e:370:7348',
  ' 10.1.2.3 ',
  'DE89370400440532013000',
  '2026-06-01T11:59:00.000Z',
  '2026-06-01T11:59:00',
  '1780315140000',
  'Order Completed',
  'purchase',
  'page_view',
  'financial',
  'security',
  'audit',
  'business',
  'bogus',
  'GET',
  '12.5',
  '',
  ' ',
  'x'.repeat(40),
  'time: 12:30',
  'Zürich 🛒 \u0000 \ud800',
  'token_type=bearer',
  '2025-06-28 2025-06-29 1234',
];
const KEYS = [
  'service',
  'name',
  'message',
  'token',
  'api_key',
  'x-api-key',
  'accessToken',
  'password',
  'cvv',
  'tokens_used',
  '__proto__',
  'constructor',
  'prototype',
  'a.b',
  'a',
  'b',
  '',
  '0',
  '7',
  'tenant',
  'tenant.sent',
  'data_class',
  'privacy',
  'redacted',
  'privacy.redacted',
  'event',
  'type',
  'event.type',
  'event.category',
  '@timestamp',
  'timestamp',
  'ip',
  'client',
  'security',
  'ip_address',
  'session_id',
  'user',
  'id',
  'session',
  'error',
  'exception',
  'amount',
  'transaction',
  'tags',
  'http',
  'status_code',
  'service.name',
  'debug',
  'support',
  'customer',
  'birth_date',
  'ssn',
  'national_id',
  'email',
  `k${CARDS.visaTest}`,
  'john@example.com',
  'key%20name',
  'event_name',
  'params',
];

function randomValue(r: () => number, depth: number): unknown {
  const x = r();
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;
  if (x < 0.3) return pick(PLAIN_TEXTS);
  if (x < 0.4) return pick(CARD_TEXTS);
  if (x < 0.48) return pick(SECRET_TEXTS);
  if (x < 0.6)
    return pick([0, -0, 1, 12.5, 200, 503, 2_147_483_648, 1e300, Infinity, NOW, NOW * 1000, 4111111111111111, 4e18]);
  if (x < 0.65) return pick([true, false, null]);
  if (x < 0.78 || depth > 4) {
    const n = Math.floor(r() * 4);
    return Array.from({ length: n }, () => (r() < 0.2 && depth < 6 ? randomObject(r, depth + 1) : randomValue(r, 9)));
  }
  return randomObject(r, depth + 1);
}

function randomObject(r: () => number, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const n = 1 + Math.floor(r() * (depth === 0 ? 8 : 4));
  for (let i = 0; i < n; i++) {
    const key = KEYS[Math.floor(r() * KEYS.length)] as string;
    Object.defineProperty(out, key, {
      value: randomValue(r, depth),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Seeded random events as JSON text (so `__proto__` keys are own data keys once parsed). */
function randomEvents(seed: number, n: number): string[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const event = randomObject(r, 0);
    if (r() < 0.7) event['@timestamp'] = new Date(NOW - r() * 86_400_000).toISOString();
    return JSON.stringify(event);
  });
}

/** Hand-written lines for the shapes the random events reach rarely. */
const EDGE_LINES = [
  '{"a.b":1,"a":{"b":2}}',
  '{"a":{"b":2},"a.b":1}',
  '{"":{"1":"x","b":2},"c":3}',
  '{"":{"a":{"b":1}}}',
  '{"b":1,"2":2,"a":3,"1":4}',
  '{"tenant":"other","tenant.sent":"x"}',
  '{"tenant":["a","b"],"x":1}',
  '{"event.type":"Order Completed","event.type_original":"x"}',
  '{"event.type":"Order Completed"}',
  '{"privacy.redacted":["card_number"],"m":"4111111111111111"}',
  '{"privacy.redacted":"4111111111111111"}',
  '{"privacy":{"redacted":{"x":1}}}',
  '{"data_class":"audit","event.category":"financial"}',
  '{"data_class":"4111111111111111"}',
  '{"data_class":["audit"]}',
  '{"data_class":{"x":"audit"}}',
  '{"event":{"category":"authentication","type":"signed_in"}}',
  '{"event":"Order Completed","properties":{"total":5,"token":"abc"},"userId":"u1"}',
  '{"event":4111111111111111,"type":"track"}',
  '{"name":"purchase","params":{"value":5}}',
  '{"event_name":"purchase","user_id":"u"}',
  '{"tags":[{"password":"p","ok":1,"__proto__":{"x":1}},[{"token":"t"}],null,4111111111111111]}',
  '{"security":{"fraud_indicators":["a","4111111111111111",4111111111111111,true]}}',
  '{"security":{"fraud_indicators":[{"a":1}]}}',
  '{"security.fraud_indicators":"one","security":{"fraud_indicators":["two"]}}',
  '{"user":{"session_id":"s1"},"security":{"session_id":"s2"}}',
  '{"timestamp":"2026-06-01T11:00:00Z","@timestamp":"2026-06-01T11:30:00Z","time":[1]}',
  '{"@timestamp":"2036-06-01T11:00:00Z"}',
  '{"@timestamp":"1990-06-01T11:00:00Z"}',
  '{"@timestamp":[1,2]}',
  '{"exception":{"type":"TypeError","message":"x is undefined at 12:34"},"service":{"name":"web"}}',
  '{"error":{"type":"E","fingerprint":"mine"}}',
  '{"error.type":"E","message":"order 123 failed"}',
  '{"http":{"response":{"status_code":"404"}},"transaction":{"amount":"12.50"}}',
  '{"http":{"response":{"status_code":3000000000}}}',
  '{"transaction":{"amount":"4111111111111111"}}',
  '{"client":{"ip":"203.0.113.195"},"source":{"ip":" 10.1.2.3 "},"debug":{"ip":"10.9.9.9","mail":"a@b.co"}}',
  '{"customer":{"birth_date":"2000-01-01","national_id":"X"},"x":{"national_id":"Y"},"ssn":"1"}',
  '{"support":{"note":"john.doe@gmail.com DE89370400440532013000 4111111111111111"}}',
  '{"iban":"DE89370400440532013000"}',
  `{"a":${'{"a":'.repeat(19)}1${'}'.repeat(19)}}`,
  `{"a":${'{"a":'.repeat(18)}1${'}'.repeat(18)}}`,
  `{"a":${'{"a":'.repeat(18)}null${'}'.repeat(18)}}`,
  `{"a":${'{"a":'.repeat(18)}[1]${'}'.repeat(18)}}`,
  `{"${'a.'.repeat(19)}a":1}`,
  `{"${'a.'.repeat(18)}a":1}`,
  `{"${'a.'.repeat(19)}a":null}`,
  `{"t":${'['.repeat(27)}1${']'.repeat(27)}}`,
  `{"t":${'['.repeat(28)}1${']'.repeat(28)}}`,
  `{"token":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`,
  `{${Array.from({ length: 1001 }, (_, i) => `"f${i}":${i}`).join(',')}}`,
  `{${Array.from({ length: 1000 }, (_, i) => `"f${i}":${i}`).join(',')}}`,
  `{${Array.from({ length: 200 }, (_, i) => `"token_${i}":${i}`).join(',')}}`,
  '{"big":1e400,"n":-1e309,"z":-0}',
  '{"u":"\\ud800 lone","\\udfff":1}',
  '{"\\u00e9t\\u00e9":"\\u2028\\u2029"}',
  '{"m":"a@b.co","n":"key%20name=%40x"}',
  `{"k${CARDS.visaTest}":1}`,
  '{"x":{"k4111111111111111":1}}',
  '{"tags":[{"k4111111111111111":1}]}',
  '{"service":"a","service":"b"}',
  '{"constructor":{"prototype":{"polluted":"yes"}},"__proto__":{"polluted":"yes"},"hasOwnProperty":"x"}',
  '[]',
  '42',
  'null',
  '"str"',
  '{}',
];

/** Each JSON line is parsed twice: the chain redacts its event in place. */
function compareEvents(name: string, lines: readonly string[], privacy: PrivacyConfig): void {
  const former = new Normalizer(INGEST, privacy);
  const onePass = new Normalizer(INGEST, privacy);
  lines.forEach((line, i) => {
    const got = onePass.prepareRow(JSON.parse(line), CTX, !line.includes('\\'));
    const want = formerRow(former, JSON.parse(line), CTX);
    assert.deepEqual(got, want, `${name}, event ${i}: ${line.slice(0, 300)}`);
  });
  assert.deepEqual(onePass.takeRedactionCounts(), former.takeRedactionCounts(), `${name}: redaction counts`);
}

function compareBody(name: string, body: Buffer, privacy: PrivacyConfig, contentType = 'application/x-ndjson'): void {
  const got = prepareEvents(new Normalizer(INGEST, privacy), body, contentType, CTX);
  const want = formerPrepareEvents(new Normalizer(INGEST, privacy), body, contentType, CTX);
  assert.deepEqual(got, want, name);
}

/** Share of events the one pass writes itself (the rest go to the chain). */
function onePassShare(lines: readonly string[]): number {
  const writer = new EventRowWriter(new Redactor(), {
    maxDepth: INGEST.maxDepth,
    maxFields: INGEST.maxFields,
    maxFutureSkewMs: INGEST.maxFutureSkew,
    maxPastAgeMs: INGEST.maxPastAge,
  });
  let written = 0;
  for (const line of lines) if (writer.write(JSON.parse(line), CTX.tenant, CTX.receivedAtMs) !== undefined) written++;
  return written / lines.length;
}

describe('one pass per event: the same rows, rejections and counts as the former chain', () => {
  const benchEvents = bench(500);
  const demoEvents = demo();

  for (const [configName, privacy] of Object.entries(CONFIGS)) {
    it(`bench payment and API-request events (${configName})`, () => compareEvents('bench', benchEvents, privacy));
    it(`the demo shop's traffic (${configName})`, () => compareEvents('demo', demoEvents, privacy));
    it(`hand-written edge cases (${configName})`, () => compareEvents('edge', EDGE_LINES, privacy));
    it(`seeded random events of risky keys and values (${configName})`, () =>
      compareEvents('random', randomEvents(7, 4000), privacy));
  }

  it('the bench and demo events are written by the one pass itself, not handed to the chain', () => {
    assert.equal(onePassShare(benchEvents), 1);
    assert.ok(demoEvents.length > 1000, `${demoEvents.length} demo events`);
    assert.ok(onePassShare(demoEvents) > 0.95, `demo: ${onePassShare(demoEvents)}`);
  });

  it('the privacy fuzz corpus, as NDJSON bodies and JSON arrays', () => {
    const shared = { expected: new Set<string>(), proto: new Map() };
    const corpus = new FuzzCorpus(20_240_604, 64 * 1024, 'onepass', shared);
    for (let round = 0; round < 40; round++) {
      const lines: Buffer[] = [];
      for (let k = 0; k < 12; k++) {
        const x = corpus.random();
        const line = x < 0.4 ? corpus.good() : x < 0.7 ? corpus.poisoned() : corpus.bad();
        lines.push(typeof line === 'string' ? Buffer.from(line) : line);
      }
      const body = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
      for (const privacy of Object.values(CONFIGS)) compareBody(`fuzz round ${round}`, body, privacy);
      const good = lines.map(String).filter((l) => {
        try {
          JSON.parse(l);
          return l.length < 10_000;
        } catch {
          return false;
        }
      });
      compareBody(
        `fuzz round ${round} as an array`,
        Buffer.from(`[${good.join(',')}]`),
        CONFIGS.default!,
        'application/json',
      );
    }
  });

  it('edge cases and random events as one NDJSON body', () => {
    const lines = [...EDGE_LINES, ...randomEvents(8, 500)];
    for (const privacy of Object.values(CONFIGS)) compareBody('edge body', Buffer.from(lines.join('\n')), privacy);
  });
});

describe('timestamps of the ISO form shippers write', () => {
  it('read as Date.parse reads them, valid or not', () => {
    const r = mulberry32(99);
    const two = (n: number): string => String(n).padStart(2, '0');
    for (let i = 0; i < 20_000; i++) {
      const year = [50, 999, 1000, 1969, 1970, 2024, 2026, 9999][Math.floor(r() * 8)] as number;
      const fields = [
        String(year).padStart(4, '0'),
        two(Math.floor(r() * 14)),
        two(Math.floor(r() * 33)),
        two(Math.floor(r() * 26)),
        two(Math.floor(r() * 61)),
        two(Math.floor(r() * 61)),
        String(Math.floor(r() * 1000)).padStart(3, '0'),
      ];
      let text = `${fields[0]}-${fields[1]}-${fields[2]}T${fields[3]}:${fields[4]}:${fields[5]}.${fields[6]}Z`;
      if (r() < 0.1) {
        const at = Math.floor(r() * text.length);
        text = text.slice(0, at) + 'x1-:.TZ '[Math.floor(r() * 8)] + text.slice(at + 1);
      }
      const ms = Date.parse(text);
      let got: number | string;
      try {
        got = parseTimestamp(text, '@timestamp');
      } catch {
        got = 'rejected';
      }
      const want = Number.isNaN(ms) || /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? undefined : Math.round(ms * 1000);
      if (want !== undefined) assert.equal(got, want, text);
      else if (Number.isNaN(ms)) assert.equal(got, 'rejected', text);
    }
  });
});
