/**
 * Request bodies for the ingest protocols: decompression with a size cap,
 * splitting into lines, strict UTF-8, and JSON parse errors that never echo
 * the input (a rejected line may hold a card number).
 */
import { isAscii } from 'node:buffer';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import { AppError } from '../errors.ts';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const brotliAsync = promisify(brotliDecompress);

/** Undoes `Content-Encoding`; the result never exceeds `maxBytes` (else 413). */
export async function decodeBody(body: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  const inflater =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? gunzipAsync
      : encoding === 'deflate'
        ? inflateAsync
        : encoding === 'br'
          ? brotliAsync
          : undefined;
  if (!inflater) {
    throw new AppError(
      415,
      'ingest.unsupported_encoding',
      `Content-Encoding "${encoding}" is not supported; use gzip, deflate, br or none`,
    );
  }
  try {
    return await inflater(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new AppError(
        413,
        'ingest.body_too_large',
        `The decompressed body is larger than the limit of ${maxBytes} bytes`,
      );
    }
    throw new AppError(
      400,
      'ingest.invalid_encoding',
      `The body is not valid ${encoding} data: ${(err as Error).message}`,
    );
  }
}

/** One line of a body: its 1-based number and text, or why it cannot be read. */
export type BodyLine =
  | { readonly line: number; readonly text: string }
  | { readonly line: number; readonly error: { readonly code: string; readonly message: string } };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Splits a body into non-blank lines. Lines longer than `maxLineBytes` and
 * lines that are not valid UTF-8 come back as errors, one by one.
 */
export function splitLines(body: Buffer, maxLineBytes: number): BodyLine[] {
  const out: BodyLine[] = [];
  let whole: string | undefined;
  try {
    // ASCII is UTF-8 as it is, and reads as Latin-1 several times faster than the strict decoder reads it.
    whole = isAscii(body) ? body.toString('latin1') : strictUtf8.decode(body);
  } catch {
    whole = undefined;
  }
  if (whole !== undefined) {
    const lines = whole.split('\n');
    for (let i = 0; i < lines.length; i++) {
      let text = lines[i] as string;
      if (i === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (text.trim() === '') continue;
      // Characters never outnumber bytes; measure bytes only when it could matter.
      if (text.length > maxLineBytes || (text.length * 3 > maxLineBytes && Buffer.byteLength(text) > maxLineBytes)) {
        out.push(lineTooLong(i + 1, maxLineBytes));
      } else out.push({ line: i + 1, text });
    }
    return out;
  }
  // Some line is not UTF-8: find out which, line by line.
  let start = 0;
  let lineNo = 0;
  while (start <= body.length) {
    let end = body.indexOf(0x0a, start);
    if (end === -1) end = body.length;
    lineNo++;
    const slice = body.subarray(start, end);
    start = end + 1;
    if (slice.length > maxLineBytes) {
      out.push(lineTooLong(lineNo, maxLineBytes));
      continue;
    }
    let text: string;
    try {
      text = strictUtf8.decode(slice);
    } catch {
      out.push({ line: lineNo, error: { code: 'ingest.invalid_utf8', message: `line ${lineNo} is not valid UTF-8` } });
      continue;
    }
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() !== '') out.push({ line: lineNo, text });
    if (end === body.length) break;
  }
  return out;
}

function lineTooLong(line: number, max: number): BodyLine {
  return {
    line,
    error: { code: 'ingest.line_too_large', message: `line ${line} is longer than the limit of ${max} bytes` },
  };
}

/** Parses JSON; on failure says where, without quoting the input. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    if (err instanceof RangeError) return { ok: false, message: 'invalid JSON: nested too deeply' };
    const m = /position (\d+)/.exec((err as Error).message);
    if (m) return { ok: false, message: `invalid JSON at character ${Number(m[1]) + 1}` };
    if (/end of JSON/i.test((err as Error).message))
      return { ok: false, message: 'invalid JSON: unexpected end of input' };
    return { ok: false, message: 'invalid JSON: unexpected token' };
  }
}
