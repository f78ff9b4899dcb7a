/**
 * The thread that generates the demo's history: it rebuilds the run's shop
 * from data (src/demo/demo-shop.ts), writes each window's events as NDJSON
 * bodies and hands them to the main thread as bytes (transferred, not
 * copied), so the main thread only passes them on to ingest. It runs at most
 * `ahead` bodies ahead of the main thread (one credit per body taken), so
 * memory stays bounded whatever the history's length.
 *
 * Started through demo-history-worker-entry.mjs (worker threads do not
 * inherit the tsx loader).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { DemoShopWithIncidents } from '../demo/demo-shop.ts';
import { rebuildSimulator } from '../demo/demo-shop.ts';
import { historyBatches, type HistoryBatch } from '../demo/history-batches.ts';
import { otlpTracesBody } from './demo-traces.ts';

export interface HistoryWorkerData {
  readonly shop: DemoShopWithIncidents;
  /** Windows to generate in this order, epoch ms, [fromMs, toMs); each newest chunk first. */
  readonly gaps: readonly { readonly fromMs: number; readonly toMs: number }[];
  readonly chunkMs?: number;
  readonly batchSize?: number;
  /** Bodies generated before the main thread takes any. */
  readonly ahead: number;
}

/** One more body may be generated. */
export interface HistoryCredit {
  readonly type: 'credit';
}

export type FromHistoryWorker =
  /** Window `gap` starts. */
  | { readonly type: 'gap'; readonly gap: number }
  | {
      readonly type: 'batch';
      readonly gap: number;
      /** UTF-8 NDJSON. */
      readonly body: Uint8Array;
      readonly events: number;
      /** The chunk's traces as one OTLP/HTTP protobuf body (on its last body, when the shop makes traces). */
      readonly spans?: { readonly body: Uint8Array; readonly spans: number };
      readonly chunk?: HistoryBatch['chunk'];
    }
  | { readonly type: 'done' }
  | { readonly type: 'error'; readonly message: string };

async function run(data: HistoryWorkerData, port: NonNullable<typeof parentPort>): Promise<void> {
  let credits = data.ahead;
  let wake: (() => void) | undefined;
  port.on('message', (message: HistoryCredit) => {
    if (message.type !== 'credit') return;
    credits++;
    wake?.();
  });
  const simulator = rebuildSimulator(data.shop);
  for (const [gap, window] of data.gaps.entries()) {
    port.postMessage({ type: 'gap', gap } satisfies FromHistoryWorker);
    const batches = historyBatches(simulator, {
      ...window,
      newestFirst: true,
      ...(data.chunkMs === undefined ? {} : { chunkMs: data.chunkMs }),
      ...(data.batchSize === undefined ? {} : { batchSize: data.batchSize }),
    });
    for (const batch of batches) {
      while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
      credits--;
      const body = batch.body;
      const spans = batch.traces ? otlpTracesBody(batch.traces) : undefined;
      const message: FromHistoryWorker = {
        type: 'batch',
        gap,
        body,
        events: batch.events,
        ...(spans ? { spans } : {}),
        ...(batch.chunk ? { chunk: batch.chunk } : {}),
      };
      // Transferred, not copied: each body has an ArrayBuffer of its own (protobufjs's may share a pool slab).
      const transfer = body.byteLength > 0 ? [body.buffer as ArrayBuffer] : [];
      port.postMessage(message, transfer);
    }
  }
  port.postMessage({ type: 'done' } satisfies FromHistoryWorker);
}

const port = parentPort;
if (!isMainThread && port) {
  run(workerData as HistoryWorkerData, port).catch((err: unknown) => {
    port.postMessage({ type: 'error', message: (err as Error).message } satisfies FromHistoryWorker);
  });
}
