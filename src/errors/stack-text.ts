/**
 * Frames from the text of a stack trace, for errors that carry their stack
 * as text (`exception.stacktrace` in OpenTelemetry's semantic conventions,
 * ECS `error.stack_trace`, a logged `err.stack`) instead of structured
 * frames. Reads the usual runtime formats line by line:
 *
 * - V8 (Node.js, Chrome): `    at CartService.add (/app/src/cart/cart-service.ts:104:22)`
 * - Java, Kotlin, Scala: `	at com.shop.cart.CartService.add(CartService.java:104)`
 * - .NET: `   at Shop.Cart.CartService.Add(Int32 id) in /src/Cart/CartService.cs:line 104`
 * - Python: `  File "/app/cart/service.py", line 104, in add`
 *
 * Lines in other forms are skipped. Only the first exception of a chained
 * Java trace counts (its `Caused by:` part is another exception). The
 * answer is outermost frame first, innermost last, as structured frames are.
 * Bounded: the first 200 lines, 1,024 characters of each, 100 frames; no
 * expression here can backtrack over a line.
 */
import type { StackFrame } from '../schema/error-record.ts';

const MAX_LINES = 200;
const MAX_LINE_CHARS = 1024;
const MAX_FRAMES = 100;

/** `file:line:col`, `file:line` or `file` → its parts (the last one or two `:`-numbers are the position). */
function location(text: string): Pick<StackFrame, 'file' | 'line' | 'column'> {
  const m = /:(\d+)(?::(\d+))?$/.exec(text);
  if (!m) return text === '' || text === 'native' ? {} : { file: text };
  const file = text.slice(0, m.index);
  return {
    ...(file === '' ? {} : { file }),
    line: Number(m[1]),
    ...(m[2] === undefined ? {} : { column: Number(m[2]) }),
  };
}

/** `    at X (loc)` / `    at loc` (V8), `at a.b.C.m(File.java:12)` (JVM), `at A.B.M() in file:line 12` (.NET). */
function atFrame(rest: string): StackFrame | undefined {
  const dotnet = / in (.+):line (\d+)$/.exec(rest);
  if (dotnet) {
    const call = rest.slice(0, dotnet.index);
    const name = call.includes('(') ? call.slice(0, call.indexOf('(')) : call;
    const dot = name.lastIndexOf('.');
    return {
      ...(dot > 0 ? { module: name.slice(0, dot), function: name.slice(dot + 1) } : { function: name }),
      file: dotnet[1] as string,
      line: Number(dotnet[2]),
    };
  }
  if (rest.endsWith(')')) {
    const open = rest.lastIndexOf(' (');
    if (open > 0)
      return { function: rest.slice(0, open).replace(/^async /, ''), ...location(rest.slice(open + 2, -1)) };
    const paren = rest.indexOf('(');
    if (paren > 0 && !rest.slice(0, paren).includes(' ')) {
      // JVM: the qualified method, then (File.java:12), (Native Method) or (Unknown Source).
      const qualified = rest.slice(0, paren);
      const dot = qualified.lastIndexOf('.');
      const where = location(rest.slice(paren + 1, -1));
      return {
        ...(dot > 0
          ? { module: qualified.slice(0, dot), function: qualified.slice(dot + 1) }
          : { function: qualified }),
        ...(where.file !== undefined && /\.\w+$/.test(where.file) ? where : {}),
      };
    }
  }
  const bare = rest.replace(/^async /, '');
  return bare.includes(' ') ? undefined : location(bare);
}

const PYTHON = /^File "([^"]*)", line (\d+)(?:, in (.*))?$/;

/** Frames of a stack trace's text, outermost first (see the file comment); empty when none is found. */
export function parseStackText(text: string): StackFrame[] {
  const innermostFirst: StackFrame[] = [];
  const outermostFirst: StackFrame[] = [];
  let lines = 0;
  let start = 0;
  while (start <= text.length && lines < MAX_LINES) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lines++;
    const line = text.slice(start, Math.min(end, start + MAX_LINE_CHARS)).trim();
    start = end + 1;
    if (line.startsWith('Caused by:') && innermostFirst.length > 0) break;
    if (line.startsWith('at ')) {
      const frame = atFrame(line.slice(3).trim());
      if (frame) innermostFirst.push(frame);
    } else if (line.startsWith('File "')) {
      const m = PYTHON.exec(line);
      if (m) outermostFirst.push({ file: m[1] as string, line: Number(m[2]), ...(m[3] ? { function: m[3] } : {}) });
    }
    if (innermostFirst.length + outermostFirst.length >= MAX_FRAMES) break;
  }
  return innermostFirst.length > 0 ? innermostFirst.reverse() : outermostFirst;
}
