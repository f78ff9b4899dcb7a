/**
 * CPU time of the calling thread, for the per-stage CPU figures in
 * `/metrics` (`shoplens_ingest_stage_cpu_seconds_total`). Wall time per
 * stage says little on a busy machine: an ingest worker at a lowered
 * priority waits for the CPU as long as it computes. Node 20 has no
 * per-thread CPU clock (`process.threadCpuUsage` came in Node 23.9), so
 * this reads Linux's `/proc/thread-self/schedstat`, whose first field is the
 * time the thread ran, in nanoseconds (a read costs a few µs: once per
 * ingest request, not per event).
 */
import { readFileSync } from 'node:fs';

let supported = process.platform === 'linux';

/** Seconds the calling thread has run on a CPU, or undefined where the system does not tell. */
export function threadCpuSeconds(): number | undefined {
  if (!supported) return undefined;
  try {
    const text = readFileSync('/proc/thread-self/schedstat', 'latin1');
    const ns = Number(text.slice(0, text.indexOf(' ')));
    if (Number.isFinite(ns)) return ns / 1e9;
  } catch {
    // no procfs here
  }
  supported = false;
  return undefined;
}
