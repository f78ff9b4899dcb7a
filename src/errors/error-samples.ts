/**
 * One recent occurrence of an error group as the group page shows it: who
 * and where, its stack trace (structured frames, or frames read from the
 * stack text) with the in-app frames marked, its tags, and its breadcrumbs —
 * those the client sent (Sentry's), else the events of the same trace or
 * session in the minutes before it.
 */
import type { StackFrame } from '../schema/error-record.ts';
import { FRAME_FIELDS, framesOf, STACK_TEXT_FIELDS } from './error-fields.ts';
import { frameInApp } from './fingerprint.ts';
import { parseStackText } from './stack-text.ts';

/** A frame as shown: innermost first on the page is the UI's choice; this list is outermost first. */
export interface SampleFrame extends StackFrame {
  readonly inApp: boolean;
}

export interface Breadcrumb {
  readonly timestamp: string | null;
  readonly category: string | null;
  readonly level: string | null;
  readonly message: string;
  /** Everything else the breadcrumb or event carried. */
  readonly data: Record<string, unknown> | null;
}

export interface ErrorSample {
  readonly timestamp: string;
  readonly eventId: string | null;
  readonly type: string;
  readonly message: string;
  readonly level: string | null;
  readonly service: string | null;
  readonly release: string | null;
  readonly environment: string | null;
  readonly user: { readonly id: string | null; readonly email: string | null; readonly username: string | null };
  readonly customerId: string | null;
  readonly sessionId: string | null;
  readonly orderId: string | null;
  readonly traceId: string | null;
  /** Sentry tags and other `labels.*`. */
  readonly tags: Readonly<Record<string, string>>;
  readonly handled: boolean | null;
  readonly frames: readonly SampleFrame[];
  readonly stacktrace: string | null;
  /** Where the breadcrumbs came from: the client, or the events before the error. */
  readonly breadcrumbsFrom: 'client' | 'events' | 'none';
  readonly breadcrumbs: readonly Breadcrumb[];
  /** The whole stored event. */
  readonly source: Record<string, unknown>;
}

/** The value at a dotted path of a nested `_source` (a flat dotted key is found too). */
export function pick(source: unknown, path: string): unknown {
  let node = source;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    const obj = node as Record<string, unknown>;
    const rest = parts.slice(i).join('.');
    if (Object.hasOwn(obj, rest)) return obj[rest];
    const key = parts[i] as string;
    if (!Object.hasOwn(obj, key)) return undefined;
    node = obj[key];
  }
  return node;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null;
}

/** Sentry breadcrumbs (`error.breadcrumbs`: timestamp in seconds, category, level, message, data). */
function clientBreadcrumbs(value: unknown): Breadcrumb[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((b): b is Record<string, unknown> => b !== null && typeof b === 'object' && !Array.isArray(b))
    .map((b) => {
      const ts = b['timestamp'];
      const data = b['data'];
      return {
        timestamp:
          typeof ts === 'number'
            ? new Date(ts < 1e11 ? ts * 1000 : ts).toISOString()
            : typeof ts === 'string'
              ? ts
              : null,
        category: str(b['category']) ?? str(b['type']),
        level: str(b['level']),
        message: str(b['message']) ?? '',
        data:
          data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : null,
      };
    });
}

/** An event before the error, as a breadcrumb. */
function eventBreadcrumb(e: Record<string, unknown>): Breadcrumb {
  const type = str(pick(e, 'event.type'));
  const route = str(pick(e, 'http.route'));
  const status = str(pick(e, 'http.response.status_code'));
  const message = str(pick(e, 'message')) ?? [type, route, status].filter((x) => x !== null).join(' ');
  return {
    timestamp: str(pick(e, '@timestamp')),
    category: type ?? str(pick(e, 'event.category')),
    level: str(pick(e, 'log.level')),
    message,
    data: {
      ...(str(pick(e, 'service.name')) ? { service: str(pick(e, 'service.name')) } : {}),
      ...(route ? { route } : {}),
      ...(status ? { status: Number(status) } : {}),
      ...(typeof pick(e, 'transaction.amount') === 'number' ? { amount: pick(e, 'transaction.amount') } : {}),
    },
  };
}

/**
 * The sample of one stored event (its `_source`); `before` reads the events
 * of the same trace or session before it, newest first (used only when the
 * event carries no breadcrumbs of its own).
 */
export async function sampleOf(
  source: Record<string, unknown>,
  before: (at: { tsMs: number; traceId?: string; sessionId?: string }) => Promise<Record<string, unknown>[]>,
): Promise<ErrorSample> {
  let frames: StackFrame[] = [];
  for (const name of FRAME_FIELDS) {
    frames = framesOf(pick(source, name));
    if (frames.length > 0) break;
  }
  let stacktrace: string | null = null;
  for (const name of STACK_TEXT_FIELDS) {
    const text = pick(source, name);
    if (typeof text === 'string' && text !== '') {
      stacktrace = text;
      break;
    }
  }
  if (frames.length === 0 && stacktrace) frames = parseStackText(stacktrace);
  const anyInApp = frames.some(frameInApp);
  const shown = frames.map((f) => ({ ...f, inApp: anyInApp ? frameInApp(f) : true }));
  const labels = pick(source, 'labels');
  const tags: Record<string, string> = {};
  if (labels && typeof labels === 'object' && !Array.isArray(labels)) {
    for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
      const s = str(v);
      if (s !== null)
        Object.defineProperty(tags, k, { value: s, enumerable: true, writable: true, configurable: true });
    }
  }
  const timestamp = str(pick(source, '@timestamp')) ?? new Date(0).toISOString();
  const traceId = str(pick(source, 'trace_id'));
  const sessionId = str(pick(source, 'user.session_id'));
  let breadcrumbs = clientBreadcrumbs(pick(source, 'error.breadcrumbs'));
  let breadcrumbsFrom: ErrorSample['breadcrumbsFrom'] = breadcrumbs.length > 0 ? 'client' : 'none';
  if (breadcrumbs.length === 0 && (traceId || sessionId)) {
    const tsMs = Date.parse(timestamp);
    const events = await before({
      tsMs,
      ...(traceId ? { traceId } : {}),
      ...(sessionId ? { sessionId } : {}),
    });
    // Oldest first, without the error itself (the same time, type and message).
    breadcrumbs = events
      .filter((e) => !(str(pick(e, '@timestamp')) === timestamp && str(pick(e, 'error.fingerprint')) !== null))
      .slice(0, 20)
      .reverse()
      .map(eventBreadcrumb);
    if (breadcrumbs.length > 0) breadcrumbsFrom = 'events';
  }
  const handled = pick(source, 'error.handled');
  return {
    timestamp,
    eventId: str(pick(source, 'event.id')),
    type: str(pick(source, 'exception.type')) ?? '',
    message: str(pick(source, 'exception.message')) ?? str(pick(source, 'message')) ?? '',
    level: str(pick(source, 'log.level')),
    service: str(pick(source, 'service.name')),
    release: str(pick(source, 'service.version')),
    environment: str(pick(source, 'deployment.environment')),
    user: {
      id: str(pick(source, 'user.id')),
      email: str(pick(source, 'user.email')),
      username: str(pick(source, 'user.name')),
    },
    customerId: str(pick(source, 'customer.id')),
    sessionId,
    orderId: str(pick(source, 'order.id')),
    traceId,
    tags,
    handled: typeof handled === 'boolean' ? handled : null,
    frames: shown,
    stacktrace,
    breadcrumbsFrom,
    breadcrumbs,
    source,
  };
}
