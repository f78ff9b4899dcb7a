/**
 * The demo's local webhook inbox: a small HTTP receiver on 127.0.0.1 that
 * the demo routes every alert to (a real webhook receiver, as a team's own
 * would be), keeping the last messages it received in memory so that the UI
 * can show them (Alerts page, "Demo webhook inbox"; `GET
 * /api/v1/demo/webhook-inbox`). A newcomer sees the whole way a notification
 * goes: engine, dispatcher, outbox, HTTP, receiver.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DemoWebhookInbox, DemoWebhookMessage } from '../api/routes/demo.ts';

/** Messages kept (the oldest go first). */
const KEEP = 200;
/** Largest body taken, bytes (a notification of many alerts is a few KiB). */
const MAX_BODY = 256 * 1024;

export class DemoWebhookSink implements DemoWebhookInbox {
  readonly #server: Server;
  readonly #messages: DemoWebhookMessage[] = [];
  #count = 0;
  #url = '';

  private constructor() {
    this.#server = createServer((request, response) => {
      void this.#receive(request).then(
        ({ status, text }) => {
          response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
          response.end(text);
        },
        () => {
          response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
          response.end('could not read the request body\n');
        },
      );
    });
  }

  /** Starts listening on 127.0.0.1 at a free port. */
  static async start(): Promise<DemoWebhookSink> {
    const sink = new DemoWebhookSink();
    await new Promise<void>((resolve, reject) => {
      sink.#server.once('error', reject);
      sink.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = sink.#server.address() as AddressInfo;
    sink.#url = `http://127.0.0.1:${port}/hook`;
    return sink;
  }

  /** Where the demo's webhook receiver posts. */
  get url(): string {
    return this.#url;
  }

  /** Newest first. */
  messages(): readonly DemoWebhookMessage[] {
    return [...this.#messages].reverse();
  }

  async #receive(request: IncomingMessage): Promise<{ status: number; text: string }> {
    if (request.method !== 'POST') return { status: 405, text: 'POST a notification here\n' };
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) return { status: 413, text: `body over ${MAX_BODY} bytes\n` };
      chunks.push(chunk);
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return { status: 400, text: 'expected a JSON body\n' };
    }
    this.#messages.push({
      id: ++this.#count,
      receivedAt: new Date().toISOString(),
      path: request.url ?? '/',
      notificationId: String(request.headers['x-shoplens-notification-id'] ?? ''),
      body,
    });
    if (this.#messages.length > KEEP) this.#messages.shift();
    return { status: 200, text: 'ok\n' };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
