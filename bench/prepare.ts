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
 * Also prints the stages of both paths: for the chain, each call on its
 * own; for the one pass, its CPU profile (node:inspector, sampled every
 * 50 µs) split by function into body (split lines + JSON.parse), walk and
 * redaction, row line (the writer's output functions) and garbage
 * collection, as shares of its measured time. And, to see whether anything
 * cheaper than JSON.parse and one walk exists in JavaScript, a scan of the
 * JSON text that only finds its keys (looked up in a map) and its strings
 * (read for the redaction pre-filter) and builds nothing.
 */
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { splitLines } from '../src/ingest/body.ts';
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

/** A tokenizer's floor: finds every key (and looks it up) and reads every string, building nothing. */
function scanText(text: string, keys: Map<string, number>): number {
  let n = 0;
  const len = text.length;
  for (let i = 0; i < len; i++) {
    if (text.charCodeAt(i) !== 34) continue;
    let j = i + 1;
    let flags = 0;
    for (; j < len; j++) {
      const c = text.charCodeAt(j);
      if (c === 34) break;
      if (c === 92) j++;
      else if (c >= 48 && c <= 57) flags++;
      else if (c === 64 || c === 37) flags += 100;
    }
    if (text.charCodeAt(j + 1) === 58) {
      const key = text.slice(i + 1, j);
      let id = keys.get(key);
      if (id === undefined) keys.set(key, (id = keys.size));
      n += id;
    } else n += flags;
    i = j;
  }
  return n;
}

/** Stage of a profiled function, by file and name. */
function stageOf(url: string, name: string): string {
  if (name === '(garbage collector)') return 'gc';
  if (url.endsWith('/body.ts') || name === 'decode') return 'body';
  if (url.endsWith('/events-ndjson.ts')) return 'body'; // JSON.parse is sampled as its caller's time
  if (url.endsWith('/event-row-writer.ts')) {
    return /^(#finish|#put2|#put3|#attr|scalarJson|columnJson|#arrayJson|#objectJson|#valueJson)$/.test(name)
      ? 'row line'
      : 'walk+redact';
  }
  if (/\/(privacy|schema)\/|\/normalize\.ts$|\/normalizer\.ts$/.test(url)) return 'walk+redact';
  return 'other';
}

/** Shares of CPU samples by stage while `run` runs for about `ms` of CPU. */
async function profileStages(run: () => void, ms: number): Promise<Map<string, number>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  await session.post('Profiler.start');
  const start = process.cpuUsage();
  do run();
  while (process.cpuUsage(start).user < ms * 1000);
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  const ticks = new Map<number, number>();
  for (const id of profile.samples ?? []) ticks.set(id, (ticks.get(id) ?? 0) + 1);
  const byStage = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const n = ticks.get(node.id) ?? 0;
    if (n === 0 || node.callFrame.functionName === '(idle)') continue;
    const stage = stageOf(node.callFrame.url, node.callFrame.functionName);
    byStage.set(stage, (byStage.get(stage) ?? 0) + n);
    total += n;
  }
  if (process.env.PREPARE_PROFILE_TOP) {
    const byName = new Map<string, number>();
    for (const node of profile.nodes) {
      const key = `${node.callFrame.functionName} ${node.callFrame.url.split('/').pop() ?? ''}`;
      byName.set(key, (byName.get(key) ?? 0) + (ticks.get(node.id) ?? 0));
    }
    for (const [key, n] of [...byName].sort((x, y) => y[1] - x[1]).slice(0, 20))
      console.log(`    ${((100 * n) / total).toFixed(1).padStart(5)} % ${key}`);
  }
  for (const [stage, n] of byStage) byStage.set(stage, n / total);
  return byStage;
}

async function report(label: string, data: Buffer): Promise<void> {
  const text = data.toString('utf8');
  const lines = text.split('\n').filter((l) => l !== '');
  const parsed = (): unknown[] => lines.map((l) => JSON.parse(l) as unknown);
  const former = new Normalizer(ingest);
  const onePass = new Normalizer(ingest);
  const redactor = new Redactor();
  const keys = new Map<string, number>();
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
    parseOnly: () => {
      for (const l of lines) JSON.parse(l);
    },
    scan: () => {
      for (const l of lines) scanText(l, keys);
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
  const onePassUs = best['onePass'] as number;
  const shares = await profileStages(() => prepareEvents(onePass, data, 'application/x-ndjson', ctx), 1000);
  onePass.takeRedactionCounts();
  const part = (stage: string): string => `${fmt(onePassUs * (shares.get(stage) ?? 0), 2)}`;
  console.log(
    `  stages, one pass (profiled): body (split + JSON.parse) ${part('body')}, walk+redact ${part('walk+redact')}, ` +
      `row line ${part('row line')}, garbage collection ${part('gc')}, other ${part('other')}`,
  );
  console.log(
    `  floor: JSON.parse alone ${fmt(best['parseOnly'] as number, 2)}; a JS scan of the text that only finds keys and strings ${fmt(best['scan'] as number, 2)}`,
  );
}

await report('payment event (paymentEvent)', body(paymentEvent));
await report('API-request event (apiRequestEvent)', body(apiRequestEvent));
