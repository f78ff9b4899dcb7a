/**
 * Spans under the privacy and retention rules of events: a GDPR erasure by
 * customer id deletes the customer's spans, and the retention
 * run deletes spans older than the app class keeps, over real HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const hex = (n: number, bytes: number): string => n.toString(16).padStart(bytes * 2, '0');

function traceBody(traceN: number, startMs: number, attributes: Record<string, string>): string {
  const start = BigInt(Math.trunc(startMs)) * 1_000_000n;
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'account-service' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: hex(traceN, 16),
                spanId: hex(1, 8),
                name: 'GET /api/account',
                kind: 2,
                startTimeUnixNano: String(start),
                endTimeUnixNano: String(start + 3_000_000n),
                attributes: Object.entries(attributes).map(([key, value]) => ({ key, value: { stringValue: value } })),
              },
            ],
          },
        ],
      },
    ],
  });
}

describe('spans under erasure and retention', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ retention: { app: '7d', interval: 0 } });
  });
  after(async () => {
    await srv.close();
  });

  const send = async (body: string) => {
    const r = await post(`${srv.url}/v1/traces`, body, { 'content-type': 'application/json' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  };
  const status = async (n: number) => (await fetch(`${srv.url}/api/v1/traces/${hex(n, 16)}`)).status;

  it('erases the spans of a customer by id, and keeps the others', async () => {
    const now = Date.now() - 60_000;
    await send(traceBody(1, now, { 'customer.id': 'C-ERASE' }));
    await send(traceBody(2, now, { 'enduser.id': 'C-ERASE' }));
    await send(traceBody(3, now, { 'customer.id': 'C-KEEP' }));
    const r = await post(`${srv.url}/api/v1/privacy/erasure`, JSON.stringify({ customer_id: 'C-ERASE' }), {
      'content-type': 'application/json',
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.spans, 2);
    assert.equal(await status(1), 404);
    assert.equal(await status(2), 404);
    assert.equal(await status(3), 200);
  });

  it('deletes spans older than the app retention at the retention run', async () => {
    await send(traceBody(10, Date.now() - 10 * DAY_MS, {}));
    await send(traceBody(11, Date.now() - 2 * DAY_MS, {}));
    assert.equal(await status(10), 200);
    const r = await post(`${srv.url}/api/v1/retention/run`, '', { 'content-type': 'application/json' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(await status(10), 404);
    assert.equal(await status(11), 200);
  });
});
