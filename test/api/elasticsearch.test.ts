/**
 * The Elasticsearch surface, driven by the official client
 * (`@elastic/elasticsearch`) exactly as a shop's services and shippers use
 * it; what was stored is checked through the query API.
 * https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { Client, errors } from '@elastic/elasticsearch';
import { query, startTestServer, type TestServer } from '../helpers/server.ts';

/** Runs a `... | stats count() as n` query and returns n. */
async function countOf(srv: TestServer, q: string): Promise<number> {
  const r = await query(srv.url, `${q} | stats count() as n`);
  assert.equal(r.status, 200, `query ${q}: ${JSON.stringify(r.json)}`);
  return Number(r.json.rows[0]?.[0] ?? 0);
}

/** Rows of a query as objects keyed by column name. */
async function rowsOf(srv: TestServer, q: string): Promise<Record<string, unknown>[]> {
  const r = await query(srv.url, q);
  assert.equal(r.status, 200, `query ${q}: ${JSON.stringify(r.json)}`);
  const names = (r.json.columns as { name: string }[]).map((c) => c.name);
  return (r.json.rows as unknown[][]).map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]])));
}

const GATEWAYS = ['stripe', 'paypal', 'adyen'] as const;

/** A payment-service log event: nested transaction, payment, customer and order objects. */
function paymentEvent(i: number, ts: string): Record<string, unknown> {
  return {
    '@timestamp': ts,
    service: { name: 'payment-service', version: '2.1.5', environment: 'production' },
    event: { category: 'financial', type: 'payment_transaction', outcome: i % 10 === 0 ? 'failure' : 'success' },
    transaction: {
      id: `txn_${i}`,
      amount: 10 + (i % 50),
      currency: 'USD',
      gateway: GATEWAYS[i % 3],
      merchant_id: 'merchant_12345',
    },
    payment: { method: 'credit_card', card_type: 'visa', card_last_four: '1234', risk_score: i % 100 },
    customer: { id: `cust_${i % 97}`, segment: 'premium', country: 'US' },
    order: { id: `order_${i}`, item_count: 1 + (i % 4) },
  };
}

/** A log line as Filebeat or a Node logger would ship it. */
function logLine(i: number, ts: string): Record<string, unknown> {
  return {
    '@timestamp': ts,
    message: `GET /api/products/${i} 200`,
    log: { level: i % 7 === 0 ? 'WARN' : 'INFO' },
    service: { name: 'catalog-service' },
    http: { request: { method: 'GET' }, response: { status_code: 200 } },
  };
}

describe('Elasticsearch API with the official client', () => {
  let srv: TestServer;
  let client: Client;

  before(async () => {
    srv = await startTestServer();
    client = new Client({ node: srv.url });
  });
  after(async () => {
    await client.close();
    await srv.close();
  });

  it('answers info() and passes the client product check', async () => {
    const info = await client.info();
    assert.equal(info.cluster_name, 'shoplens');
    assert.match(info.version.number, /^\d+\.\d+\.\d+$/);
    assert.equal(info.tagline, 'You Know, for Search');
  });

  it('sends X-Elastic-Product: Elasticsearch on every answer, errors and HEAD included', async () => {
    for (const [method, path] of [
      ['GET', '/'],
      ['HEAD', '/'],
      ['GET', '/_license'],
      ['POST', '/_bulk?refresh=wait_for'],
      ['GET', '/no/such/route'],
    ] as const) {
      const r = await fetch(`${srv.url}${path}`, { method, headers: { accept: 'application/json' } });
      await r.arrayBuffer();
      assert.equal(r.headers.get('x-elastic-product'), 'Elasticsearch', `${method} ${path} (status ${r.status})`);
    }
  });

  it('helpers.bulk delivers ~2,000 documents; typed and attribute fields are queryable', async () => {
    const base = Date.now() - 60 * 60 * 1000;
    const docs: Record<string, unknown>[] = [];
    for (let i = 0; i < 2000; i++) {
      const ts = new Date(base + i * 1000).toISOString();
      docs.push(i % 2 === 0 ? paymentEvent(i, ts) : logLine(i, ts));
    }
    const dropped: unknown[] = [];
    const stats = await client.helpers.bulk({
      refreshOnCompletion: true,
      datasource: docs,
      onDocument: () => ({ index: { _index: 'logs-shop' } }),
      onDrop: (d) => dropped.push(d),
      flushBytes: 400_000, // several requests, so more than one _bulk call is exercised
    });
    assert.deepEqual(dropped, []);
    assert.equal(stats.total, 2000);
    assert.equal(stats.successful, 2000);
    assert.equal(stats.failed, 0);
    assert.equal(stats.aborted, false);

    assert.equal(await countOf(srv, '_index:logs-shop'), 2000);
    const byGateway = await rowsOf(
      srv,
      '_index:logs-shop AND event.type:payment_transaction | stats count() as n by transaction.gateway | sort transaction.gateway',
    );
    assert.deepEqual(
      byGateway.map((r) => [r['transaction.gateway'], Number(r['n'])]),
      [
        ['adyen', 333],
        ['paypal', 333],
        ['stripe', 334],
      ],
    );
    assert.equal(await countOf(srv, '_index:logs-shop AND payment.card_last_four:1234'), 1000);
    assert.equal(await countOf(srv, '_index:logs-shop AND transaction.merchant_id:merchant_12345'), 1000);
    assert.equal(await countOf(srv, '_index:logs-shop AND log.level:WARN'), 143);
  });

  it('helpers.bulk calls onDrop for a document with a wrongly typed field and stores the rest', async () => {
    const ts = new Date().toISOString();
    const docs = [
      { ...paymentEvent(1, ts), 'event.id': 'drop-good-1', tag: 'ondrop' },
      { ...paymentEvent(2, ts), transaction: { amount: 'abc', gateway: 'stripe' }, tag: 'ondrop' },
      { ...paymentEvent(3, ts), 'event.id': 'drop-good-2', tag: 'ondrop' },
    ];
    const dropped: { status: number; error: { type: string; reason: string }; document: unknown }[] = [];
    const stats = await client.helpers.bulk({
      refreshOnCompletion: true,
      datasource: docs,
      onDocument: () => ({ index: { _index: 'logs-ondrop' } }),
      onDrop: (d) => dropped.push(d as (typeof dropped)[number]),
    });
    assert.equal(stats.total, 3);
    assert.equal(stats.successful, 2);
    assert.equal(stats.failed, 1);
    assert.equal(dropped.length, 1);
    const drop = dropped[0]!;
    assert.equal(drop.status, 400);
    assert.equal(drop.error.type, 'document_parsing_exception');
    assert.match(drop.error.reason, /transaction\.amount/);
    assert.match(drop.error.reason, /expected a number/);
    assert.deepEqual(drop.document, docs[1]);
    assert.equal(await countOf(srv, '_index:logs-ondrop'), 2);
    assert.equal(await countOf(srv, '_index:logs-ondrop AND order.id:order_2'), 0);
    assert.equal(await countOf(srv, '_index:logs-ondrop AND (event.id:drop-good-1 OR event.id:drop-good-2)'), 2);
  });

  it('client.bulk with raw operations answers item by item like Elasticsearch', async () => {
    const ts = new Date().toISOString();
    const answer = await client.bulk({
      refresh: 'wait_for',
      operations: [
        { index: { _index: 'logs-raw', _id: 'order-1' } },
        { '@timestamp': ts, message: 'first version', 'order.id': 'o-1' },
        { index: { _index: 'logs-raw', _id: 'order-1' } },
        { '@timestamp': ts, message: 'second version', 'order.id': 'o-1' },
        { create: { _index: 'logs-raw', _id: 'order-2' } },
        { '@timestamp': ts, message: 'created once' },
        { create: { _index: 'logs-raw', _id: 'order-2' } },
        { '@timestamp': ts, message: 'created twice' },
        { delete: { _index: 'logs-raw', _id: 'order-1' } },
        { update: { _index: 'logs-raw', _id: 'order-1' } },
        { doc: { message: 'patched' } },
        { index: { _index: 'logs-raw' } },
        { '@timestamp': ts, message: 'auto id' },
      ],
    });
    assert.equal(answer.errors, true);
    assert.equal(typeof answer.took, 'number');
    const items = answer.items.map((item) => {
      const [action, r] = Object.entries(item)[0]!;
      return { action, status: r.status, result: r.result, id: r._id, index: r._index, error: r.error?.type };
    });
    assert.deepEqual(
      items.map(({ action, status, result, error }) => ({ action, status, result, error })),
      [
        { action: 'index', status: 201, result: 'created', error: undefined },
        { action: 'index', status: 200, result: 'updated', error: undefined },
        { action: 'create', status: 201, result: 'created', error: undefined },
        { action: 'create', status: 409, result: undefined, error: 'version_conflict_engine_exception' },
        { action: 'delete', status: 400, result: undefined, error: 'illegal_argument_exception' },
        { action: 'update', status: 400, result: undefined, error: 'illegal_argument_exception' },
        { action: 'index', status: 201, result: 'created', error: undefined },
      ],
    );
    assert.deepEqual(
      items.slice(0, 6).map((i) => [i.index, i.id]),
      [
        ['logs-raw', 'order-1'],
        ['logs-raw', 'order-1'],
        ['logs-raw', 'order-2'],
        ['logs-raw', 'order-2'],
        ['logs-raw', 'order-1'],
        ['logs-raw', 'order-1'],
      ],
    );
    assert.match(String(items[6]!.id), /^[A-Za-z0-9_-]{20}$/);

    // `index` twice with one _id keeps one event, the second version.
    const stored = await rowsOf(srv, '_index:logs-raw | stats count() as n by event.id, message | sort event.id');
    assert.deepEqual(
      stored.filter((r) => r['event.id'] !== items[6]!.id).map((r) => [r['event.id'], r['message'], Number(r['n'])]),
      [
        ['order-1', 'second version', 1],
        ['order-2', 'created once', 1],
      ],
    );
    assert.equal(await countOf(srv, '_index:logs-raw'), 3);

    // The same _id in a later request: `index` replaces, `create` conflicts.
    const again = await client.bulk({
      refresh: 'wait_for',
      operations: [
        { index: { _index: 'logs-raw', _id: 'order-1' } },
        { '@timestamp': ts, message: 'third version' },
        { create: { _index: 'logs-raw', _id: 'order-2' } },
        { '@timestamp': ts, message: 'created again' },
      ],
    });
    assert.equal(again.errors, true);
    assert.equal(again.items[0]?.index?.status, 200);
    assert.equal(again.items[0]?.index?.result, 'updated');
    assert.equal(again.items[1]?.create?.status, 409);
    assert.match(String(again.items[1]?.create?.error?.reason), /order-2/);
    assert.equal(await countOf(srv, '_index:logs-raw'), 3);
    assert.equal(await countOf(srv, '_index:logs-raw AND message:"third version"'), 1);
  });

  it('answers errors: false when every item succeeded', async () => {
    const answer = await client.bulk({
      refresh: 'wait_for',
      operations: [{ index: { _index: 'logs-clean' } }, { '@timestamp': new Date().toISOString(), message: 'ok' }],
    });
    assert.equal(answer.errors, false);
    assert.equal(answer.items[0]?.index?.status, 201);
    assert.equal(answer.items[0]?.index?.result, 'created');
  });

  it('reports a malformed action line as an item error and keeps the good items', async () => {
    const ts = new Date().toISOString();
    const body = [
      JSON.stringify({ index: { _index: 'logs-malformed' } }),
      JSON.stringify({ '@timestamp': ts, message: 'good one' }),
      '{"index": {"_index": "logs-malformed"', // cut short
      JSON.stringify({ '@timestamp': ts, message: 'source of the broken action' }),
      JSON.stringify({ index: { _index: 'logs-malformed' } }),
      JSON.stringify({ '@timestamp': ts, message: 'good two' }),
      '',
    ].join('\n');
    const answer = await client.transport.request<any>({
      method: 'POST',
      path: '/_bulk?refresh=wait_for',
      bulkBody: body,
    });
    assert.equal(answer.errors, true);
    assert.equal(answer.items.length, 3);
    assert.equal(answer.items[0].index.status, 201);
    assert.equal(answer.items[1].index.status, 400);
    assert.equal(answer.items[1].index.error.type, 'illegal_argument_exception');
    assert.match(answer.items[1].index.error.reason, /line 3/);
    assert.equal(answer.items[2].index.status, 201);
    assert.equal(await countOf(srv, '_index:logs-malformed'), 2);
  });

  it('takes gzip bodies from a client with compression: true', async () => {
    const gzipClient = new Client({ node: srv.url, compression: true });
    try {
      const ts = new Date().toISOString();
      const answer = await gzipClient.bulk({
        refresh: 'wait_for',
        operations: Array.from({ length: 50 }, (_, i) => [
          { index: { _index: 'logs-gzip' } },
          { '@timestamp': ts, message: `compressed ${i}` },
        ]).flat(),
      });
      assert.equal(answer.errors, false);
      assert.equal(answer.items.length, 50);
      const one = await gzipClient.index({
        refresh: 'wait_for',
        index: 'logs-gzip',
        document: { '@timestamp': ts, message: 'single' },
      });
      assert.equal(one.result, 'created');
      assert.equal(await countOf(srv, '_index:logs-gzip'), 51);
    } finally {
      await gzipClient.close();
    }
  });

  it('maps index names to data classes (audit-*, security-*, logs-*)', async () => {
    const ts = new Date().toISOString();
    const answer = await client.bulk({
      refresh: 'wait_for',
      operations: [
        { index: { _index: 'audit-2025' } },
        { '@timestamp': ts, message: 'refund approved', tag: 'classes' },
        { index: { _index: 'security-x' } },
        { '@timestamp': ts, message: 'login failed', tag: 'classes' },
        { index: { _index: 'security-x' } },
        { '@timestamp': ts, message: 'login failed again', tag: 'classes' },
        { index: { _index: 'logs-x' } },
        { '@timestamp': ts, message: 'cache warm', tag: 'classes' },
        // A payment shipped to a logs-* index keeps business retention.
        { index: { _index: 'logs-x' } },
        { '@timestamp': ts, message: 'paid', tag: 'classes', event: { type: 'payment_transaction' } },
      ],
    });
    assert.equal(answer.errors, false);
    // Audit events show only when the filter names data_class (they never clutter other queries).
    const rows = await rowsOf(
      srv,
      'tag:classes AND data_class:* | stats count() as n by data_class, _index | sort _index, data_class',
    );
    assert.deepEqual(
      rows.map((r) => [r['_index'], r['data_class'], Number(r['n'])]),
      [
        ['audit-2025', 'audit', 1],
        ['logs-x', 'app', 1],
        ['logs-x', 'business', 1],
        ['security-x', 'security', 2],
      ],
    );
    assert.equal(await countOf(srv, 'tag:classes AND data_class:audit'), 1);
    assert.equal(await countOf(srv, 'tag:classes AND data_class:security'), 2);
    assert.equal(await countOf(srv, 'tag:classes AND data_class:app'), 1);
    assert.equal(await countOf(srv, 'tag:classes AND data_class:business'), 1);
  });

  it('answers the setup calls of shippers with 2xx', async () => {
    const calls: [string, string, unknown?][] = [
      ['HEAD', '/'],
      ['GET', '/_license'],
      ['GET', '/_xpack'],
      ['GET', '/_cluster/health'],
      ['PUT', '/_index_template/shop-logs', { index_patterns: ['logs-*'], template: { settings: {} } }],
      ['PUT', '/_template/shop-logs', { index_patterns: ['logs-*'] }],
      ['PUT', '/_ilm/policy/shop-logs', { policy: { phases: { hot: { actions: {} } } } }],
      ['PUT', '/_ingest/pipeline/shop-logs', { processors: [] }],
      ['PUT', '/logs-setup', { settings: { number_of_shards: 1 } }],
      ['PUT', '/logs-setup-empty'],
      ['HEAD', '/logs-setup'],
    ];
    for (const [method, path, body] of calls) {
      const r = await client.transport.request(
        { method, path, ...(body === undefined ? {} : { body: body as Record<string, unknown> }) },
        { meta: true },
      );
      assert.ok(
        r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300,
        `${method} ${path}: ${r.statusCode}`,
      );
    }
    const template = await client.indices.putIndexTemplate({
      name: 'shoplens-logs',
      index_patterns: ['logs-*'],
      template: { settings: { number_of_shards: 1 }, mappings: { properties: { message: { type: 'text' } } } },
    });
    assert.equal(template.acknowledged, true);
    const policy = await client.ilm.putLifecycle({ name: 'shop-logs', policy: { phases: { hot: { actions: {} } } } });
    assert.equal(policy.acknowledged, true);
    const created = await client.indices.create({ index: 'logs-created' });
    assert.equal(created.acknowledged, true);
    assert.equal(await client.indices.exists({ index: 'logs-created' }), true);
    const license = await client.license.get();
    assert.equal(license.license.status, 'active');
  });

  it('leaves one event when concurrent requests index the same _id', async () => {
    const ts = new Date().toISOString();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        client.index({
          refresh: 'wait_for',
          index: 'logs-race',
          id: 'race-1',
          document: { '@timestamp': ts, message: `race version ${i}`, tag: 'race' },
        }),
      ),
    );
    assert.equal(results.length, 10);
    assert.equal(await countOf(srv, 'tag:race'), 1);
    await client.index({
      refresh: 'wait_for',
      index: 'logs-race',
      id: 'race-1',
      document: { '@timestamp': ts, message: 'race final', tag: 'race' },
    });
    assert.equal(await countOf(srv, 'tag:race'), 1);
    assert.equal(await countOf(srv, 'tag:race AND message:final'), 1);
  });

  it('stores a single document from client.index, with and without an id', async () => {
    const ts = new Date().toISOString();
    const auto = await client.index({
      refresh: 'wait_for',
      index: 'logs-single',
      document: { '@timestamp': ts, message: 'one doc' },
    });
    assert.equal(auto.result, 'created');
    assert.equal(auto._index, 'logs-single');
    assert.match(auto._id, /^[A-Za-z0-9_-]{20}$/);
    assert.equal(auto._version, 1);
    assert.equal('status' in auto, false, 'the HTTP status is not part of the document answer');

    const withId = await client.index({
      refresh: 'wait_for',
      index: 'logs-single',
      id: 'doc-7',
      document: { '@timestamp': ts, n: 1 },
    });
    assert.equal(withId.result, 'created');
    assert.equal(withId._id, 'doc-7');
    const replaced = await client.index({
      refresh: 'wait_for',
      index: 'logs-single',
      id: 'doc-7',
      document: { '@timestamp': ts, n: 2 },
    });
    assert.equal(replaced.result, 'updated');
    await assert.rejects(
      client.create({ refresh: 'wait_for', index: 'logs-single', id: 'doc-7', document: { '@timestamp': ts, n: 3 } }),
      (err: any) => {
        assert.equal(err.meta?.statusCode, 409);
        assert.equal(err.body?.error?.type, 'version_conflict_engine_exception');
        return true;
      },
    );
    await assert.rejects(
      client.index({
        refresh: 'wait_for',
        index: 'logs-single',
        document: { '@timestamp': ts, 'transaction.amount': 'abc' },
      }),
      (err: any) => {
        assert.equal(err.meta?.statusCode, 400);
        assert.equal(err.body?.error?.type, 'document_parsing_exception');
        assert.match(err.body?.error?.reason, /transaction\.amount/);
        return true;
      },
    );
    assert.equal(await countOf(srv, '_index:logs-single'), 2);
    assert.equal(await countOf(srv, '_index:logs-single AND n:2'), 1);
  });
});

describe('Elasticsearch whole-request errors', () => {
  let srv: TestServer;
  let client: Client;

  before(async () => {
    srv = await startTestServer({ server: { maxBodyBytes: 64 * 1024 } });
    client = new Client({ node: srv.url, maxRetries: 0 });
  });
  after(async () => {
    await client.close();
    await srv.close();
  });

  /** Sends a raw _bulk body and returns the client's error. */
  async function bulkError(body: Buffer, headers: Record<string, string>): Promise<errors.ResponseError> {
    try {
      await client.transport.request({ method: 'POST', path: '/_bulk?refresh=wait_for', body }, { headers });
    } catch (err) {
      assert.ok(err instanceof errors.ResponseError, String(err));
      return err;
    }
    assert.fail('the request succeeded');
  }

  it('answers an unknown Content-Encoding with 415 in Elasticsearch shape', async () => {
    const err = await bulkError(Buffer.from('{"index":{}}\n{}\n'), {
      'content-type': 'application/x-ndjson',
      'content-encoding': 'compress',
    });
    assert.equal(err.statusCode, 415);
    assert.equal(err.body.status, 415);
    assert.equal(err.body.error.type, 'ingest.unsupported_encoding');
    assert.match(err.body.error.reason, /Content-Encoding "compress" is not supported/);
    assert.deepEqual(err.body.error.root_cause, [{ type: err.body.error.type, reason: err.body.error.reason }]);
    assert.match(err.message, /ingest\.unsupported_encoding/);
    assert.equal(err.headers?.['x-elastic-product'], 'Elasticsearch');
  });

  it('answers a gzip body that inflates past the limit with 413 in Elasticsearch shape', async () => {
    const line = JSON.stringify({ '@timestamp': new Date().toISOString(), message: 'x'.repeat(1000) });
    const ndjson = Array.from({ length: 200 }, () => `{"index":{"_index":"logs-big"}}\n${line}\n`).join('');
    const err = await bulkError(gzipSync(ndjson), {
      'content-type': 'application/x-ndjson',
      'content-encoding': 'gzip',
    });
    assert.equal(err.statusCode, 413);
    assert.equal(err.body.error.type, 'ingest.body_too_large');
    assert.match(err.body.error.reason, /65536 bytes/);
  });

  it('answers an empty _bulk body with 400 parse_exception, as Elasticsearch does', async () => {
    const err = await bulkError(Buffer.from('\n'), { 'content-type': 'application/x-ndjson' });
    assert.equal(err.statusCode, 400);
    assert.equal(err.body.error.type, 'parse_exception');
    assert.equal(err.body.error.reason, 'request body is required');
  });

  it('still answers a body over server.maxBodyBytes with 413', async () => {
    const r = await fetch(`${srv.url}/_bulk?refresh=wait_for`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: 'x'.repeat(100 * 1024),
    });
    await r.arrayBuffer();
    assert.equal(r.status, 413);
  });
});
