/**
 * The demo's incidents, kept in the store's documents beside the events they
 * shape: the ground truth of what was injected when survives a restart on
 * the same data directory, and an incident still in progress resumes (the
 * restarted shop's traffic keeps the incident's conditions until its end).
 */
import type { DemoIncidentControl, IncidentRecord, IncidentSchedule } from '../demo/incidents.ts';
import { isIncidentName } from '../demo/incidents.ts';
import type { DocumentStore } from '../store/documents.ts';

/** Document kind of one injected incident (tenant "default", as the demo's events). */
export const DEMO_INCIDENT_KIND = 'demo.incident';
const TENANT = 'default';

/** What is stored per incident: its ground truth, wall-clock epoch ms (service and description follow from the name). */
interface StoredIncident {
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number;
}

function documentId(record: Pick<IncidentRecord, 'name' | 'startMs'>): string {
  return `${new Date(record.startMs).toISOString()} ${record.name}`;
}

/**
 * The HTTP API's incident control under `shoplens demo` on the embedded
 * store: an incident started at run time is answered (201) only once it is
 * recorded.
 */
export class StoredIncidents implements DemoIncidentControl {
  readonly #schedule: IncidentSchedule;
  #documents: DocumentStore | undefined;
  readonly #attached: Promise<void>;
  #markAttached: () => void = () => {};

  constructor(schedule: IncidentSchedule) {
    this.#schedule = schedule;
    this.#attached = new Promise((resolve) => (this.#markAttached = resolve));
  }

  /**
   * Resumes the incidents recorded by earlier runs and records those
   * scheduled so far (`--incident`). Answers the resumed ones; calls `warn`
   * for a stored incident it cannot read (skipped).
   */
  async attach(documents: DocumentStore, warn: (line: string) => void): Promise<IncidentRecord[]> {
    const scheduled = this.#schedule.list();
    const resumed: IncidentRecord[] = [];
    for (const doc of await documents.list<StoredIncident>(TENANT, DEMO_INCIDENT_KIND, { limit: 10_000 })) {
      const body = doc.body;
      try {
        const name = String(body.name);
        if (!isIncidentName(name)) throw new RangeError(`unknown incident "${name}"`);
        resumed.push(this.#schedule.resume({ name, startMs: Number(body.startMs), endMs: Number(body.endMs) }));
      } catch (err) {
        warn(`Skipping the stored demo incident ${doc.id}: ${(err as Error).message}`);
      }
    }
    for (const record of scheduled) await this.#record(documents, record);
    this.#documents = documents;
    this.#markAttached();
    return resumed;
  }

  list(): readonly IncidentRecord[] {
    return this.#schedule.list();
  }

  async start(name: string, durationMinutes: number | undefined, nowMs: number): Promise<IncidentRecord> {
    await this.#attached;
    const record = this.#schedule.start(name, durationMinutes, nowMs);
    try {
      await this.#record(this.#documents as DocumentStore, record);
    } catch (err) {
      // It starts at the next minute: unscheduled now, no event has been shaped by it yet.
      this.#schedule.remove(record);
      throw err;
    }
    return record;
  }

  async #record(documents: DocumentStore, record: IncidentRecord): Promise<void> {
    const body: StoredIncident = { name: record.name, startMs: record.startMs, endMs: record.endMs };
    await documents.put(TENANT, DEMO_INCIDENT_KIND, documentId(record), body);
  }
}
