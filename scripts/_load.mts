// Temporary load script (not committed): posts pre-built payment bodies with N connections for S seconds.
import { Agent, request } from 'node:http';
import { paymentEvent } from '../bench/events.ts';
const [url, seconds = '10', conns = '8'] = process.argv.slice(2);
let seed = 1; const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const now = Date.now();
const bodies = Array.from({ length: 16 }, (_, b) => Buffer.from(Array.from({ length: 500 }, (_, i) => JSON.stringify(paymentEvent(b * 500 + i, now - Math.floor(rnd() * 60000), rnd))).join('\n') + '\n'));
const u = new URL(url as string);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
let events = 0; let n = 0; const end = Date.now() + Number(seconds) * 1000;
const one = (body: Buffer) => new Promise<number>((res, rej) => { const r = request({ agent, host: u.hostname, port: u.port, method: 'POST', path: '/api/v1/events', headers: { 'content-type': 'application/x-ndjson', 'content-length': body.length } }, (resp) => { resp.resume(); resp.on('end', () => res(resp.statusCode ?? 0)); }); r.on('error', rej); r.end(body); });
await Promise.all(Array.from({ length: Number(conns) }, async () => { while (Date.now() < end) { const s = await one(bodies[n++ % bodies.length] as Buffer); if (s === 200) events += 500; } }));
console.log('events/s', Math.round(events / Number(seconds)));
agent.destroy();
