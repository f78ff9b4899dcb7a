/**
 * A Sentry event (https://develop.sentry.dev/sdk/data-model/event-payloads/)
 * → a raw Shoplens event, before the shared normalise-and-redact step. Only
 * the mapping lives here: redaction of every field (breadcrumbs, request
 * headers and bodies, contexts, tags) and the fingerprint happen in the one
 * normaliser every protocol uses.
 *
 * | Sentry | Shoplens |
 * |---|---|
 * | `event_id`, `timestamp`, `level` | `event.id`, `@timestamp`, `log.level` |
 * | the last `exception.values[]` (the one raised last) | `exception.type`, `exception.message`, `exception.frames`, `error.handled` (from its `mechanism`) |
 * | the other exception values | `error.chained` (type and message) |
 * | `message` / `logentry` without an exception | `exception.type` `Message`, `exception.message` |
 * | `fingerprint` | `error.fingerprint` (Sentry's list form) |
 * | `breadcrumbs` | `error.breadcrumbs` |
 * | `release`, `environment`, `server_name` | `service.version`, `deployment.environment`, `host.name` |
 * | `tags` | `labels.<tag>`; tags `service`, `order.id`/`order_id`, `customer.id`/`customer_id`, `session_id`, `gateway` also their fields |
 * | `user` | `user.id`, `user.email`, `user.name`, `client.ip` |
 * | `contexts.trace` | `trace_id`, `span_id` |
 * | other `contexts`, `extra`, `request` | `contexts.*`, `sentry.extra.*`, `sentry.request.*` (bounded) |
 *
 * The service is the `service` (or `service.name`) tag, else
 * `sentry-<project id>`. Objects from client keys are null-prototype, and
 * what a client nests deeply or at length is cut (MAX_* below) so that a
 * legitimate event never hits the field limits of ingest.
 */
import { dataObject } from '../schema/data-object.ts';

/** Why an item cannot be stored. */
export interface SentryRejection {
  readonly code: string;
  readonly message: string;
}

const MAX_FRAMES = 100;
const MAX_BREADCRUMBS = 100;
const MAX_TAGS = 100;
const MAX_STRING = 16 * 1024;
/** Leaves kept from `extra`, `contexts` and `request` together. */
const MAX_FREE_LEAVES = 400;
/** Depth kept below `extra`, `contexts` and `request` (Sentry's SDKs normalise to 3). */
const MAX_FREE_DEPTH = 3;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function own(o: unknown, key: string): unknown {
  return isObject(o) && Object.hasOwn(o, key) ? o[key] : undefined;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > MAX_STRING ? v.slice(0, MAX_STRING) : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

/** A copy cut to `depth` levels and the leaf budget; deeper parts become their JSON text (cut). */
function bounded(value: unknown, depth: number, budget: { leaves: number }): unknown {
  if (budget.leaves <= 0) return undefined;
  if (value === null || typeof value !== 'object') {
    budget.leaves--;
    return typeof value === 'string' ? str(value) : value;
  }
  if (depth <= 0) {
    // Deeper than kept: a short description instead (serialising it could nest as deep as the client made it).
    budget.leaves--;
    if (Array.isArray(value)) return `[array of ${value.length}]`;
    const keys = Object.keys(value);
    return `[object with ${keys.length} keys: ${keys.slice(0, 10).join(', ').slice(0, 200)}]`;
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value.slice(0, 50)) {
      const b = bounded(v, depth - 1, budget);
      if (b !== undefined) out.push(b);
    }
    return out;
  }
  const out = dataObject();
  let keys = 0;
  for (const key of Object.keys(value)) {
    if (keys++ >= 50) break;
    const b = bounded((value as Record<string, unknown>)[key], depth - 1, budget);
    if (b !== undefined) out[key] = b;
  }
  return out;
}

/** Sentry's `{ values: [...] }` or a bare list. */
function values(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  const inner = own(v, 'values');
  return Array.isArray(inner) ? inner : [];
}

function frameOf(raw: unknown): Record<string, unknown> | undefined {
  if (!isObject(raw)) return undefined;
  const out = dataObject();
  for (const key of ['filename', 'abs_path', 'function', 'module', 'package', 'context_line', 'platform']) {
    const v = str(own(raw, key));
    if (v !== undefined) out[key] = v;
  }
  for (const key of ['lineno', 'colno']) {
    const v = own(raw, key);
    if (typeof v === 'number' && Number.isFinite(v)) out[key] = v;
  }
  const inApp = own(raw, 'in_app');
  if (typeof inApp === 'boolean') out['in_app'] = inApp;
  return out;
}

function breadcrumbOf(raw: unknown): Record<string, unknown> | undefined {
  if (!isObject(raw)) return undefined;
  const out = dataObject();
  for (const key of ['type', 'category', 'message', 'level']) {
    const v = str(own(raw, key));
    if (v !== undefined) out[key] = v;
  }
  const ts = own(raw, 'timestamp');
  if (typeof ts === 'number' || typeof ts === 'string') out['timestamp'] = ts;
  const data = own(raw, 'data');
  if (isObject(data)) out['data'] = bounded(data, 2, { leaves: 30 });
  return out;
}

/** `message` (a string or `{ message, formatted }`) or `logentry`, formatted first. */
function messageOf(event: unknown): string | undefined {
  for (const source of [own(event, 'logentry'), own(event, 'message')]) {
    if (typeof source === 'string') return str(source);
    const text = str(own(source, 'formatted')) ?? str(own(source, 'message'));
    if (text !== undefined) return text;
  }
  return undefined;
}

function level(v: unknown): string | undefined {
  const l = str(v)?.toLowerCase();
  if (l === undefined) return undefined;
  return l === 'warning' ? 'WARN' : l.toUpperCase();
}

/** Tags as `{key: value}` (Sentry accepts an object or a list of pairs). */
function tagsOf(v: unknown): Record<string, string> {
  const out = dataObject<string>();
  const pairs: [unknown, unknown][] = Array.isArray(v)
    ? v.filter((p): p is [unknown, unknown] => Array.isArray(p) && p.length === 2)
    : isObject(v)
      ? Object.entries(v)
      : [];
  for (const [k, value] of pairs.slice(0, MAX_TAGS)) {
    const key = str(k);
    const text = str(value);
    if (key && text !== undefined && key.length <= 200) out[key] = text;
  }
  return out;
}

/** Event time: RFC 3339 text or seconds since the epoch (float). */
function timestampOf(v: unknown): string | number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v * 1000);
  if (typeof v === 'string' && v.trim() !== '') return v;
  return undefined;
}

/**
 * The raw Shoplens event of one Sentry event received for `projectId`, or a
 * rejection naming what is wrong. `eventId` is the id to answer with.
 */
export function sentryEventToRaw(
  event: unknown,
  projectId: string,
): { ok: true; raw: Record<string, unknown>; eventId: string | undefined } | ({ ok: false } & SentryRejection) {
  if (!isObject(event)) {
    return { ok: false, code: 'sentry.invalid_event', message: 'the event is not a JSON object' };
  }
  const eventIdRaw = own(event, 'event_id');
  const eventId = typeof eventIdRaw === 'string' ? eventIdRaw.replace(/-/g, '').toLowerCase() : undefined;
  if (eventIdRaw !== undefined && (eventId === undefined || !/^[0-9a-f]{32}$/.test(eventId))) {
    return { ok: false, code: 'sentry.invalid_event', message: 'field "event_id": expected 32 hex digits' };
  }
  const exceptions = values(own(event, 'exception')).filter(isObject);
  const main = exceptions[exceptions.length - 1];
  const message = messageOf(event);
  if (!main && message === undefined) {
    return { ok: false, code: 'sentry.invalid_event', message: 'the event has neither an exception nor a message' };
  }
  const raw = dataObject();
  const ts = timestampOf(own(event, 'timestamp'));
  if (ts !== undefined) raw['@timestamp'] = ts;
  raw['event'] = { ...(eventId ? { id: eventId } : {}), type: 'error', category: 'application', outcome: 'failure' };
  const lvl = level(own(event, 'level'));
  raw['log'] = {
    level: lvl ?? (main ? 'ERROR' : 'INFO'),
    ...(str(own(event, 'logger')) ? { logger: str(own(event, 'logger')) } : {}),
  };

  const exception = dataObject();
  const error = dataObject();
  // captureMessage with a stack attached sends an exception without a type (a synthetic one): a message.
  const synthetic = own(own(main, 'mechanism'), 'synthetic') === true && own(main, 'type') === undefined;
  if (main && !(synthetic && message !== undefined)) {
    const type = str(own(main, 'type')) ?? 'Error';
    const value = str(own(main, 'value')) ?? '';
    exception['type'] = type;
    exception['message'] = value;
    const module = str(own(main, 'module'));
    if (module) exception['module'] = module;
    const frames = values(own(own(main, 'stacktrace'), 'frames'));
    const kept = (frames.length > MAX_FRAMES ? frames.slice(-MAX_FRAMES) : frames).map(frameOf).filter(isObject);
    if (kept.length > 0) exception['frames'] = kept;
    const handled = own(own(main, 'mechanism'), 'handled');
    if (typeof handled === 'boolean') error['handled'] = handled;
    const mechanism = str(own(own(main, 'mechanism'), 'type'));
    if (mechanism) error['mechanism'] = mechanism;
    raw['message'] = message ?? (value === '' ? type : `${type}: ${value}`);
    if (exceptions.length > 1) {
      error['chained'] = exceptions
        .slice(0, -1)
        .slice(-10)
        .map((e) => ({ type: str(own(e, 'type')) ?? '', message: str(own(e, 'value')) ?? '' }));
    }
  } else {
    exception['type'] = 'Message';
    exception['message'] = message;
    raw['message'] = message;
  }
  raw['exception'] = exception;
  const fingerprint = own(event, 'fingerprint');
  if (Array.isArray(fingerprint)) {
    const parts = fingerprint.map(str).filter((p): p is string => p !== undefined);
    if (parts.length > 0) error['fingerprint'] = parts.slice(0, 64);
  }
  const crumbs = values(own(event, 'breadcrumbs'));
  const keptCrumbs = (crumbs.length > MAX_BREADCRUMBS ? crumbs.slice(-MAX_BREADCRUMBS) : crumbs)
    .map(breadcrumbOf)
    .filter(isObject);
  if (keptCrumbs.length > 0) error['breadcrumbs'] = keptCrumbs;
  raw['error'] = error;

  const tags = tagsOf(own(event, 'tags'));
  const release = str(own(event, 'release'));
  const service = tags['service.name'] ?? tags['service'] ?? `sentry-${projectId}`;
  raw['service'] = { name: service, ...(release ? { version: release } : {}) };
  const environment = str(own(event, 'environment'));
  if (environment) raw['deployment'] = { environment };
  const serverName = str(own(event, 'server_name'));
  if (serverName) raw['host'] = { name: serverName };
  if (Object.keys(tags).length > 0) raw['labels'] = tags;
  const fromTags: [string, string][] = [
    ['order.id', tags['order.id'] ?? tags['order_id'] ?? ''],
    ['customer.id', tags['customer.id'] ?? tags['customer_id'] ?? ''],
    ['transaction.gateway', tags['gateway'] ?? tags['transaction.gateway'] ?? ''],
  ];
  for (const [field, value] of fromTags) if (value !== '') raw[field] = value;

  const user = own(event, 'user');
  if (isObject(user)) {
    const u = dataObject();
    const id = str(own(user, 'id'));
    if (id) u['id'] = id;
    const email = str(own(user, 'email'));
    if (email) u['email'] = email;
    const name = str(own(user, 'username')) ?? str(own(user, 'name'));
    if (name) u['name'] = name;
    const session = tags['session_id'] ?? tags['session.id'];
    if (session) u['session_id'] = session;
    if (Object.keys(u).length > 0) raw['user'] = u;
    const ip = str(own(user, 'ip_address'));
    if (ip && ip !== '{{auto}}') raw['client.ip'] = ip;
  } else if (tags['session_id']) raw['user'] = { session_id: tags['session_id'] };

  const contexts = own(event, 'contexts');
  const budget = { leaves: MAX_FREE_LEAVES };
  if (isObject(contexts)) {
    const trace = own(contexts, 'trace');
    const traceId = str(own(trace, 'trace_id'));
    const spanId = str(own(trace, 'span_id'));
    if (traceId) raw['trace_id'] = traceId;
    if (spanId) raw['span_id'] = spanId;
    const rest = dataObject();
    for (const key of Object.keys(contexts).slice(0, 20)) {
      if (key !== 'trace') rest[key] = contexts[key];
    }
    const kept = bounded(rest, MAX_FREE_DEPTH, budget);
    if (isObject(kept) && Object.keys(kept).length > 0) raw['contexts'] = kept;
  }
  const sentry = dataObject();
  sentry['project_id'] = projectId;
  for (const key of ['platform', 'transaction', 'dist']) {
    const v = str(own(event, key));
    if (v) sentry[key] = v;
  }
  const sdk = own(event, 'sdk');
  if (isObject(sdk)) sentry['sdk'] = { name: str(own(sdk, 'name')) ?? '', version: str(own(sdk, 'version')) ?? '' };
  const request = own(event, 'request');
  if (isObject(request)) {
    const method = str(own(request, 'method'));
    if (method) raw['http.request.method'] = method.toUpperCase();
    const url = str(own(request, 'url'));
    if (url) raw['url.original'] = url;
    const kept = bounded(request, MAX_FREE_DEPTH, budget);
    if (isObject(kept)) {
      delete kept['method'];
      delete kept['url'];
      if (Object.keys(kept).length > 0) sentry['request'] = kept;
    }
  }
  const extra = own(event, 'extra');
  if (isObject(extra)) {
    const kept = bounded(extra, MAX_FREE_DEPTH, budget);
    if (isObject(kept) && Object.keys(kept).length > 0) sentry['extra'] = kept;
  }
  raw['sentry'] = sentry;
  return { ok: true, raw, eventId };
}
