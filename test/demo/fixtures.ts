/**
 * Shared fixtures for the demo tests: one simulated weekday, generated once
 * per process, and small helpers to read the raw events.
 */
import type { DemoEvent } from '../../src/demo/demo-event.ts';
import { ShopSimulator, type ShopSimulatorOptions } from '../../src/demo/shop-simulator.ts';

/** Wednesday 2026-11-18 00:00 UTC: an ordinary weekday without the Saturday promotion. */
export const WEDNESDAY_MS = Date.UTC(2026, 10, 18);
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Typed access to a nested field by dotted path (`http.response.status_code`). */
export function field(event: DemoEvent, path: string): any {
  let node: any = event.body;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = node[key];
  }
  return node;
}

export function ofType(events: readonly DemoEvent[], type: string): DemoEvent[] {
  return events.filter((e) => field(e, 'event.type') === type);
}

export function pageViews(events: readonly DemoEvent[], category: string): DemoEvent[] {
  return ofType(events, 'page_view').filter((e) => field(e, 'page.category') === category);
}

/** Counts of `path`'s values. */
export function countBy(events: readonly DemoEvent[], path: string): Map<unknown, number> {
  const counts = new Map<unknown, number>();
  for (const e of events) counts.set(field(e, path), (counts.get(field(e, path)) ?? 0) + 1);
  return counts;
}

let day: { simulator: ShopSimulator; events: DemoEvent[] } | undefined;

/** One Wednesday of seed 42 at traffic scale 0.3 (~17,000 sessions), baseline conditions. */
export function baselineDay(): { simulator: ShopSimulator; events: DemoEvent[] } {
  if (!day) {
    const simulator = new ShopSimulator({ seed: 42, trafficScale: 0.3, infraIntervalMs: 300_000 });
    day = { simulator, events: simulator.eventsBetween(WEDNESDAY_MS, WEDNESDAY_MS + DAY_MS) };
  }
  return day;
}

export function simulate(options: ShopSimulatorOptions, fromMs: number, toMs: number): DemoEvent[] {
  return new ShopSimulator(options).eventsBetween(fromMs, toMs);
}
