/**
 * The demo's local e-mail inbox: an SMTP server on 127.0.0.1 (smtp-server)
 * that the demo's e-mail receiver sends every alert to, keeping the last
 * messages it received, decoded by mailparser as a mail client shows them
 * (subject, from, to, the plain-text part), so that the UI can show them
 * (Alerts page, "Demo e-mail inbox"; `GET /api/v1/demo/email-inbox`).
 * No authentication and no TLS: it listens on the loopback only and takes
 * nothing but the demo's own notifications.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { DemoMailInbox, DemoMailMessage } from '../api/routes/demo.ts';

/** Messages kept (the oldest go first). */
const KEEP = 200;
/** Largest message taken, bytes (an alert e-mail with its HTML part is a few KiB). */
const MAX_MESSAGE = 1024 * 1024;

export class DemoMailSink implements DemoMailInbox {
  readonly #server: SMTPServer;
  readonly #messages: DemoMailMessage[] = [];
  #count = 0;
  #host = '127.0.0.1';
  #port = 0;

  private constructor() {
    this.#server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      size: MAX_MESSAGE,
      banner: 'Shoplens demo e-mail inbox',
      logger: false,
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((mail) => {
            if (stream.sizeExceeded) {
              callback(Object.assign(new Error(`message over ${MAX_MESSAGE} bytes`), { responseCode: 552 }));
              return;
            }
            const envelope = session.envelope;
            this.#messages.push({
              id: ++this.#count,
              receivedAt: new Date().toISOString(),
              from: envelope.mailFrom ? envelope.mailFrom.address : '',
              to: envelope.rcptTo.map((r) => r.address),
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              notificationId: headerText(mail.headers.get('x-shoplens-notification-id')),
            });
            if (this.#messages.length > KEEP) this.#messages.shift();
            callback();
          })
          .catch((err: unknown) => callback(err as Error));
      },
    });
  }

  /** Starts listening on 127.0.0.1 at a free port. */
  static async start(): Promise<DemoMailSink> {
    const sink = new DemoMailSink();
    await new Promise<void>((resolve, reject) => {
      sink.#server.once('error', reject);
      sink.#server.listen(0, '127.0.0.1', () => resolve());
    });
    sink.#port = (sink.#server.server.address() as AddressInfo).port;
    return sink;
  }

  get host(): string {
    return this.#host;
  }

  get port(): number {
    return this.#port;
  }

  /** `smtp://127.0.0.1:PORT`, for the UI and the log. */
  get url(): string {
    return `smtp://${this.#host}:${this.#port}`;
  }

  /** Newest first. */
  messages(): readonly DemoMailMessage[] {
    return [...this.#messages].reverse();
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

function headerText(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
