/**
 * Sentry SDK compatibility with real peers: @sentry/node, configured as its
 * docs say with a DSN that the key API made, reports to a real Shoplens
 * server; the groups are read back through /api/v1/errors (frames, tags,
 * user, breadcrumbs, release). Then hostile and odd input on the Sentry
 * endpoints: bad items among good ones, item types Shoplens drops, prototype
 * keys, deep and huge bodies, compressed bodies, bad auth, rate limits; and
 * no planted card number or secret in any byte of the data directory.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { CARDS, findPlants, grouped, SECRETS } from '../privacy/plants.ts';

const CLIENT = new URL('./sentry-client.mjs', import.meta.url).pathname;

function readTree(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    out += statSync(path).isDirectory() ? readTree(path) : `${readFileSync(path).toString('latin1')}\n`;
  }
  return out;
}

function runClient(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENT], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const EVENT_ID = 'a'.repeat(32);

function envelope(
  items: [Record<string, unknown>, string | Buffer][],
  header: object = { event_id: EVENT_ID },
): Buffer {
  const parts: Buffer[] = [Buffer.from(`${JSON.stringify(header)}\n`)];
  for (const [h, payload] of items) {
    parts.push(
      Buffer.from(`${JSON.stringify(h)}\n`),
      Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
      Buffer.from('\n'),
    );
  }
  return Buffer.concat(parts);
}

function sentryEvent(id: string, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: id,
    timestamp: Date.now() / 1000,
    platform: 'node',
    level: 'error',
    exception: {
      values: [
        {
          type: 'ProbeError',
          value: message,
          stacktrace: { frames: [{ filename: '/app/src/probe.js', function: 'probe', lineno: 3, in_app: true }] },
        },
      ],
    },
    ...extra,
  };
}

describe('Sentry SDK compatibility', () => {
  let srv: TestServer;
  let ingestKey: string;
  let readKey: string;
  let readOnlyKey: string;
  let dsn: string;

  const api = async (path: string) => {
    const r = await fetch(`${srv.url}${path}`, { headers: { authorization: `Bearer ${readKey}` } });
    return { status: r.status, json: (await r.json()) as any };
  };
  const send = async (path: string, body: Buffer | string, headers: Record<string, string> = {}) => {
    const waited = path.includes('?') ? `${path}&refresh=wait_for` : `${path}?refresh=wait_for`;
    const r = await fetch(`${srv.url}${waited}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-sentry-envelope', ...headers },
    });
    const text = await r.text();
    let json: any = text;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: r.status, headers: r.headers, json };
  };
  const auth = () => ({ 'x-sentry-auth': `Sentry sentry_key=${ingestKey}, sentry_version=7, sentry_client=test/1.0` });

  before(async () => {
    srv = await startTestServer({ auth: 'keys' });
    const admin = await srv.server.context.keys.create({ tenant: 'shop', role: 'admin', createdBy: 'test' });
    readKey = admin.key;
    readOnlyKey = (await srv.server.context.keys.create({ tenant: 'shop', role: 'read', createdBy: 'test' })).key;
    // The key API answers the DSN of a key made for a project.
    const created = await fetch(`${srv.url}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'ingest', project: '42', name: 'checkout service (Sentry SDK)' }),
    });
    assert.equal(created.status, 201);
    const body = (await created.json()) as { key: string; dsn: string; project: string };
    ingestKey = body.key;
    dsn = body.dsn;
    const port = new URL(srv.url).port;
    assert.equal(dsn, `http://${ingestKey}@127.0.0.1:${port}/42`);
    assert.equal(body.project, '42');
  });
  after(async () => {
    await srv.close();
  });

  it('stores what @sentry/node sends: an exception with breadcrumbs, user and tags, a message, a handled and an unhandled error', async () => {
    const run = await runClient({ DSN: dsn, CARD: grouped(CARDS.visaTest, ' '), SECRET: SECRETS.password });
    // The unhandled error ends the process with code 1 after the SDK reported it.
    assert.equal(run.code, 1, run.output);
    let groups: any[] = [];
    for (let i = 0; i < 50 && groups.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 200));
      groups = (await api('/api/v1/errors?status=all&limit=50')).json.groups;
    }
    assert.deepEqual(
      groups.map((g) => g.type).sort(),
      ['Message', 'PaymentDeclinedError', 'RangeError', 'TypeError'],
      JSON.stringify(groups.map((g) => g.title)),
    );
    for (const g of groups) {
      assert.equal(g.events, 1);
      assert.equal(g.users, 1);
      assert.deepEqual(g.services, ['checkout-service']);
      assert.deepEqual(g.environments, ['production']);
    }
    const typeError = groups.find((g) => g.type === 'TypeError');
    assert.match(typeError.title, /^TypeError: Cannot read properties of undefined \(reading 'amount'\)$/);
    const detail = (await api(`/api/v1/errors/${encodeURIComponent(typeError.id)}`)).json;
    const sample = detail.samples[0];
    const inApp = sample.frames.filter((f: any) => f.inApp).map((f: any) => f.function);
    assert.deepEqual(inApp.slice(-2), ['submitCheckout', 'chargeCard']);
    assert.ok(sample.frames.some((f: any) => f.file?.endsWith('sentry-client.mjs') && typeof f.line === 'number'));
    assert.equal(sample.tags.service, 'checkout-service');
    assert.equal(sample.tags.gateway, 'stripe');
    assert.equal(sample.tags.order_id, 'ORD-777');
    assert.equal(sample.user.id, 'U-42');
    assert.equal(sample.user.username, 'jane');
    // E-mail addresses are masked like everywhere else.
    assert.equal(sample.user.email, 'jane.***@example.com');
    assert.equal(sample.release, 'checkout@2.1.0');
    assert.equal(sample.handled, true);
    assert.equal(sample.orderId, 'ORD-777');
    assert.equal(sample.breadcrumbsFrom, 'client');
    const crumbs = sample.breadcrumbs.map((b: any) => b.message);
    assert.ok(crumbs.includes('Added SKU-1 to cart'), JSON.stringify(crumbs));
    // The card in a breadcrumb is masked; the authorization header in its data is gone.
    assert.ok(crumbs.includes('card **** **** **** 1111 submitted'), JSON.stringify(crumbs));
    const paymentCrumb = sample.breadcrumbs.find((b: any) => b.category === 'payment');
    assert.equal(paymentCrumb.data.amount, 149.99);
    assert.equal(paymentCrumb.data.authorization, undefined);
    assert.deepEqual(detail.releases, [{ release: 'checkout@2.1.0', count: 1 }]);
    const gateway = detail.tags.find((t: any) => t.field === 'labels.gateway');
    assert.deepEqual(gateway.values, [{ value: 'stripe', count: 1 }]);

    const unhandled = groups.find((g) => g.type === 'RangeError');
    const unhandledSample = (await api(`/api/v1/errors/${encodeURIComponent(unhandled.id)}`)).json.samples[0];
    assert.equal(unhandledSample.handled, false);
    assert.ok(unhandledSample.frames.some((f: any) => /nightlyJob/.test(f.function ?? '')));
    const message = groups.find((g) => g.type === 'Message');
    assert.equal(message.title, 'Message: Inventory sync is 42 s behind');
    assert.equal(message.level, 'WARN');
    const declined = groups.find((g) => g.type === 'PaymentDeclinedError');
    const declinedSample = (await api(`/api/v1/errors/${encodeURIComponent(declined.id)}`)).json.samples[0];
    assert.equal(declinedSample.tags.decline_code, 'insufficient_funds');
  });

  it('keeps the good items of an envelope, drops sessions, client reports and attachments with 200, names the bad one', async () => {
    const good = sentryEvent('b'.repeat(32), 'good one');
    const attachment = Buffer.from('binary\n\u0000data');
    const body = envelope([
      [{ type: 'session' }, JSON.stringify({ sid: 'x', status: 'ok' })],
      [{ type: 'event' }, '{ not json'],
      [{ type: 'event' }, JSON.stringify(good)],
      [{ type: 'attachment', length: attachment.length, filename: 'a.bin' }, attachment],
      [{ type: 'client_report' }, JSON.stringify({ discarded_events: [] })],
    ]);
    const r = await send('/api/42/envelope/', body, auth());
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.id, 'b'.repeat(32));
    assert.deepEqual(
      r.json.items.map((i: any) => [i.index, i.type, i.outcome]),
      [
        [1, 'session', 'dropped'],
        [2, 'event', 'rejected'],
        [3, 'event', 'stored'],
        [4, 'attachment', 'dropped'],
        [5, 'client_report', 'dropped'],
      ],
    );
    assert.match(r.json.items[1].message, /item 2: the event is not JSON/);
    // Only dropped items: still 200, so that SDKs do not retry them.
    const onlySessions = await send(
      '/api/42/envelope/',
      envelope([[{ type: 'sessions' }, '{"aggregates":[]}']]),
      auth(),
    );
    assert.equal(onlySessions.status, 200);
    assert.equal(onlySessions.json.id, null);
    // Every event bad: 400 naming the first problem (the SDK drops it instead of retrying).
    const allBad = await send('/api/42/envelope/', envelope([[{ type: 'event' }, '{"level":"error"}']]), auth());
    assert.equal(allBad.status, 400);
    assert.match(allBad.json.error.message, /neither an exception nor a message/);
    const notEnvelope = await send('/api/42/envelope/', 'hello', auth());
    assert.equal(notEnvelope.status, 400);
    assert.equal(notEnvelope.json.error.code, 'sentry.invalid_envelope');
  });

  it('takes gzip, deflate and brotli bodies and the legacy store endpoint with ?sentry_key', async () => {
    const encodings: [string, (b: Buffer) => Buffer][] = [
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
    ];
    for (const [i, [encoding, compress]] of encodings.entries()) {
      const id = `${i + 1}`.repeat(32);
      const body = compress(envelope([[{ type: 'event' }, JSON.stringify(sentryEvent(id, `compressed ${encoding}`))]]));
      const r = await send('/api/42/envelope/', body, { ...auth(), 'content-encoding': encoding });
      assert.equal(r.status, 200, `${encoding}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.id, id);
    }
    const legacy = await send(
      `/api/42/store/?sentry_key=${ingestKey}&sentry_version=7`,
      JSON.stringify(sentryEvent('c'.repeat(32), 'legacy')),
      {
        'content-type': 'application/json',
      },
    );
    assert.equal(legacy.status, 200, JSON.stringify(legacy.json));
    assert.equal(legacy.json.id, 'c'.repeat(32));
    const found = await api(`/api/v1/errors?status=all&query=${encodeURIComponent('exception.message:legacy')}`);
    assert.equal(found.json.groups.length, 1);
  });

  it('refuses bad keys, other projects and bad project ids clearly', async () => {
    const body = envelope([[{ type: 'event' }, JSON.stringify(sentryEvent('d'.repeat(32), 'x'))]]);
    const none = await send('/api/42/envelope/', body);
    assert.equal(none.status, 401);
    const wrong = await send('/api/42/envelope/', body, {
      'x-sentry-auth': 'Sentry sentry_key=slk_AAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
    });
    assert.equal(wrong.status, 401);
    const otherProject = await send('/api/7/envelope/', body, auth());
    assert.equal(otherProject.status, 403);
    assert.equal(otherProject.json.error.code, 'sentry.wrong_project');
    const badProject = await send('/api/abc/envelope/', body, auth());
    assert.equal(badProject.status, 400);
    // A read key cannot ingest; the key text never comes back in an answer.
    const read = await send('/api/42/envelope/', body, { 'x-sentry-auth': `Sentry sentry_key=${readOnlyKey}` });
    assert.equal(read.status, 403);
    for (const r of [none, wrong, otherProject, badProject, read]) {
      assert.ok(!JSON.stringify(r.json).includes(ingestKey.slice(15)));
      assert.ok(!JSON.stringify(r.json).includes(readOnlyKey.slice(15)));
    }
  });

  it('survives prototype keys, deep nesting and huge envelopes without a 500', async () => {
    const proto = JSON.parse(
      '{"event_id":"' +
        'e'.repeat(32) +
        '","exception":{"values":[{"type":"ProtoError","value":"p"}]},"tags":{"__proto__":"polluted","constructor":"c"},"extra":{"__proto__":{"admin":true}},"contexts":{"prototype":{"x":1}}}',
    );
    const r1 = await send('/api/42/envelope/', envelope([[{ type: 'event' }, JSON.stringify(proto)]]), auth());
    assert.equal(r1.status, 200, JSON.stringify(r1.json));
    assert.equal(({} as any).admin, undefined);
    const g = (await api(`/api/v1/errors?status=all&query=${encodeURIComponent('exception.type:ProtoError')}`)).json
      .groups[0];
    const sample = (await api(`/api/v1/errors/${g.id}`)).json.samples[0];
    assert.equal(Object.getOwnPropertyDescriptor(sample.tags, '__proto__')?.value, 'polluted');

    let deep: unknown = 'bottom';
    for (let i = 0; i < 3000; i++) deep = { d: deep };
    const r2 = await send(
      '/api/42/envelope/',
      envelope([[{ type: 'event' }, JSON.stringify(sentryEvent('f'.repeat(32), 'deep', { extra: { deep } }))]]),
      auth(),
    );
    assert.equal(r2.status, 200, JSON.stringify(r2.json).slice(0, 500));

    const manyItems = envelope(
      Array.from(
        { length: 300 },
        (_, i) =>
          [{ type: 'event' }, JSON.stringify(sentryEvent(i.toString(16).padStart(32, '0'), `many ${i}`))] as [
            Record<string, unknown>,
            string,
          ],
      ),
    );
    const r3 = await send('/api/42/envelope/', manyItems, auth());
    assert.equal(r3.status, 200);
    assert.equal(r3.json.items.filter((i: any) => i.outcome === 'stored').length, 300);

    const huge = Buffer.alloc(srv.config.server.maxBodyBytes + 10, 0x61);
    const r4 = await send('/api/42/envelope/', huge, auth());
    assert.equal(r4.status, 413);
    // A compressed body that inflates past the limit: 413 too, not memory.
    const bomb = gzipSync(Buffer.alloc(srv.config.server.maxBodyBytes + 1024, 0x20));
    const r5 = await send('/api/42/envelope/', bomb, { ...auth(), 'content-encoding': 'gzip' });
    assert.equal(r5.status, 413);
    const badGzip = await send('/api/42/envelope/', Buffer.from('not gzip'), { ...auth(), 'content-encoding': 'gzip' });
    assert.equal(badGzip.status, 400);
  });

  it('writes no planted card number or secret from a Sentry event to disk', async () => {
    const event = sentryEvent('9'.repeat(32), `charge failed for card ${CARDS.mastercard}`, {
      request: {
        url: `https://shop.example/checkout?token=${SECRETS.token}`,
        method: 'POST',
        headers: {
          Authorization: `Bearer ${SECRETS.bearer}`,
          Cookie: `sid=${SECRETS.cookie}`,
          'X-Api-Key': SECRETS.apiKey,
        },
        cookies: { sid: SECRETS.cookie },
        data: { card_number: CARDS.amex, cvv: SECRETS.cvv, note: `paid with ${grouped(CARDS.visa16, '-')}` },
      },
      breadcrumbs: { values: [{ message: `pin=${SECRETS.pin}`, data: { password: SECRETS.password } }] },
      tags: { card: CARDS.discover, secret_key: SECRETS.secret },
      extra: { stripe: SECRETS.stripe, jwt: SECRETS.jwt },
      user: { id: 'U-1', email: 'jane.doe@example.com' },
    });
    const r = await send('/api/42/envelope/', envelope([[{ type: 'event' }, JSON.stringify(event)]]), auth());
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(findPlants(JSON.stringify(r.json)), []);
    await srv.server.context.store.refresh(true);
    const g = (await api(`/api/v1/errors?status=all&query=${encodeURIComponent('event.id:' + '9'.repeat(32))}`)).json
      .groups[0];
    assert.ok(g, 'the event is stored');
    assert.deepEqual(findPlants(JSON.stringify((await api(`/api/v1/errors/${g.id}`)).json)), []);
    assert.deepEqual(findPlants(readTree(srv.dataDir)), []);
    assert.deepEqual(findPlants(srv.logs()), []);
    assert.ok(!srv.logs().includes(ingestKey), 'the DSN key sent in ?sentry_key is not logged');
  });
});

describe('Sentry endpoints under a rate limit', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ limits: { ingestBytesPerSecond: 1000, ingestBurstBytes: 2000 } });
  });
  after(async () => {
    await srv.close();
  });

  it('answers 429 with Retry-After and X-Sentry-Rate-Limits', async () => {
    const body = envelope([[{ type: 'event' }, JSON.stringify(sentryEvent('1'.repeat(32), 'x'.repeat(1500)))]]);
    let limited: Response | undefined;
    for (let i = 0; i < 5 && !limited; i++) {
      const r = await fetch(`${srv.url}/api/1/envelope/`, { method: 'POST', body });
      if (r.status === 429) limited = r;
      else assert.equal(r.status, 200);
    }
    assert.ok(limited, 'rate limited');
    const retry = limited.headers.get('retry-after');
    assert.match(retry ?? '', /^\d+$/);
    assert.equal(limited.headers.get('x-sentry-rate-limits'), `${retry}::key`);
  });
});
