/**
 * The ingest log: the commit point of every write (as Elasticsearch's
 * translog and Prometheus's WAL). Requests append their prepared row lines;
 * appends that arrive while a write runs are written together and made
 * durable with one fdatasync (group commit), and only then acknowledged.
 * A background loader (log-loader.ts) moves sealed segments into the store.
 *
 * A segment is one file `<dir>/<id>.ndjson` that the stores can read as it
 * is (DuckDB `read_ndjson`, ClickHouse `JSONEachRow`): every record is a
 * header line followed by its rows,
 *
 *     {"_log":{"rows":2,"bytes":123,"crc":3735928559,"minTs":…,"replace":["t\u0000id",…]}}
 *     {"ts":…,"tenant":…,…}
 *     {"ts":…,"tenant":…,…}
 *
 * The header carries the length and CRC-32 of the row bytes that follow, so
 * a torn tail (a crash in the middle of a write) is detected at replay and
 * dropped: those bytes were never acknowledged. Header lines have no `ts`,
 * which is how loads tell them from rows.
 *
 * Rows are redacted before they get here (ingest/normalizer.ts): no card
 * number or secret is ever written to the log.
 */
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { AppError } from '../errors.ts';
import { rowLineTimeUs } from '../schema/record.ts';

/** What a segment's rows need from the loader besides the file. */
export interface SegmentInfo {
  readonly id: number;
  readonly path: string;
  /** Rows in the segment (header lines not counted). */
  readonly rows: number;
  /** Bytes of the file. */
  readonly bytes: number;
  /** Earliest event time of its rows, µs (Infinity when empty). */
  readonly minTsUs: number;
  /** Latest event time of its rows, µs (-Infinity when empty or unknown). */
  readonly maxTsUs: number;
  /** `tenant\0event id` of the rows that replace earlier events of that id (Elasticsearch `index` with `_id`). */
  readonly replace: ReadonlySet<string>;
}

/** One request's rows, ready to append. */
export interface LogRecord {
  /** Row lines (see schema/record.ts), each ending in "\n". */
  readonly body: Buffer;
  readonly rows: number;
  readonly minTsUs: number;
  /** Latest event time of the rows, µs (absent: unknown). */
  readonly maxTsUs?: number;
  /** `tenant\0event id` of rows that replace earlier events with that id. */
  readonly replace?: readonly string[];
  /** CRC-32 of `body`, when whoever built the record computed it already (an ingest worker). */
  readonly crc?: number;
  /**
   * What the rows are, when whoever built the record knew it (an ingest worker): all of one tenant,
   * with these distinct `event.type` values ('' for none; null: too many to list). Else the body is
   * read for it when someone listens (visible-rows.ts).
   */
  readonly summary?: { readonly tenant: string; readonly eventTypes: readonly string[] | null };
}

export interface SegmentLogOptions {
  readonly dir: string;
  /** Seal a segment once it holds this many rows (DuckDB's row group: 122,880). */
  readonly segmentRows: number;
  /** Most bytes of segments not yet loaded; appends beyond answer 429. */
  readonly maxBytes: number;
}

export interface SegmentLogObserver {
  /** A segment was sealed: hand it to the loader. */
  onSealed(segment: SegmentInfo): void;
  /** After each durable write: records, rows and bytes written, seconds it took. */
  onWrite?(records: number, rows: number, bytes: number, seconds: number): void;
  /** Rows waiting for the next write, whenever it changes. */
  onQueue?(rows: number): void;
}

/** An appended record's place: visible once segment `segment` is loaded. */
export interface LogPosition {
  readonly segment: number;
  /** When the append was acknowledged (performance.now()). */
  readonly ackedAt: number;
}

interface Pending {
  readonly record: LogRecord;
  readonly header: Buffer;
  readonly resolve: (position: LogPosition) => void;
  readonly reject: (err: unknown) => void;
}

interface Active {
  readonly id: number;
  readonly path: string;
  readonly handle: FileHandle;
  rows: number;
  bytes: number;
  minTsUs: number;
  maxTsUs: number;
  readonly replace: Set<string>;
  /** When its first record was acknowledged (performance.now()); 0 before. */
  firstAckAt: number;
}

const FILE = /^(\d{12})\.ndjson$/;
const HEADER_PREFIX = '{"_log":';

/** The file of segment `id` in `dir`. */
export function segmentPath(dir: string, id: number): string {
  return join(dir, `${String(id).padStart(12, '0')}.ndjson`);
}

/** Builds a record from row lines (each without its newline); the earliest time is read from each line's `ts`. */
export function recordOf(lines: readonly string[], replace?: readonly string[]): LogRecord {
  let minTsUs = Infinity;
  let maxTsUs = -Infinity;
  for (const line of lines) {
    const ts = rowLineTimeUs(line);
    if (ts < minTsUs) minTsUs = ts;
    if (ts > maxTsUs) maxTsUs = ts;
  }
  const body = Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n` : '');
  return { body, rows: lines.length, minTsUs, maxTsUs, ...(replace && replace.length > 0 ? { replace } : {}) };
}

/** As recordOf, with the CRC computed here (in the worker thread that prepared the rows). */
export function checkedRecordOf(lines: readonly string[]): LogRecord {
  const record = recordOf(lines);
  return { ...record, crc: crc32(record.body) };
}

function headerOf(r: LogRecord): Buffer {
  const meta: Record<string, unknown> = { rows: r.rows, bytes: r.body.length, crc: r.crc ?? crc32(r.body) };
  if (Number.isFinite(r.minTsUs)) meta['minTs'] = r.minTsUs;
  if (r.maxTsUs !== undefined && Number.isFinite(r.maxTsUs)) meta['maxTs'] = r.maxTsUs;
  if (r.replace) meta['replace'] = r.replace;
  return Buffer.from(`${HEADER_PREFIX}${JSON.stringify(meta)}}\n`);
}

/** What a replay scan of one segment file found. */
export interface ScannedSegment extends SegmentInfo {
  /** Bytes of a torn or corrupt tail that were cut off (0: none). */
  readonly droppedBytes: number;
  readonly droppedReason?: string;
}

/**
 * Reads a segment file written by a process that may have crashed: checks
 * every record's length and CRC, cuts the file after the last good record
 * (a torn tail was never acknowledged), and answers what it holds.
 */
export function scanSegment(dir: string, id: number): ScannedSegment {
  const path = segmentPath(dir, id);
  const data = readFileSync(path);
  let offset = 0;
  let rows = 0;
  let minTsUs = Infinity;
  let maxTsUs = -Infinity;
  let timesKnown = true;
  const replace = new Set<string>();
  let reason: string | undefined;
  while (offset < data.length) {
    const nl = data.indexOf(10, offset);
    const line = nl === -1 ? '' : data.toString('utf8', offset, nl);
    if (!line.startsWith(HEADER_PREFIX)) {
      reason = nl === -1 ? 'a record header is cut short' : 'a record does not start with a header';
      break;
    }
    let meta: { rows: number; bytes: number; crc: number; minTs?: number; maxTs?: number; replace?: string[] };
    try {
      meta = (JSON.parse(line) as { _log: typeof meta })._log;
    } catch {
      reason = 'a record header is not valid JSON';
      break;
    }
    const start = nl + 1;
    const end = start + meta.bytes;
    if (end > data.length) {
      reason = `a record's rows are cut short (${data.length - start} of ${meta.bytes} bytes)`;
      break;
    }
    if (crc32(data.subarray(start, end)) !== meta.crc) {
      reason = "a record's checksum does not match its rows";
      break;
    }
    rows += meta.rows;
    if (meta.minTs !== undefined && meta.minTs < minTsUs) minTsUs = meta.minTs;
    if (meta.maxTs === undefined) timesKnown = false;
    else if (meta.maxTs > maxTsUs) maxTsUs = meta.maxTs;
    for (const key of meta.replace ?? []) replace.add(key);
    offset = end;
  }
  const droppedBytes = data.length - offset;
  if (droppedBytes > 0) truncateSync(path, offset);
  return {
    id,
    path,
    rows,
    bytes: offset,
    minTsUs,
    maxTsUs: timesKnown ? maxTsUs : Infinity,
    replace,
    droppedBytes,
    ...(reason ? { droppedReason: reason } : {}),
  };
}

/** Segment ids present in `dir`, ascending. */
export function segmentIds(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => FILE.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

export class SegmentLog {
  readonly #options: SegmentLogOptions;
  readonly #observer: SegmentLogObserver;
  #nextId: number;
  #active: Active | undefined;
  #queue: Pending[] = [];
  #writing = false;
  #sealWanted = false;
  #closed = false;
  /** Bytes of sealed segments not yet loaded (released by `released`). */
  #sealedBytes = 0;
  #drained: (() => void)[] = [];
  #queuedRows = 0;

  /** @param nextId the id the first new segment gets (above every segment already in `dir`) */
  constructor(options: SegmentLogOptions, nextId: number, observer: SegmentLogObserver) {
    this.#options = options;
    this.#observer = observer;
    this.#nextId = nextId;
  }

  /** Bytes in the log not yet loaded (sealed and active). */
  get bytes(): number {
    return this.#sealedBytes + (this.#active?.bytes ?? 0);
  }

  /** Rows of the segment being written. */
  get activeRows(): number {
    return this.#active?.rows ?? 0;
  }

  /** How long ago the oldest record of the segment being written was acknowledged, ms (0: none). */
  get activeAgeMs(): number {
    const at = this.#active?.firstAckAt ?? 0;
    return at === 0 ? 0 : performance.now() - at;
  }

  /** The segment being written, if any (its rows are visible once it is sealed and loaded). */
  get activeId(): number | undefined {
    return this.#active?.id;
  }

  /** The newest segment id handed out (being written, sealed, or loaded). */
  get lastId(): number {
    return this.#nextId - 1;
  }

  /** Counts bytes of a sealed segment (replayed at open) until it is loaded. */
  adopt(bytes: number): void {
    this.#sealedBytes += bytes;
  }

  /** The loader loaded (and deleted) a sealed segment of `bytes`. */
  released(bytes: number): void {
    this.#sealedBytes -= bytes;
  }

  /**
   * Appends a record; resolves once it is on disk (fdatasync), with the
   * segment it is in. Refuses at once (429, Retry-After) when the log holds
   * `maxBytes` not yet loaded: the loader is behind.
   */
  append(record: LogRecord): Promise<LogPosition> {
    if (this.#closed) {
      return Promise.reject(
        new AppError(503, 'ingest.shutting_down', 'Shoplens is shutting down; retry shortly', {
          headers: { 'Retry-After': '5' },
        }),
      );
    }
    if (this.bytes > 0 && this.bytes + record.body.length > this.#options.maxBytes) {
      return Promise.reject(
        new AppError(
          429,
          'ingest.overloaded',
          `The ingest log holds ${mib(this.bytes)} not yet loaded into the store (limit ${mib(this.#options.maxBytes)}, store.maxLogSize); retry after a second`,
          { headers: { 'Retry-After': '1' } },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ record, header: headerOf(record), resolve, reject });
      this.#queuedRows += record.rows;
      this.#observer.onQueue?.(this.#queuedRows);
      if (!this.#writing) void this.#write();
    });
  }

  /** Seals the active segment as soon as no write runs (the refresh interval passed, or a refresh was asked for). */
  seal(): void {
    if (!this.#active || this.#active.rows === 0) return;
    if (this.#writing) this.#sealWanted = true;
    else void this.#sealNow();
  }

  async #write(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        let rows = 0;
        for (const p of batch) rows += p.record.rows;
        this.#queuedRows -= rows;
        this.#observer.onQueue?.(this.#queuedRows);
        const started = performance.now();
        let seg: Active;
        try {
          seg = this.#active ?? (await this.#openSegment());
          const buffers: Buffer[] = [];
          let bytes = 0;
          for (const p of batch) {
            buffers.push(p.header, p.record.body);
            bytes += p.header.length + p.record.body.length;
          }
          await writeAll(seg.handle, buffers);
          await seg.handle.datasync();
          seg.bytes += bytes;
          for (const p of batch) {
            seg.rows += p.record.rows;
            if (p.record.minTsUs < seg.minTsUs) seg.minTsUs = p.record.minTsUs;
            // A record that does not know its latest time makes the segment's unknown (Infinity).
            const max = p.record.maxTsUs ?? Infinity;
            if (max > seg.maxTsUs) seg.maxTsUs = max;
            if (p.record.replace) for (const key of p.record.replace) seg.replace.add(key);
          }
          this.#observer.onWrite?.(batch.length, rows, bytes, (performance.now() - started) / 1000);
        } catch (err) {
          const failure = new AppError(
            503,
            'ingest.log_write_failed',
            `Writing the ingest log failed: ${(err as Error).message}`,
            {
              cause: err,
              headers: { 'Retry-After': '1' },
            },
          );
          // A write that failed half way leaves a tail the next replay drops; start a new segment.
          await this.#abandonActive();
          for (const p of batch) p.reject(failure);
          continue;
        }
        const ackedAt = performance.now();
        if (seg.firstAckAt === 0) seg.firstAckAt = ackedAt;
        for (const p of batch) p.resolve({ segment: seg.id, ackedAt });
        if (seg.rows >= this.#options.segmentRows || this.#sealWanted) await this.#sealNow();
      }
    } finally {
      this.#writing = false;
      if (this.#queue.length === 0) for (const d of this.#drained.splice(0)) d();
    }
  }

  async #openSegment(): Promise<Active> {
    await mkdir(this.#options.dir, { recursive: true, mode: 0o700 });
    const id = this.#nextId++;
    const path = segmentPath(this.#options.dir, id);
    const handle = await open(path, 'wx', 0o600);
    // The new file's directory entry must be durable too, or a crash could lose the whole file.
    syncDir(this.#options.dir);
    this.#active = {
      id,
      path,
      handle,
      rows: 0,
      bytes: 0,
      minTsUs: Infinity,
      maxTsUs: -Infinity,
      replace: new Set(),
      firstAckAt: 0,
    };
    return this.#active;
  }

  async #sealNow(): Promise<void> {
    this.#sealWanted = false;
    const seg = this.#active;
    if (!seg || seg.rows === 0) return;
    this.#active = undefined;
    await seg.handle.close();
    this.#sealedBytes += seg.bytes;
    this.#observer.onSealed({
      id: seg.id,
      path: seg.path,
      rows: seg.rows,
      bytes: seg.bytes,
      minTsUs: seg.minTsUs,
      maxTsUs: seg.maxTsUs,
      replace: seg.replace,
    });
  }

  async #abandonActive(): Promise<void> {
    const seg = this.#active;
    this.#active = undefined;
    if (!seg) return;
    await seg.handle.close().catch(() => undefined);
    // What was acknowledged in it is durable: keep it for the loader, the torn tail is cut at replay.
    if (seg.rows > 0) {
      this.#sealedBytes += seg.bytes;
      try {
        if (statSync(seg.path).size > seg.bytes) truncateSync(seg.path, seg.bytes);
      } catch {
        // the replay cuts it
      }
      this.#observer.onSealed({ ...seg });
    } else {
      try {
        unlinkSync(seg.path);
      } catch {
        // gone
      }
    }
  }

  /** Waits for pending appends, seals the active segment and refuses new appends. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#writing || this.#queue.length > 0) await new Promise<void>((r) => this.#drained.push(r));
    const seg = this.#active;
    if (seg && seg.rows === 0) {
      this.#active = undefined;
      await seg.handle.close();
      unlinkSync(seg.path);
    } else {
      await this.#sealNow();
    }
  }
}

/** Writes every buffer, in order, at the end of the file (handles short writes). */
async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest);
    let n = bytesWritten;
    const next: Buffer[] = [];
    for (const b of rest) {
      if (n >= b.length) n -= b.length;
      else {
        next.push(n > 0 ? b.subarray(n) : b);
        n = 0;
      }
    }
    rest = next;
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
