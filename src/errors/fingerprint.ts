/**
 * Error grouping: the fingerprint that decides which occurrences of an error
 * are one issue (docs/errors.md states the same algorithm with examples).
 *
 * 1. A fingerprint the client sent wins: a string is the group id as it is
 *    (up to 200 characters; longer ones are hashed); Sentry's list form is
 *    hashed, with `{{ default }}` standing for step 3's fingerprint.
 * 2. Otherwise the first grouping rule of the configuration that matches
 *    forces its group (grouping-rules.ts).
 * 3. Otherwise, when the error has a stack trace: the exception type plus
 *    the module and function of each in-app frame (innermost 20, direct
 *    recursion collapsed). Line and column numbers never count, so a deploy
 *    that moves code does not split a group, while the same exception type
 *    raised from two call sites makes two groups. When no frame is in-app,
 *    all frames count.
 * 4. Otherwise: the exception type plus its message with the variable parts
 *    replaced (normalizeMessage): quoted text, URLs' paths and queries,
 *    e-mail addresses, UUIDs, hex strings, ids holding digits, numbers.
 *
 * Computed fingerprints are the first 16 hex digits of SHA-1 over the
 * components (joined by newlines, after a version tag), and never hold 13 or
 * more consecutive decimal digits: redaction would take such a run for a card
 * number wherever the id is stored or shown.
 *
 * Everything here is bounded: messages count by their first 1,024
 * characters, stack texts by their first 200 lines, and every scan is linear.
 */
import { createHash } from 'node:crypto';
import type { ErrorRecord, StackFrame } from '../schema/error-record.ts';

/** Version tag hashed into every computed fingerprint: changing the algorithm changes it. */
export const FINGERPRINT_VERSION = 'v1';
/** Characters of a message that count for grouping. */
export const MESSAGE_PREFIX_CHARS = 1024;
/** Innermost grouping frames that count. */
export const MAX_GROUPING_FRAMES = 20;
/** Longest client fingerprint string kept as the group id (document ids are at most 200 characters). */
export const MAX_CLIENT_FINGERPRINT = 200;
/** The placeholder of Sentry's fingerprint lists. */
const DEFAULT_PLACEHOLDER = /^\{\{\s*default\s*\}\}$/;

/** How a fingerprint was made (shown on the group page, so users can see why events group). */
export type FingerprintBasis = 'client' | 'rule' | 'frames' | 'message';

export interface Fingerprint {
  readonly fingerprint: string;
  readonly basis: FingerprintBasis;
}

/** The first 16 hex digits of SHA-1 over the parts, re-hashed until no 13-digit run remains. */
export function hashParts(parts: readonly string[]): string {
  let text = parts.join('\n');
  for (;;) {
    const hex = createHash('sha1').update(text).digest('hex').slice(0, 16);
    if (!/\d{13}/.test(hex)) return hex;
    text += '\n';
  }
}

// ---------------------------------------------------------------- messages

const QUOTED = /"[^"\n]{0,200}"|'[^'\n]{0,200}'|`[^`\n]{0,200}`/g;
const URL = /\b[a-z][a-z0-9+.-]{0,15}:\/\/[^\s"'<>()[\]{}]+/gi;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const HEX_PREFIXED = /\b0x[0-9a-f]+\b/gi;
/** Hex runs of 8+ characters with a letter and a digit (hashes, object ids, request ids). */
const HEX_RUN = /\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi;
/** Word-ish tokens, hyphens and underscores included (`ORD-123`, `evt_3f2a`, `WH-US-1`). */
const TOKEN = /[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*/g;
const NUMBER = /\d+(?:[.,]\d+)*/g;
const SPACES = /\s+/g;
/** A part after a separator that is an id by its look: 6+ capitals and digits (`ORD-KX7QPMZB2A`). */
const CAPS_ID_PART = /[-_][A-Z0-9]{6,}(?![a-z])/;

/** A URL with only its scheme and host kept; path segments that vary become `<id>`, a query `?<query>`. */
function urlShape(url: string): string {
  const schemeEnd = url.indexOf('://');
  const rest = url.slice(schemeEnd + 3);
  const cut = rest.search(/[/?#]/);
  const host = cut < 0 ? rest : rest.slice(0, cut);
  const after = cut < 0 ? '' : rest.slice(cut);
  const hashAt = after.indexOf('#');
  const noHash = hashAt < 0 ? after : after.slice(0, hashAt);
  const queryAt = noHash.indexOf('?');
  const path = queryAt < 0 ? noHash : noHash.slice(0, queryAt);
  const segments = path
    .split('/')
    .map((s) => (s === '' ? s : /\d/.test(s) || s.length > 24 ? '<id>' : s))
    .join('/');
  return `${url.slice(0, schemeEnd).toLowerCase()}://${host.replace(/\d+/g, '<n>')}${segments}${queryAt < 0 ? '' : '?<query>'}`;
}

const LOCAL_PART = /[A-Za-z0-9.!#$%&*+/=?^_{|}~-]/;
const DOMAIN_PART = /[A-Za-z0-9.-]/;

/**
 * E-mail addresses (masked ones too: `j***@gmail.com`) as `<email>`. Found
 * from each `@` outwards, at most 64 characters left and 255 right, so the
 * scan is linear whatever the text.
 */
function replaceEmails(text: string): string {
  if (!text.includes('@')) return text;
  let out = '';
  let copied = 0;
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > copied && at - start < 64 && LOCAL_PART.test(text[start - 1] as string)) start--;
    let end = at + 1;
    while (end < text.length && end - at < 255 && DOMAIN_PART.test(text[end] as string)) end++;
    while (end > at + 1 && text[end - 1] === '.') end--;
    const domain = text.slice(at + 1, end);
    if (start === at || !/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(domain)) continue;
    out += `${text.slice(copied, start)}<email>`;
    copied = end;
    at = end - 1;
  }
  return out + text.slice(copied);
}

/**
 * The message with its variable parts replaced, as grouping compares it
 * (step 4 of the file comment):
 * `Payment declined for order ORD-123 (amount 149.99)` →
 * `Payment declined for order <id> (amount <n>)`.
 */
export function normalizeMessage(message: string): string {
  let s = message.length > MESSAGE_PREFIX_CHARS ? message.slice(0, MESSAGE_PREFIX_CHARS) : message;
  s = s.replace(QUOTED, '<str>');
  s = s.replace(URL, urlShape);
  s = replaceEmails(s);
  s = s.replace(UUID, '<uuid>');
  s = s.replace(HEX_PREFIXED, '<hex>');
  s = s.replace(HEX_RUN, '<hex>');
  s = s.replace(TOKEN, (token) => {
    const digit = /\d/.test(token);
    if (digit && /[A-Za-z]/.test(token)) return '<id>';
    if (!digit && CAPS_ID_PART.test(token)) return '<id>';
    return token;
  });
  s = s.replace(NUMBER, '<n>');
  return s.replace(SPACES, ' ').trim();
}

// ------------------------------------------------------------------ frames

const SOURCE_EXTENSION = /\.(?:[cm]?[jt]sx?|py|pyc|java|kt|scala|rb|go|php|cs|fs|vb|swift|dart|ex|exs|erl|clj)$/i;
/** Name parts that a build varies: `app.3f2a9c1b.js`, `chunk-4f3a2b1c.js`. */
const BUILD_HASH = /([.-])(?=[0-9a-f]*\d)[0-9a-f]{6,}(?=[.-]|$)/gi;

/** The frame's module as grouping compares it: the module, package or class, else a short form of the file. */
export function frameModule(frame: StackFrame): string {
  const module = frame.module?.trim();
  if (module) {
    // Java/Kotlin anonymous classes and lambdas number their classes: `CartService$1`, `$$Lambda$12/0x…`.
    return module.replace(/\$\$Lambda.*$/, () => '$$Lambda').replace(/\$\d+/g, '');
  }
  let file = (frame.file ?? '').trim().replace(/\\/g, '/');
  if (file === '') return '';
  file = file.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, ''); // scheme and host of a URL
  file = file.replace(/[?#].*$/, '');
  const nodeModules = file.lastIndexOf('node_modules/');
  const segments = (nodeModules >= 0 ? file.slice(nodeModules + 'node_modules/'.length) : file)
    .split('/')
    .filter((s) => s !== '' && s !== '.');
  const kept = nodeModules >= 0 ? segments : segments.slice(-2);
  return kept.join('/').replace(SOURCE_EXTENSION, '').replace(BUILD_HASH, '$1<hash>');
}

/** The frame's function as grouping compares it. */
export function frameFunction(frame: StackFrame): string {
  let fn = (frame.function ?? '').trim();
  fn = fn.replace(/^(?:async|new)\s+/, '').replace(/\s*\[as [^\]]*\]$/, '');
  if (fn === '' || fn === '?' || fn === '<anonymous>' || fn === 'Object.<anonymous>') return '<anonymous>';
  // Java lambdas and anonymous classes number themselves: `lambda$process$0`, `Foo$1.run`.
  return fn.replace(/\$\$Lambda.*$/, () => '$$Lambda').replace(/\$\d+/g, '');
}

const LIBRARY_FILE = /(?:^|\/)(?:node_modules|site-packages|dist-packages|vendor|bower_components)\//;
const RUNTIME_FILE = /^(?:node:|internal\/|<|native$|\[native code\])/;
const RUNTIME_MODULE = /^(?:java|javax|jdk|sun|com\.sun|kotlin|scala|System|Microsoft)\./;

/** Whether a frame is the application's own code, from its file or module when it does not say. */
export function frameInApp(frame: StackFrame): boolean {
  if (frame.inApp !== undefined) return frame.inApp;
  const file = (frame.file ?? '').replace(/\\/g, '/');
  if (file !== '' && (LIBRARY_FILE.test(file) || RUNTIME_FILE.test(file))) return false;
  if (frame.module && RUNTIME_MODULE.test(frame.module)) return false;
  return file !== '' || (frame.module ?? '') !== '';
}

/**
 * The frames that count for grouping, innermost last, as `module:function`
 * pairs: the in-app ones (every frame when none is), the innermost
 * MAX_GROUPING_FRAMES, with direct recursion collapsed to one frame.
 */
export function groupingFrames(frames: readonly StackFrame[]): string[] {
  const inApp = frames.filter(frameInApp);
  const chosen = inApp.length > 0 ? inApp : frames;
  const out: string[] = [];
  for (const frame of chosen) {
    const module = frameModule(frame);
    const fn = frameFunction(frame);
    if (module === '' && fn === '<anonymous>') continue;
    const part = `${module}:${fn}`;
    if (out[out.length - 1] !== part) out.push(part);
  }
  return out.slice(-MAX_GROUPING_FRAMES);
}

// ------------------------------------------------------------- fingerprints

/** Step 3 or 4 of the file comment: what Shoplens computes when nothing decides for it. */
export function defaultFingerprint(error: ErrorRecord): Fingerprint {
  const type = error.type.trim();
  const frames = groupingFrames(error.frames);
  if (frames.length > 0) {
    return { fingerprint: hashParts([FINGERPRINT_VERSION, 'frames', type, ...frames]), basis: 'frames' };
  }
  return {
    fingerprint: hashParts([FINGERPRINT_VERSION, 'message', type, normalizeMessage(error.message)]),
    basis: 'message',
  };
}

/** Step 1 of the file comment, or undefined when the client sent no usable fingerprint. */
export function clientFingerprint(error: ErrorRecord): Fingerprint | undefined {
  const sent = error.clientFingerprint;
  if (typeof sent === 'string') {
    const text = sent.trim();
    if (text === '') return undefined;
    return {
      fingerprint: text.length <= MAX_CLIENT_FINGERPRINT ? text : hashParts([FINGERPRINT_VERSION, 'client', text]),
      basis: 'client',
    };
  }
  if (!Array.isArray(sent) || sent.length === 0) return undefined;
  const parts = (sent as readonly string[])
    .slice(0, 64)
    .map((p) => String(p).slice(0, MAX_CLIENT_FINGERPRINT))
    .map((p) => (DEFAULT_PLACEHOLDER.test(p.trim()) ? `default:${defaultFingerprint(error).fingerprint}` : p));
  return { fingerprint: hashParts([FINGERPRINT_VERSION, 'client', ...parts]), basis: 'client' };
}

/** The group title: `Type: message` as sent (the first line of the message, up to 200 characters). */
export function errorTitle(type: string, message: string): string {
  const firstLine = message.split('\n', 1)[0]?.trim() ?? '';
  const short = firstLine.length > 200 ? `${firstLine.slice(0, 199)}…` : firstLine;
  if (type === '') return short;
  return short === '' ? type : `${type}: ${short}`;
}
