/**
 * Where an event's fields carry the parts of its error record
 * (src/schema/error-record.ts), by flattened dotted name: what the ingest
 * normaliser reads to fingerprint an event on the write path. The type and
 * message are typed columns (`exception.type`, `exception.message`, with
 * `message` as the fallback); the frames, the stack text and a list-form
 * client fingerprint are attributes.
 */
import type { ErrorRecord, StackFrame } from '../schema/error-record.ts';
import { parseStackText } from './stack-text.ts';

/** Arrays of structured frames (Sentry-style objects), outermost first. */
export const FRAME_FIELDS: readonly string[] = [
  'exception.frames',
  'error.frames',
  'exception.stacktrace.frames',
  'error.stack_trace.frames',
  'error.stack.frames',
];

/** The text of a stack trace (OpenTelemetry `exception.stacktrace`, ECS `error.stack_trace`, `err.stack`). */
export const STACK_TEXT_FIELDS: readonly string[] = [
  'exception.stacktrace',
  'error.stack_trace',
  'error.stack',
  'exception.stack',
  // As seed 003's structured log writes it.
  'exception.stackTrace',
  'error.stackTrace',
];

/** The Sentry project id of the DSN an event came through. */
export const PROJECT_FIELD = 'sentry.project_id';

/**
 * Every name above: an event holding one of them needs the whole flattened
 * event to be fingerprinted (the one-pass row writer hands it to the chain).
 */
export const ERROR_DETAIL_FIELDS: ReadonlySet<string> = new Set([
  ...FRAME_FIELDS,
  ...STACK_TEXT_FIELDS,
  // The parents of the nested frame fields, met first when an event nests them.
  'exception.stacktrace',
  'error.stack_trace',
  'error.stack',
  PROJECT_FIELD,
]);

/** Most frames read from one event. */
const MAX_FRAMES = 200;

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

/**
 * One structured frame from what a client sent: Sentry's names
 * (`filename`, `abs_path`, `function`, `module`, `lineno`, `colno`,
 * `in_app`) and the short ones (`file`, `line`, `column`, `inApp`).
 * Undefined for anything that is not an object.
 */
export function frameOf(raw: unknown): StackFrame | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const o = raw as Record<string, unknown>;
  const own = (k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);
  const file = text(own('file')) ?? text(own('filename')) ?? text(own('abs_path')) ?? text(own('path'));
  const fn = text(own('function')) ?? text(own('method')) ?? text(own('func'));
  const module = text(own('module')) ?? text(own('package')) ?? text(own('class'));
  const line = num(own('line')) ?? num(own('lineno'));
  const column = num(own('column')) ?? num(own('colno'));
  const inAppRaw = own('in_app') ?? own('inApp');
  return {
    ...(file === undefined ? {} : { file }),
    ...(fn === undefined ? {} : { function: fn }),
    ...(module === undefined ? {} : { module }),
    ...(line === undefined ? {} : { line }),
    ...(column === undefined ? {} : { column }),
    ...(typeof inAppRaw === 'boolean' ? { inApp: inAppRaw } : {}),
  };
}

/** Structured frames from an array value (at most the innermost 200). */
export function framesOf(value: unknown): StackFrame[] {
  if (!Array.isArray(value)) return [];
  const out: StackFrame[] = [];
  for (const raw of value.length > MAX_FRAMES ? value.slice(-MAX_FRAMES) : value) {
    const frame = frameOf(raw);
    if (frame) out.push(frame);
  }
  return out;
}

/**
 * The error record of a flattened event: `get` reads a field by dotted
 * name. `type` and `message` come from the typed columns; undefined when
 * the event has no exception type.
 */
export function errorRecordOf(
  type: unknown,
  message: unknown,
  service: unknown,
  clientFingerprint: string | readonly string[] | undefined,
  get: (name: string) => unknown,
): ErrorRecord | undefined {
  if (typeof type !== 'string') return undefined;
  let frames: StackFrame[] = [];
  for (const name of FRAME_FIELDS) {
    frames = framesOf(get(name));
    if (frames.length > 0) break;
  }
  if (frames.length === 0) {
    for (const name of STACK_TEXT_FIELDS) {
      const stack = get(name);
      if (typeof stack === 'string' && stack !== '') {
        frames = parseStackText(stack);
        break;
      }
    }
  }
  const project = text(get(PROJECT_FIELD));
  return {
    type,
    message: typeof message === 'string' ? message : '',
    frames,
    ...(clientFingerprint === undefined ? {} : { clientFingerprint }),
    ...(typeof service === 'string' ? { service } : {}),
    ...(project === undefined ? {} : { project }),
  };
}
