/**
 * A demo-shop scenario in a real store for alert tests: 24 h of thin history
 * (10 % of traffic, as `shoplens demo` backfills), then 3 h at full density,
 * optionally with one incident starting one hour into the full-density part.
 */
import { pipelineSink } from '../../src/cli/demo-sinks.ts';
import { backfill } from '../../src/demo/demo-runner.ts';
import { IncidentSchedule, type IncidentName } from '../../src/demo/incidents.ts';
import { ShopSimulator } from '../../src/demo/shop-simulator.ts';
import type { TestServer } from '../helpers/server.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

export interface Scenario {
  /** End of the generated data, ms. */
  readonly endMs: number;
  /** The incident's window (when one was injected): [endMs − 2h, endMs − 1h). */
  readonly incident?: { readonly name: IncidentName; readonly fromMs: number; readonly toMs: number };
  /**
   * Time and `event.type` of every event at full density, in time order: when the live demo would
   * send each one (pack-run.ts replays them as the batches that trigger evaluations).
   */
  readonly arrivals: readonly Arrival[];
}

/** One event of a scenario: its timestamp (ms) and `event.type`. */
export interface Arrival {
  readonly tsMs: number;
  readonly eventType: string;
}

/** A fixed hour boundary two days before now: a weekday afternoon is not required, only determinism per run. */
export function scenarioEnd(nowMs: number = Date.now()): number {
  return Math.floor(nowMs / HOUR_MS) * HOUR_MS - 36 * HOUR_MS;
}

export async function loadScenario(
  server: TestServer,
  options: {
    endMs: number;
    incident?: IncidentName;
    historyHours?: number;
    seed?: number;
    tenant?: string;
    /** Hours at full density before endMs (default 3); the incident starts one hour into them. */
    fullHours?: number;
    incidentMinutes?: number;
    /** Traffic scale of the history before the full-density part (default 0.1, as the demo backfills). */
    historyScale?: number;
  },
): Promise<Scenario> {
  const { endMs } = options;
  const fullFrom = endMs - (options.fullHours ?? 3) * HOUR_MS;
  const schedule = new IncidentSchedule();
  const incidentFrom = fullFrom + HOUR_MS;
  const incident = options.incident
    ? {
        name: options.incident,
        fromMs: incidentFrom,
        toMs: incidentFrom + (options.incidentMinutes ?? 60) * MINUTE_MS,
      }
    : undefined;
  if (incident) schedule.add(incident.name, incident.fromMs, incident.toMs);
  const simulator = new ShopSimulator({
    seed: options.seed ?? 42,
    trafficScale: (t) => (t < fullFrom ? (options.historyScale ?? 0.1) : 1),
    conditions: schedule.hook,
  });
  const sink = pipelineSink(server.server.context.pipeline, options.tenant ?? 'default');
  const arrivals: Arrival[] = [];
  await backfill(
    simulator,
    {
      ...sink,
      send: (events) => {
        for (const e of events) {
          const tsMs = Date.parse(String(e['@timestamp']));
          const type = (e['event'] as { type?: unknown } | undefined)?.type;
          if (tsMs >= fullFrom) arrivals.push({ tsMs, eventType: typeof type === 'string' ? type : '' });
        }
        return sink.send(events);
      },
    },
    { fromMs: fullFrom - (options.historyHours ?? 24) * HOUR_MS, toMs: endMs },
  );
  arrivals.sort((a, b) => a.tsMs - b.tsMs);
  return { endMs, arrivals, ...(incident ? { incident } : {}) };
}
