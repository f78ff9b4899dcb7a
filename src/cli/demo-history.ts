/**
 * The demo's history backfill: what the store is missing of the last
 * `--history`, filled newest first at the live traffic's density. The part
 * the first screens show (the last few hours) is stored before live traffic
 * starts; the older part follows in the background while live traffic runs,
 * on its own simulator (same seed and options, so the same events).
 */
import { backfill, type EventSink } from '../demo/demo-runner.ts';
import type { ShopSimulator } from '../demo/shop-simulator.ts';

/** A window of history still to store, epoch ms, [fromMs, toMs). */
export interface HistoryGap {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * Splits the missing windows at `readyFromMs`: what lies after it is stored
 * before live traffic starts, the rest in the background. Both lists are
 * newest first.
 */
export function splitHistory(
  gaps: readonly HistoryGap[],
  readyFromMs: number,
): { readonly ready: HistoryGap[]; readonly background: HistoryGap[] } {
  const ready: HistoryGap[] = [];
  const background: HistoryGap[] = [];
  for (const gap of [...gaps].sort((a, b) => b.toMs - a.toMs)) {
    if (gap.toMs > readyFromMs) ready.push({ fromMs: Math.max(gap.fromMs, readyFromMs), toMs: gap.toMs });
    if (gap.fromMs < readyFromMs) background.push({ fromMs: gap.fromMs, toMs: Math.min(gap.toMs, readyFromMs) });
  }
  return { ready, background };
}

export interface HistoryRunOptions {
  readonly signal: AbortSignal;
  /** One line per message. */
  readonly log: (line: string) => void;
  /** A progress line to redraw in place (a terminal); without it, `log` gets one every `reportEvery`. */
  readonly progress?: ((line: string) => void) | undefined;
  /** Share of a window between two progress lines sent to `log` (default 0.1). */
  readonly reportEvery?: number;
  /** Names the part in its lines, e.g. "recent history". */
  readonly label: string;
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const minuteOf = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** Stores the windows newest first; resolves with the events stored (stops early when aborted). */
export async function fillHistory(
  simulator: ShopSimulator,
  sink: EventSink,
  gaps: readonly HistoryGap[],
  options: HistoryRunOptions,
): Promise<number> {
  const reportEvery = options.reportEvery ?? 0.1;
  let stored = 0;
  for (const gap of gaps) {
    if (options.signal.aborted) break;
    options.log(`Backfilling the ${options.label}: ${minuteOf(gap.fromMs)} → ${minuteOf(gap.toMs)} UTC, newest first…`);
    let nextReport = reportEvery;
    const result = await backfill(simulator, sink, {
      ...gap,
      newestFirst: true,
      signal: options.signal,
      onProgress: (p) => {
        const line = `backfill ${String(Math.floor(p.fraction * 100)).padStart(3)}% | back to ${minuteOf(p.reachedMs)} | ${count(p.sent)} events | ${count(p.sent / Math.max(p.elapsedMs / 1000, 0.001))} events/s`;
        if (options.progress) options.progress(line);
        else if (p.fraction >= nextReport) {
          options.log(line);
          nextReport = Math.floor(p.fraction / reportEvery) * reportEvery + reportEvery;
        }
      },
    });
    stored += result.accepted;
    options.log(
      `Backfilled ${count(result.accepted)} events of the ${options.label} in ${(result.elapsedMs / 1000).toFixed(1)} s` +
        (result.rejected > 0 ? `; ${result.rejected} rejected, first: ${result.firstRejection}` : ''),
    );
  }
  return stored;
}
