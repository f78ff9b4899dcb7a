/**
 * Card numbers in evasive shapes: digits of other scripts (full-width,
 * Arabic-Indic, Devanagari, mathematical …), separators other than space
 * and dash (dots, slashes, underscores, plus, no-break and thin spaces, en
 * and em dashes, mixed), cards glued to more digits. Every one is masked to
 * its last four digits with its own characters kept; the expected text is
 * computed here from the input (every `\p{Nd}` character but the last four
 * becomes `*`), and the brand table is card-reference.ts's, not the
 * scanner's. And the other side: a corpus of 200+ realistic strings that
 * are not cards (decimals, prices, IPs, dates, phones, ISBNs, order ids, URL
 * paths, UUIDs, trace ids, timestamps, versions, SKUs) comes out unchanged,
 * through the function and through a real server (NDJSON ingest, query
 * API), whose data directory holds none of the cards' digits afterwards.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DIGIT_BLOCKS, luhnValid, maskCardNumbers } from '../../src/privacy/card-numbers.ts';
import { maskQueryText } from '../../src/privacy/query-text.ts';
import { Redactor } from '../../src/privacy/redactor.ts';
import { mulberry32 } from '../helpers/rng.ts';
import { post, query, startTestServer, type TestServer } from '../helpers/server.ts';
import { referenceBrandCard } from './card-reference.ts';
import { CARDS, withCheckDigit } from './plants.ts';

/** The zero of each script the shapes are written in (astral ones are two UTF-16 units a digit). */
const SCRIPTS: Record<string, number> = {
  ascii: 0x30,
  'full-width': 0xff10,
  'Arabic-Indic': 0x660,
  'extended Arabic-Indic': 0x6f0,
  Devanagari: 0x966,
  Bengali: 0x9e6,
  Thai: 0xe50,
  'mathematical bold': 0x1d7ce,
  'mathematical monospace': 0x1d7f6,
};

const SEPARATORS: Record<string, string> = {
  dot: '.',
  slash: '/',
  underscore: '_',
  plus: '+',
  'no-break space': '\u00a0',
  'thin space': '\u2009',
  'narrow no-break space': '\u202f',
  'en dash': '\u2013',
  'em dash': '\u2014',
  'ideographic space': '\u3000',
  'full-width full stop': '\uff0e',
  space: ' ',
  dash: '-',
};

/** How cards are printed, by length. */
const GROUPINGS: Record<number, number[]> = { 14: [4, 6, 4], 15: [4, 6, 5], 16: [4, 4, 4, 4], 19: [4, 4, 4, 4, 3] };

/** Brand cards of every printed length (13-digit Visa has no printed grouping). */
const BRAND_CARDS = Object.entries(CARDS).filter(([, d]) => GROUPINGS[d.length] !== undefined);

function inScript(ascii: string, zero: number): string {
  return [...ascii].map((ch) => (/\d/.test(ch) ? String.fromCodePoint(zero + Number(ch)) : ch)).join('');
}

/** `digits` in groups of `sizes`, the separators taken in turn from `seps`. */
function groupedBy(digits: string, sizes: readonly number[], seps: readonly string[]): string {
  const chars = [...digits]; // code points: a mathematical digit is two UTF-16 units
  const parts: string[] = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(chars.slice(at, at + size).join(''));
    at += size;
  }
  return parts.reduce((out, part, i) => (i === 0 ? part : `${out}${seps[(i - 1) % seps.length] as string}${part}`));
}

/** Every decimal digit (any script) but the last four becomes `*`. */
function expectedMask(text: string): string {
  const chars = [...text];
  const digitCount = chars.filter((c) => /\p{Nd}/u.test(c)).length;
  let seen = 0;
  return chars
    .map((c) => {
      if (!/\p{Nd}/u.test(c)) return c;
      seen++;
      return seen <= digitCount - 4 ? '*' : c;
    })
    .join('');
}

/** Digits of any script as ASCII, everything else dropped. */
function digitsOf(text: string): string {
  let out = '';
  for (const c of text) {
    if (c >= '0' && c <= '9') {
      out += c;
      continue;
    }
    if (c < '\u0080' || !/\p{Nd}/u.test(c)) continue;
    const cp = c.codePointAt(0) as number;
    let zero = cp;
    while (/\p{Nd}/u.test(String.fromCodePoint(zero - 1)) && cp - zero < 9) zero--;
    out += String(cp - zero);
  }
  return out;
}

/** Every evasive shape of every brand card: [label, text, the card's digits]. */
function evasiveShapes(): [string, string, string][] {
  const out: [string, string, string][] = [];
  const random = mulberry32(777);
  const sepList = Object.values(SEPARATORS);
  for (const [brand, digits] of BRAND_CARDS) {
    const sizes = GROUPINGS[digits.length] as number[];
    for (const [script, zero] of Object.entries(SCRIPTS)) {
      const written = inScript(digits, zero);
      for (const [sepName, sep] of Object.entries(SEPARATORS))
        out.push([`${brand} ${script} ${sepName}`, groupedBy(written, sizes, [sep]), digits]);
      const mixed = Array.from({ length: 4 }, () => sepList[Math.floor(random() * sepList.length)] as string);
      out.push([`${brand} ${script} mixed ${JSON.stringify(mixed)}`, groupedBy(written, sizes, mixed), digits]);
      if (script !== 'ascii') out.push([`${brand} ${script} unseparated`, written, digits]);
    }
    out.push([`${brand} dot, en dash, NBSP, slash`, groupedBy(digits, sizes, ['.', '\u2013', '\u00a0', '/']), digits]);
  }
  return out;
}

describe('card numbers in evasive shapes are masked, their own characters kept', () => {
  it("knows every decimal digit of the BMP (DIGIT_BLOCKS against the engine's \\p{Nd})", () => {
    const listed = new Set(DIGIT_BLOCKS.flatMap((zero) => Array.from({ length: 10 }, (_, v) => zero + v)));
    for (let c = 0; c < 0x10000; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      assert.equal(listed.has(c), /\p{Nd}/u.test(String.fromCharCode(c)), `U+${c.toString(16)}`);
    }
  });

  it('every brand, script and separator, alone and in text', () => {
    const shapes = evasiveShapes();
    assert.ok(shapes.length > 1000, `${shapes.length} shapes`);
    for (const [label, shape, digits] of shapes) {
      assert.ok(referenceBrandCard(digits), `${label}: a brand card`);
      for (const text of [shape, `card ${shape} declined`, `{"pan":"${shape}","ok":1}`]) {
        const masked = maskCardNumbers(text);
        assert.equal(masked, text.replace(shape, expectedMask(shape)), `${label}: ${JSON.stringify(text)}`);
        assert.ok(!digitsOf(masked).includes(digits.slice(0, 12)), label);
      }
    }
  });

  it('query text: a search for an evasive shape is masked as stored, with literal stars', () => {
    for (const [label, shape] of evasiveShapes().filter((_, i) => i % 7 === 0)) {
      const q = `message:"card ${shape} declined"`;
      const want = `message:"card ${expectedMask(shape).replace(/\*/g, '\\*')} declined"`;
      assert.equal(maskQueryText(q, { maskEmails: true }), want, label);
    }
    for (const text of falsePositiveCorpus().filter((t) => !t.includes('"')))
      assert.equal(maskQueryText(`message:"${text}"`, { maskEmails: false }), `message:"${text}"`, text);
  });

  it('a card with a CVV, an expiry or both glued after it, or zeros before it, in any script', () => {
    const cases: [string, string, string][] = [];
    for (const [brand, digits] of Object.entries(CARDS)) {
      for (const extra of ['123', '7', '1228', '122845', '9876'])
        cases.push([`${brand}+${extra}`, digits + extra, digits]);
      cases.push([`000+${brand}`, `000${digits}`, digits]);
    }
    for (const [label, ascii, card] of cases) {
      for (const zero of [0x30, 0xff10, 0x660]) {
        const text = `pan_cvv=${inScript(ascii, zero)};`;
        const masked = maskCardNumbers(text);
        assert.ok(masked !== text, `${label} in U+${zero.toString(16)} masked`);
        assert.ok(referenceBrandCard(card), `${label}: ${card} is the card`);
        // Only the card's last four digits (and padding zeros) remain; a glued CVV is masked with the card.
        // (A run of 13–19 digits that is a card as a whole by the plain rules is masked as one card.)
        const whole = ascii.length <= 19 && /^[2-69]/.test(ascii) && luhnValid(ascii);
        const left = digitsOf(masked);
        if (whole) assert.equal(left, ascii.slice(-4), label);
        else if (ascii.startsWith('000')) assert.equal(left, `000${card.slice(-4)}`, label);
        else {
          // The longest brand card at the start is taken (it may be a longer one than planted): 4 digits remain.
          assert.equal(left.length, 4, label);
          assert.ok(!left.includes(card.slice(0, 4)) || card.slice(-4) === left, label);
        }
      }
    }
  });

  it('stays off card-like shapes that break a rule: Luhn, grouping, brand prefix, length, ids', () => {
    const visa = CARDS.visaTest;
    const broken = `${visa.slice(0, 15)}${(Number(visa[15]) + 1) % 10}`;
    const noBrand = withCheckDigit('123456789012345'); // Luhn-valid, no brand starts with 1
    const troy = withCheckDigit('979200000000000'); // a national scheme: masked with spaces (2–6, 9), not with dots
    const texts = [
      groupedBy(broken, [4, 4, 4, 4], ['.']),
      groupedBy(inScript(broken, 0xff10), [4, 4, 4, 4], [' ']),
      groupedBy(visa, [2, 4, 4, 4, 2], ['.']),
      groupedBy(visa, [3, 3, 3, 3, 4], ['/']),
      groupedBy(visa, [8, 8], ['.']),
      groupedBy(visa, [4, 4, 4, 4], ['..']),
      groupedBy(noBrand, [4, 4, 4, 4], ['.']),
      groupedBy(troy, [4, 4, 4, 4], ['.']),
      groupedBy(CARDS.amex, [4, 4, 4, 3], ['.']), // Amex printed 4-6-5, not 4-4-4-3
      groupedBy(CARDS.visa16, [4, 6, 6], ['_']),
      `deadbeef${visa}00000000`, // a 32-character hex trace id
      `${visa.slice(0, 8)}-aaaa-${visa.slice(8, 12)}-8111-${visa.slice(0, 12)}`, // a UUID
      `9914111111111111111`, // a card after other digits is not looked for
      `${visa}1234567`, // 7 digits after: too many for a CVV and expiry
      `0.${visa}`, // a decimal fraction
    ];
    for (const text of texts) assert.equal(maskCardNumbers(text), text, JSON.stringify(text));
    assert.equal(
      maskCardNumbers(groupedBy(troy, [4, 4, 4, 4], [' '])),
      expectedMask(groupedBy(troy, [4, 4, 4, 4], [' '])),
    );
  });
});

/** 200+ realistic strings that are not cards, the same every run. */
export function falsePositiveCorpus(): string[] {
  const r = mulberry32(4242);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const digits = (n: number): string => Array.from({ length: n }, () => String(int(0, 9))).join('');
  const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdef'[int(0, 15)]).join('');
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  const thousands = (n: number, sep: string): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, sep);
  const isbn13 = (): string => {
    const body = `978${digits(9)}`;
    let sum = 0;
    for (let i = 0; i < 12; i++) sum += Number(body[i]) * (i % 2 === 0 ? 1 : 3);
    return `${body}${(10 - (sum % 10)) % 10}`;
  };
  const out: string[] = [];
  for (let i = 0; i < 20; i++) {
    out.push(`${int(0, 999)}.${digits(int(10, 17))}`); // decimals (floats printed in full)
    out.push(`${thousands(int(1_000, 9_999_999_999), '.')},${digits(2)}`); // prices 1.234.567,89
    out.push(`${thousands(int(1_000, 9_999_999_999), ',')}.${digits(2)} USD`);
    out.push(`${int(1, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}:${int(1024, 65535)}`); // IPs
    const y = int(2000, 2030);
    const mo = pad(int(1, 12), 2);
    const d = pad(int(1, 28), 2);
    out.push(`${y}/${mo}/${d} ${pad(int(0, 23), 2)}:${pad(int(0, 59), 2)}`, `${d}.${mo}.${y}`, `${y}${mo}${d}`);
    out.push(`${y}-${mo}-${d}T${pad(int(0, 23), 2)}:${pad(int(0, 59), 2)}:${pad(int(0, 59), 2)}.${digits(3)}Z`);
    out.push(`+1 (${int(201, 989)}) ${int(200, 999)}-${digits(4)}`, `+44 20 ${digits(4)} ${digits(4)}`); // phones
    out.push(
      `+49 30 ${digits(8)}`,
      `0086-138-${digits(4)}-${digits(4)}`,
      `+33 6 ${digits(2)} ${digits(2)} ${digits(2)} ${digits(2)}`,
    );
    const isbn = isbn13();
    out.push(`ISBN ${isbn}`, `${isbn.slice(0, 3)}-${isbn[3]}-${isbn.slice(4, 7)}-${isbn.slice(7, 12)}-${isbn[12]}`);
    out.push(`ORD-${digits(8)}`, `order #${digits(10)}`, `INV-${y}-${digits(6)}`); // order ids
    out.push(`/api/v1/orders/${digits(4)}/items/${digits(4)}`, `/p/${digits(9)}/reviews/${int(1, 99)}`); // URL paths
    out.push(`/cart/${digits(6)}/${digits(6)}/checkout?step=${int(1, 5)}`);
    const uuid = `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[int(0, 3)]}${hex(3)}-${hex(12)}`;
    out.push(uuid, `req ${uuid.toUpperCase()} done`, `${hex(32)}`, `traceparent 00-${hex(32)}-${hex(16)}-01`); // ids
    out.push(String(int(1_600_000_000_000, 1_900_000_000_000)), String(int(1_600_000_000, 1_900_000_000))); // epoch ms, s
    out.push(`${int(1_600_000_000_000, 1_900_000_000_000)}${digits(6)}`); // epoch ns
    out.push(`${int(0, 20)}.${int(0, 30)}.${int(0, 99)}.${int(0, 9999)}`, `v${int(1, 9)}.${int(0, 99)}.${int(0, 99)}`); // versions
    out.push(`SKU-${hex(4).toUpperCase()}-${digits(4)}`, `TSHIRT-BLK-XL-${digits(4)}`, `sku_${digits(6)}_${digits(3)}`); // SKUs
  }
  return out;
}

describe('no false positives: realistic strings that are not cards stay as they are', () => {
  const corpus = falsePositiveCorpus();

  it('through maskCardNumbers and the redactor', () => {
    assert.ok(corpus.length >= 200, `${corpus.length} strings`);
    // The corpus is near the rules: most strings have 10+ digits, many 13+ (which the scanner reads).
    const long = corpus.filter((s) => digitsOf(s).length >= 13).length;
    assert.ok(long >= 100, `${long} strings with 13+ digits`);
    const redactor = new Redactor();
    for (const text of corpus) {
      assert.equal(maskCardNumbers(text), text, JSON.stringify(text));
      const marker: string[] = [];
      assert.equal(redactor.redactText(text, marker), text, JSON.stringify(text));
      assert.deepEqual(marker, [], JSON.stringify(text));
    }
  });
});

const SEPARATOR_CHARS = new Set(Object.values(SEPARATORS));

/**
 * `text` with its digits (any script) as ASCII and the card separators
 * between them dropped, anything else kept (so that digits of unrelated
 * bytes do not run together).
 */
function normalised(text: string): string {
  let out = '';
  for (const c of text) {
    if (SEPARATOR_CHARS.has(c)) continue;
    out += c > '\u007f' && /\p{Nd}/u.test(c) ? digitsOf(c) : c;
  }
  return out;
}

/** Every file under `dir`, read as UTF-8, UTF-16 and Latin-1, normalised. */
function normalisedTree(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out += normalisedTree(path);
    else {
      const bytes = readFileSync(path);
      for (const encoding of ['utf8', 'utf16le', 'latin1'] as const) out += `${normalised(bytes.toString(encoding))}\n`;
    }
  }
  return out;
}

describe('end to end: evasive cards over NDJSON ingest never reach disk; non-cards come back unchanged', () => {
  let srv: TestServer;
  const shapes = evasiveShapes().filter((_, i) => i % 3 === 0);
  const corpus = falsePositiveCorpus();
  const now = new Date().toISOString();

  before(async () => {
    srv = await startTestServer();
  });

  after(async () => {
    await srv?.close();
  });

  it('stores the masked shapes and the corpus as sent, and no file holds a card', async () => {
    const lines = [
      ...shapes.map(([label, shape], i) =>
        JSON.stringify({
          '@timestamp': now,
          'event.id': `ev-${i}`,
          'service.name': 'evasion',
          message: `card ${shape} declined`,
          'payment.note': shape,
          label,
        }),
      ),
      ...corpus.map((text, i) =>
        JSON.stringify({ '@timestamp': now, 'event.id': `fp-${i}`, 'service.name': 'corpus', message: text }),
      ),
    ];
    for (let i = 0; i < lines.length; i += 200) {
      const r = await post(`${srv.url}/api/v1/events?refresh=wait_for`, `${lines.slice(i, i + 200).join('\n')}\n`);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.deepEqual(r.json, { accepted: Math.min(200, lines.length - i), rejected: [] });
    }

    const back = await query(srv.url, 'service.name:corpus | fields event.id, message | limit 10000');
    assert.equal(back.status, 200, JSON.stringify(back.json));
    assert.deepEqual(
      back.json.columns.map((c: { name: string }) => c.name),
      ['event.id', 'message'],
    );
    const byId = new Map<string, string>(back.json.rows.map((row: string[]) => [row[0], row[1]]));
    assert.equal(byId.size, corpus.length);
    corpus.forEach((text, i) => assert.equal(byId.get(`fp-${i}`), text, `corpus ${i}`));

    const cards = await query(
      srv.url,
      'service.name:evasion | fields event.id, payment.note, message, privacy.redacted | limit 10000',
    );
    assert.equal(cards.status, 200, JSON.stringify(cards.json));
    assert.equal(cards.json.rows.length, shapes.length);
    for (const [id, note, message, redacted] of cards.json.rows as unknown[][]) {
      const [label, shape] = shapes[Number(String(id).slice(3))] as [string, string, string];
      assert.equal(note, expectedMask(shape), label);
      assert.equal(message, `card ${expectedMask(shape)} declined`, label);
      assert.ok(JSON.stringify(redacted).includes('card_number'), label);
    }

    const logs = srv.logs();
    await srv.close({ keepData: true });
    const onDisk = normalisedTree(srv.dataDir) + normalised(logs);
    // Control: the digits of the stored corpus are in the files (the search can find what is there).
    assert.ok(onDisk.includes(normalised(corpus.find((s) => s.startsWith('ORD-')) as string)));
    const leaked = [...new Set(shapes.map(([, , digits]) => digits))].filter((d) => onDisk.includes(d.slice(0, 12)));
    assert.deepEqual(
      leaked,
      [],
      `found: ${leaked.map((d) => `${d} in ${onDisk.slice(onDisk.indexOf(d.slice(0, 12)) - 40, onDisk.indexOf(d.slice(0, 12)) + 40)}`)}`,
    );
    srv = await startTestServer({}, srv.dataDir); // for after() to remove the directory
  });
});
