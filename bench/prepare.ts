/**
 * Micro-benchmark of the ingest prepare step (`node --import tsx bench/prepare.ts`):
 * CPU µs per event of `prepareEvents` on one NDJSON body, the former chain
 * (parse → redactEvent → normalizeEvent → markRedactions → toRowLine, kept
 * in test/ingest/former-chain.ts) against the one pass
 * (src/ingest/event-row-writer.ts), for the bench's ~1.1 KB payment event
 * and its ~290 B API-request event. Runs are interleaved (former, one pass,
 * former, ...) and the best of `--rounds` is kept: CPU time
 * (process.cpuUsage), which other processes on the machine disturb less
 * than wall time does.
 *
 * Also prints the stages of both paths: for the chain each call on its own;
 * for the one pass, the split of body (split lines + JSON.parse) and the
 * write, with the write parted into its walk + redaction (a walk that makes
 * the same decisions and builds nothing) and the row line (the rest).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { splitLines } from '../src/ingest/body.ts';
import { EventRowWriter } from '../src/ingest/event-row-writer.ts';
import { prepareEvents } from '../src/ingest/events-ndjson.ts';
import { normalizeEvent } from '../src/ingest/normalize.ts';
import { Normalizer, type IngestContext } from '../src/ingest/normalizer.ts';
import { markRedactions, Redactor } from '../src/privacy/redactor.ts';
import { toRowLine } from '../src/schema/record.ts';
import { formerPrepareEvents } from '../test/ingest/former-chain.ts';
import { apiRequestEvent, paymentEvent } from './events.ts';
import { fmt, rng } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    'min-ms': { type: 'string', default: '300' },
  },
});
const EVENTS = Number(args.events);
const ROUNDS = Number(args.rounds);
const MIN_MS = Number(args['min-ms']);

const ingest = loadConfig({ env: {}, flags: {} }).ingest;
const now = Date.now();
const ctx: IngestContext = { tenant: 'default', receivedAtMs: now };

function body(make: (i: number, tsMs: number, random: () => number) => Record<string, unknown>): Buffer {
  const random = rng(0xbe7c4);
  const lines: string[] = [];
  for (let i = 0; i < EVENTS; i++) lines.push(JSON.stringify(make(i, now - Math.floor(random() * 60_000), random)));
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** CPU µs per event of `run` (which handles EVENTS events), repeated for at least MIN_MS of CPU. */
function cpuPerEvent(run: () => void): number {
  let reps = 0;
  const start = process.cpuUsage();
  let used = 0;
  do {
    run();
    reps++;
    const d = process.cpuUsage(start);
    used = d.user + d.system;
  } while (used < MIN_MS * 1000);
  return used / (reps * EVENTS);
}

/** Best of ROUNDS for each variant, the variants interleaved within each round. */
function bestOf(variants: Record<string, () => void>): Record<string, number> {
  const best: Record<string, number> = {};
  for (const run of Object.values(variants)) run(); // warm up
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, run] of Object.entries(variants)) {
      const us = cpuPerEvent(run);
      best[name] = Math.min(best[name] ?? Infinity, us);
    }
  }
  return best;
}

/**
 * The one pass's walk and redaction alone: the same keys, drop rules and
 * string pre-filter (and scanners where it says so) as EventRowWriter, with
 * no output.
 */
function walkOnly(redactor: Redactor, obj: Record<string, unknown>, marker: string[]): number {
  let n = 0;
  const rule = { exempt: false, drop: false, ip: false };
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (redactor.fieldRule(key, key, false).drop) continue;
    if (typeof v === 'string') {
      if (redactor.mayChange(v)) redactor.redactValue(v, rule, marker);
      n++;
    } else if (v !== null && typeof v === 'object') {
      n += Array.isArray(v) ? v.length : walkOnly(redactor, v as Record<string, unknown>, marker);
    } else n++;
  }
  return n;
}

function report(label: string, data: Buffer): void {
  const text = data.toString('utf8');
  const lines = text.split('\n').filter((l) => l !== '');
  const parsed = (): unknown[] => lines.map((l) => JSON.parse(l) as unknown);
  const former = new Normalizer(ingest);
  const onePass = new Normalizer(ingest);
  const writer = new EventRowWriter(new Redactor(), {
    maxDepth: ingest.maxDepth,
    maxFields: ingest.maxFields,
    maxFutureSkewMs: ingest.maxFutureSkew,
    maxPastAgeMs: ingest.maxPastAge,
  });
  const redactor = new Redactor();
  const check = prepareEvents(onePass, data, 'application/x-ndjson', ctx);
  const want = formerPrepareEvents(former, data, 'application/x-ndjson', ctx);
  if (JSON.stringify(check) !== JSON.stringify(want)) throw new Error(`${label}: the one pass differs from the chain`);

  // Stages of the chain need fresh parsed events each run (redactEvent works in place).
  let events: unknown[] = parsed();
  let redacted: unknown[] = [];
  let records: ReturnType<typeof normalizeEvent>[] = [];
  const stageOpts = {
    tenant: ctx.tenant,
    receivedAtMs: now,
    maxFutureSkewMs: ingest.maxFutureSkew,
    maxPastAgeMs: ingest.maxPastAge,
    maxDepth: ingest.maxDepth,
    maxFields: ingest.maxFields,
  };
  const best = bestOf({
    former: () => formerPrepareEvents(former, data, 'application/x-ndjson', ctx),
    onePass: () => prepareEvents(onePass, data, 'application/x-ndjson', ctx),
    split: () => splitLines(data, ingest.maxLineBytes),
    parse: () => {
      events = parsed();
    },
    redact: () => {
      events = parsed();
      redacted = events.map((e) => {
        const r = redactor.redactEvent(e, ingest.maxDepth);
        return r.ok ? { value: r.value, marker: r.marker } : undefined;
      });
    },
    normalise: () => {
      records = redacted.map((r) => {
        const n = normalizeEvent((r as { value: unknown }).value, stageOpts);
        if (n.ok) n.record.attributes = markRedactions(n.record.attributes, (r as { marker?: string[] }).marker);
        return n;
      });
    },
    rowLine: () => {
      for (const r of records) if (r.ok) toRowLine(r.record);
    },
    write: () => {
      for (const e of events) writer.write(e, ctx.tenant, now);
    },
    walk: () => {
      const marker: string[] = [];
      for (const e of events) walkOnly(redactor, e as Record<string, unknown>, marker);
    },
  });
  former.takeRedactionCounts();
  onePass.takeRedactionCounts();
  redactor.takeCounts();
  const redactOnly = (best['redact'] as number) - (best['parse'] as number);
  const bytes = data.length / EVENTS;
  console.log(
    `\n${label}: ${fmt(bytes)} B per event, ${fmt(EVENTS)} events per body, best of ${ROUNDS} (CPU µs per event)`,
  );
  console.log(`  former chain  ${fmt(best['former'] as number, 2).padStart(6)}`);
  console.log(
    `  one pass      ${fmt(best['onePass'] as number, 2).padStart(6)}   (${fmt((best['former'] as number) / (best['onePass'] as number), 1)}× less CPU)`,
  );
  console.log(
    `  stages, chain:    split ${fmt(best['split'] as number, 2)}, parse ${fmt(best['parse'] as number, 2)}, ` +
      `redact ${fmt(redactOnly, 2)}, normalise+mark ${fmt(best['normalise'] as number, 2)}, row line ${fmt(best['rowLine'] as number, 2)}`,
  );
  const write = best['write'] as number;
  const walk = Math.min(best['walk'] as number, write);
  console.log(
    `  stages, one pass: split ${fmt(best['split'] as number, 2)}, parse ${fmt(best['parse'] as number, 2)}, ` +
      `write ${fmt(write, 2)} = walk+redact ~${fmt(walk, 2)} + row line ~${fmt(write - walk, 2)}`,
  );
}

report('payment event (paymentEvent)', body(paymentEvent));
report('API-request event (apiRequestEvent)', body(apiRequestEvent));
