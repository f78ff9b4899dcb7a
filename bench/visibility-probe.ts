/**
 * Time to visibility under load: every `intervalMs` a one-event request with
 * a unique `event.id`; once it is acknowledged, the id waits in a set that
 * one poller queries (`POST /api/v1/query`, every id outstanding in one
 * query, one query in flight) until the event is counted. Works whatever the
 * write path: visible at ack (0 ms after it) or later.
 *
 * "Visible" is when the first query that counted the event was sent: the
 * event was visible by then, give or take that query's own latency (reported
 * apart, as `queryMs`: under load a query may wait behind the writer, which
 * is not the time data takes to become visible). The previous query of the
 * poller, sent `pollMs` or one query's latency earlier, had not seen it.
 */

export interface VisibilityResult {
  readonly probes: number;
  /** visible − acknowledged, ms, per probe that became visible. */
  readonly ackToVisibleMs: number[];
  /** visible − sent, ms. */
  readonly sentToVisibleMs: number[];
  /** Latency of each poll query, ms. */
  readonly queryMs: number[];
  /** Acknowledged but not visible by the end of the grace period. */
  readonly neverVisible: number;
  /** Probe requests answered other than 200, or polls that failed. */
  readonly failures: number;
  readonly firstFailure?: string;
}

interface Pending {
  /** The event's own @timestamp, epoch ms. */
  readonly ts: number;
  readonly sentAt: number;
  readonly ackedAt: number;
}

/** Most ids asked about in one query. */
const IDS_PER_QUERY = 50;

export class VisibilityProbe {
  readonly #url: string;
  readonly #ingestKey: string;
  readonly #readKey: string;
  readonly #intervalMs: number;
  readonly #pollMs: number;
  readonly #runId = `${process.pid}-${Date.now().toString(36)}`;
  readonly #pending = new Map<string, Pending>();
  readonly #ackToVisible: number[] = [];
  readonly #sentToVisible: number[] = [];
  readonly #queryMs: number[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #probes = 0;
  #failures = 0;
  #firstFailure: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #stopping = false;

  constructor(o: { url: string; ingestKey: string; readKey: string; intervalMs?: number; pollMs?: number }) {
    this.#url = o.url;
    this.#ingestKey = o.ingestKey;
    this.#readKey = o.readKey;
    this.#intervalMs = o.intervalMs ?? 200;
    this.#pollMs = o.pollMs ?? 50;
  }

  start(): void {
    this.#timer = setInterval(() => {
      const p = this.#send().finally(() => this.#inFlight.delete(p));
      this.#inFlight.add(p);
    }, this.#intervalMs);
    this.#polling = this.#poll();
  }

  /** Stops sending; waits up to `graceMs` for the acknowledged probes to become visible. */
  async stop(graceMs = 10_000): Promise<VisibilityResult> {
    clearInterval(this.#timer);
    await Promise.all(this.#inFlight);
    const deadline = Date.now() + graceMs;
    while (this.#pending.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.#stopping = true;
    await this.#polling;
    return {
      probes: this.#probes,
      ackToVisibleMs: this.#ackToVisible,
      sentToVisibleMs: this.#sentToVisible,
      queryMs: this.#queryMs,
      neverVisible: this.#pending.size,
      failures: this.#failures,
      ...(this.#firstFailure === undefined ? {} : { firstFailure: this.#firstFailure }),
    };
  }

  #fail(what: string): void {
    this.#failures++;
    this.#firstFailure ??= what.slice(0, 300);
  }

  async #send(): Promise<void> {
    const id = `bench-probe-${this.#runId}-${this.#probes++}`;
    const ts = Date.now();
    const body = `${JSON.stringify({
      '@timestamp': new Date(ts).toISOString(),
      event: { id, type: 'bench_probe', outcome: 'success' },
      service: { name: 'bench-probe' },
    })}\n`;
    const sentAt = performance.now();
    try {
      const r = await fetch(`${this.#url}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${this.#ingestKey}` },
        body,
      });
      const text = await r.text();
      if (r.status !== 200) return this.#fail(`probe ${r.status}: ${text}`);
      this.#pending.set(id, { ts, sentAt, ackedAt: performance.now() });
    } catch (err) {
      this.#fail(`probe: ${(err as Error).message}`);
    }
  }

  async #poll(): Promise<void> {
    while (!this.#stopping) {
      const started = performance.now();
      const ids = [...this.#pending.keys()].slice(0, IDS_PER_QUERY);
      if (ids.length > 0) await this.#ask(ids, Math.min(...ids.map((id) => this.#pending.get(id)?.ts ?? Date.now())));
      const wait = this.#pollMs - (performance.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  /**
   * One query for `ids`, in the probe's service and over the time since the
   * oldest one's timestamp (a second's margin), as a user looks for an event
   * of theirs near its time: the service filter keeps the query cheap beside
   * the load it measures (the ids are compared only in the rows it keeps).
   */
  async #ask(ids: readonly string[], oldestTs: number): Promise<void> {
    const filter = `service.name:"bench-probe" AND (${ids.map((id) => `event.id:"${id}"`).join(' OR ')})`;
    const asked = performance.now();
    try {
      const r = await fetch(`${this.#url}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#readKey}` },
        body: JSON.stringify({
          query: `${filter} | stats count() as n by event.id`,
          from: new Date(oldestTs - 1000).toISOString(),
          to: 'now+1h',
        }),
      });
      const answer = (await r.json()) as { columns?: { name: string }[]; rows?: unknown[][] };
      this.#queryMs.push(performance.now() - asked);
      if (r.status !== 200 || !answer.columns || !answer.rows) {
        return this.#fail(`query ${r.status}: ${JSON.stringify(answer)}`);
      }
      const idAt = answer.columns.findIndex((c) => c.name === 'event.id');
      const nAt = answer.columns.findIndex((c) => c.name === 'n');
      for (const row of answer.rows) {
        const id = String(row[idAt]);
        const p = this.#pending.get(id);
        if (!p || Number(row[nAt]) < 1) continue;
        this.#pending.delete(id);
        // Acknowledged after this query was sent (it was in flight): visible at its acknowledgement.
        this.#ackToVisible.push(Math.max(0, asked - p.ackedAt));
        this.#sentToVisible.push(Math.max(asked, p.ackedAt) - p.sentAt);
      }
    } catch (err) {
      this.#fail(`query: ${(err as Error).message}`);
    }
  }
}
