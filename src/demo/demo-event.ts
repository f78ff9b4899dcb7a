/**
 * What the simulator produces: raw events in the JSON shape a shop would
 * send to `POST /api/v1/events` (nested ECS objects), each with
 * its time kept apart so the runner can place it on the wall clock.
 */

/** One simulated event. */
export interface DemoEvent {
  /** When it happened, epoch milliseconds (UTC). */
  readonly tsMs: number;
  /** The event without `@timestamp`, nested (`{ transaction: { amount } }`, not `transaction.amount`). */
  readonly body: Readonly<Record<string, unknown>>;
}

/** The raw JSON event with `@timestamp` first; `tsMs` overrides the event's own time (time-lapse replay). */
export function toRawEvent(event: DemoEvent, tsMs: number = event.tsMs): Record<string, unknown> {
  return { '@timestamp': new Date(tsMs).toISOString(), ...event.body };
}

/** Events as NDJSON, one per line, with a trailing newline. */
export function toNdjson(events: readonly DemoEvent[]): string {
  let out = '';
  for (const event of events) out += `${JSON.stringify(toRawEvent(event))}\n`;
  return out;
}
