/**
 * An ingest worker thread: reads, normalises and serialises request bodies
 * so that the main thread stays free for HTTP and commits. Answers each task
 * with the row lines and per-line rejections, or with the AppError of a
 * whole-request problem.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { prepareEvents } from './events-ndjson.ts';
import { Normalizer, type IngestContext } from './normalizer.ts';
import { checkedRecordOf } from '../store/segment-log.ts';
import { threadCpuSeconds } from '../telemetry/thread-cpu.ts';

/** A task sent to a worker. */
export interface WorkerTask {
  readonly id: number;
  readonly body: Uint8Array;
  readonly contentType: string | undefined;
  readonly ctx: IngestContext;
  /** Answer the rows as one NDJSON block with its CRC (transferred, not copied) instead of an array of lines. */
  readonly encode?: boolean;
}

/** A worker's answer. */
export type WorkerAnswer =
  | {
      readonly id: number;
      readonly ok: true;
      readonly rows: string[];
      /** With `encode`: the rows as one block (rows is empty then). */
      readonly block?: { body: Uint8Array; rows: number; minTsUs: number; maxTsUs: number; crc: number };
      readonly rejected: unknown[];
      readonly redactions: Record<string, number>;
      readonly eventTypes: readonly string[] | null;
      /** Time the worker spent on the task, s. */
      readonly seconds: number;
      /** CPU time the worker's thread spent on it, s (undefined where the system does not tell). */
      readonly cpuSeconds: number | undefined;
    }
  | {
      readonly id: number;
      readonly ok: false;
      readonly error: {
        status: number;
        code: string;
        message: string;
        details: Record<string, unknown>;
        headers: Record<string, string>;
      };
    };

/** The bytes in an ArrayBuffer of their own (transferable; a small Buffer shares Node's pool). */
function ownBytes(b: Buffer): Uint8Array {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.byteLength) return b;
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return copy;
}

/**
 * Nice value of an ingest worker thread. The loader that moves the ingest
 * log into the store must keep up with what the workers prepare, or the log
 * grows until ingest answers 429; on a machine with few cores the two
 * compete. Below normal priority, the workers get the CPU the loader and the
 * main thread leave, so preparing slows down before loading falls behind.
 */
const WORKER_NICE = 10;

/** Lowers this thread's priority (Linux keeps a nice value per thread; elsewhere it would be the whole process's). */
function lowerPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    setPriority(WORKER_NICE);
  } catch {
    // not permitted here: run at normal priority
  }
}

const port = parentPort;
if (port) {
  lowerPriority();
  const data = workerData as { ingest: Config['ingest']; privacy?: Config['privacy'] };
  const normalizer = new Normalizer(data.ingest, data.privacy);
  port.on('message', (task: WorkerTask) => {
    let answer: WorkerAnswer;
    const started = performance.now();
    const cpuStarted = threadCpuSeconds();
    try {
      const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
      const prepared = prepareEvents(normalizer, body, task.contentType, task.ctx);
      const record = task.encode ? checkedRecordOf(prepared.rows as string[]) : undefined;
      answer = {
        id: task.id,
        ok: true,
        rows: record ? [] : (prepared.rows as string[]),
        ...(record
          ? {
              block: {
                body: ownBytes(record.body),
                rows: record.rows,
                minTsUs: record.minTsUs,
                maxTsUs: record.maxTsUs ?? Infinity,
                crc: record.crc ?? 0,
              },
            }
          : {}),
        rejected: prepared.rejected,
        redactions: prepared.redactions,
        eventTypes: prepared.eventTypes,
        seconds: (performance.now() - started) / 1000,
        cpuSeconds: cpuStarted === undefined ? undefined : (threadCpuSeconds() ?? cpuStarted) - cpuStarted,
      };
    } catch (err) {
      const e =
        err instanceof AppError
          ? err
          : new AppError(500, 'ingest.worker_error', `The ingest worker failed: ${(err as Error).message}`);
      answer = {
        id: task.id,
        ok: false,
        error: {
          status: e.status,
          code: e.code,
          message: e.message,
          details: { ...e.details },
          headers: { ...e.headers },
        },
      };
    }
    // The block's memory moves to the main thread instead of being copied.
    port.postMessage(answer, answer.ok && answer.block ? [answer.block.body.buffer as ArrayBuffer] : []);
  });
}
