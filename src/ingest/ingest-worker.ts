/**
 * An ingest worker thread: reads, normalises and serialises request bodies
 * so that the main thread stays free for HTTP and commits. Answers each task
 * with the row lines and per-line rejections, or with the AppError of a
 * whole-request problem.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { prepareEvents } from './events-ndjson.ts';
import { Normalizer, type IngestContext } from './normalizer.ts';

/** A task sent to a worker. */
export interface WorkerTask {
  readonly id: number;
  readonly body: Uint8Array;
  readonly contentType: string | undefined;
  readonly ctx: IngestContext;
}

/** A worker's answer. */
export type WorkerAnswer =
  | {
      readonly id: number;
      readonly ok: true;
      readonly rows: string[];
      readonly rejected: unknown[];
      readonly redactions: Record<string, number>;
      /** Time the worker spent on the task, s. */
      readonly seconds: number;
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

const port = parentPort;
if (port) {
  const data = workerData as { ingest: Config['ingest']; privacy?: Config['privacy'] };
  const normalizer = new Normalizer(data.ingest, data.privacy);
  port.on('message', (task: WorkerTask) => {
    let answer: WorkerAnswer;
    const started = performance.now();
    try {
      const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
      const prepared = prepareEvents(normalizer, body, task.contentType, task.ctx);
      answer = {
        id: task.id,
        ok: true,
        rows: prepared.rows as string[],
        rejected: prepared.rejected,
        redactions: prepared.redactions,
        seconds: (performance.now() - started) / 1000,
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
    port.postMessage(answer);
  });
}
