/**
 * The error record: what error grouping (src/errors/fingerprint.ts) reads
 * from one occurrence of an error, whatever protocol brought it. An NDJSON
 * or `_bulk` event with `exception.*` / `error.*` fields, a Sentry SDK event
 * (src/ingest/sentry-event.ts), and later an OpenTelemetry log record with
 * `exception.*` attributes, a span's `exception` event or an error-status
 * span all reduce to this shape before they are fingerprinted. It names no
 * engine and no wire format.
 *
 * How each source fills it:
 * - NDJSON / `_bulk`: `exception.type` (alias `error.type`),
 *   `exception.message` (or `message`), `exception.frames` / `error.frames`
 *   (structured frames) or `exception.stacktrace` / `error.stack_trace`
 *   (the text of a stack trace), `error.fingerprint`.
 * - Sentry: the last value of `exception.values` (the exception that was
 *   raised last), its `stacktrace.frames`, the event's `fingerprint`.
 * - OpenTelemetry (semantic conventions `exception.type`,
 *   `exception.message`, `exception.stacktrace`): the same fields as
 *   NDJSON, from a log record's attributes or a span event's.
 */

/** One frame of a stack trace. Any member may be missing. */
export interface StackFrame {
  /** Source file or URL as the runtime reported it (`/app/src/cart/cart-service.ts`). */
  readonly file?: string;
  /** Function or method name (`CartService.add`). */
  readonly function?: string;
  /** Module, package or class path when the runtime knows it (`com.shop.cart.CartService`, `cart.service`). */
  readonly module?: string;
  /** 1-based line number. Never used for grouping: a deploy moves lines. */
  readonly line?: number;
  /** 1-based column number. */
  readonly column?: number;
  /** True for the application's own code, false for libraries and the runtime; undefined when unknown. */
  readonly inApp?: boolean;
}

/** One occurrence of an error, as grouping sees it. */
export interface ErrorRecord {
  /** Exception type or class (`PaymentDeclinedException`, `TypeError`). */
  readonly type: string;
  /** The exception's message as raised (ids and numbers included). */
  readonly message: string;
  /**
   * Frames from the outermost call to the innermost (the frame that raised
   * last), the order Sentry and OpenTelemetry's parsers use. Empty when the
   * error came without a stack trace.
   */
  readonly frames: readonly StackFrame[];
  /**
   * A fingerprint the client chose: a string (used as the group id as it
   * is) or Sentry's list form, where `{{ default }}` stands for the
   * fingerprint Shoplens would compute. Undefined when the client sent none.
   */
  readonly clientFingerprint?: string | readonly string[];
  /** `service.name` of the event (grouping rules may match it). */
  readonly service?: string;
  /** Sentry project id of the DSN the event came through (grouping rules may match it). */
  readonly project?: string;
}
