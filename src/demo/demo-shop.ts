/**
 * The shop of one demo run as plain data: seed, traffic scales, the live
 * start and the incidents. A worker thread that generates the history
 * rebuilds from it a simulator that gives exactly the events the run's own
 * simulator gives (the simulator is a pure function of its options, and
 * these are all of them).
 */
import type { ConditionsHook } from './conditions.ts';
import { IncidentSchedule, type IncidentWindow } from './incidents.ts';
import { demoDeploys, ReleaseSchedule } from './releases.ts';
import { ShopSimulator, type ShopSimulatorOptions } from './shop-simulator.ts';

export interface DemoShop {
  readonly seed: number;
  /** Where live traffic starts, epoch ms: the history lies before it. */
  readonly liveStartMs: number;
  /** Traffic scale before `liveStartMs`. */
  readonly historyScale: number;
  /** Traffic scale from `liveStartMs` on. */
  readonly liveScale: number;
  /** Time between two infrastructure samples of each pod, ms. */
  readonly infraIntervalMs: number;
  /**
   * Traces made (ShopSimulator `traceSampling`): one in `history` of the
   * user actions before `liveStartMs`, one in `live` from it on (1 = all).
   * Absent: no traces.
   */
  readonly traceSampling?: { readonly history: number; readonly live: number };
}

/** A demo shop with its incidents, in shop time, in the order they were scheduled. */
export interface DemoShopWithIncidents extends DemoShop {
  readonly incidents: readonly IncidentWindow[];
}

/** The simulator options of the run; `conditions` is the run's incident hook. */
export function demoSimulatorOptions(shop: DemoShop, conditions?: ConditionsHook): ShopSimulatorOptions {
  const { liveStartMs, historyScale, liveScale } = shop;
  return {
    seed: shop.seed,
    trafficScale: (t: number) => (t < liveStartMs ? historyScale : liveScale),
    infraIntervalMs: shop.infraIntervalMs,
    ...(shop.traceSampling
      ? {
          traceSampling: (t: number) =>
            t < liveStartMs ? (shop.traceSampling?.history ?? 0) : (shop.traceSampling?.live ?? 0),
        }
      : {}),
    releases: new ReleaseSchedule(demoDeploys(liveStartMs)),
    ...(conditions ? { conditions } : {}),
  };
}

/** A simulator of the run rebuilt from data: the same events as one made with the run's own incident schedule. */
export function rebuildSimulator(shop: DemoShopWithIncidents): ShopSimulator {
  const schedule = new IncidentSchedule();
  for (const incident of shop.incidents) schedule.add(incident.name, incident.fromMs, incident.toMs);
  return new ShopSimulator(demoSimulatorOptions(shop, schedule.hook));
}
