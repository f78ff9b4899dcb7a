/**
 * The seeded corpus of the ingest fuzz test (fuzz.test.ts): good events,
 * events whose keys are `__proto__`, `constructor` and `prototype` at every
 * depth (valid events that must be stored and read back as data), and bad
 * lines (truncated, huge, deep, weird numbers, invalid UTF-8, NUL bytes).
 */
import { mulberry32 } from '../helpers/rng.ts';

/** A poisoned event: its JSON line and where its data must be found in the `_source` read back. */
export interface ProtoEvent {
  readonly id: string;
  readonly line: string;
  /** Own-property path into `_source` and the value found there. */
  readonly path: readonly (string | number)[];
  readonly value: unknown;
}

/** Shapes of poisoned events: a JSON body (without id and time) and where its `"yes"` must come back. */
const PROTO_SHAPES: readonly [string, readonly (string | number)[]][] = [
  ['"__proto__":{"polluted":"yes"}', ['__proto__', 'polluted']],
  ['"constructor":{"prototype":{"polluted":"yes"}}', ['constructor', 'prototype', 'polluted']],
  ['"prototype":{"polluted":"yes"}', ['prototype', 'polluted']],
  ['"a":{"__proto__":{"polluted":"yes"}}', ['a', '__proto__', 'polluted']],
  ['"a":{"b":{"c":{"__proto__":{"polluted":"yes"}}}}', ['a', 'b', 'c', '__proto__', 'polluted']],
  ['"__proto__":{"__proto__":{"polluted":"yes"}}', ['__proto__', '__proto__', 'polluted']],
  ['"__proto__.polluted":"yes"', ['__proto__', 'polluted']],
  ['"x.constructor.prototype.polluted":"yes"', ['x', 'constructor', 'prototype', 'polluted']],
  ['"__proto__":"yes"', ['__proto__']],
  ['"tags":[{"__proto__":{"polluted":"yes"}}]', ['tags', 0, '__proto__', 'polluted']],
  ['"hasOwnProperty":"yes","toString":{"polluted":"no"}', ['hasOwnProperty']],
  ['"valueOf":{"__proto__":{"polluted":"yes"}}', ['valueOf', '__proto__', 'polluted']],
];

/** Poisoned Segment and GA4 payloads: the mapping copies their keys into new objects. */
const PROTO_TRACKING: readonly [(id: string, now: string) => string, readonly (string | number)[]][] = [
  [
    (id, now) =>
      `{"type":"track","event":"Order Completed","messageId":"${id}","timestamp":"${now}","message":"proto",` +
      `"properties":{"__proto__":{"polluted":"yes"},"constructor":"c","total":5},"__proto__":{"polluted":"yes"}}`,
    ['properties', '__proto__', 'polluted'],
  ],
  [
    (id, now) =>
      `{"name":"purchase","event.id":"${id}","@timestamp":"${now}","message":"proto",` +
      `"params":{"__proto__":{"polluted":"yes"},"value":5,"toString":"t"}}`,
    ['properties', '__proto__', 'polluted'],
  ],
];

/** What must be stored, shared by the corpora of all senders. */
export interface FuzzExpectations {
  /** Ids of the good `fuzz-*` events that must be stored. */
  readonly expected: Set<string>;
  /** The poisoned events sent where they must be stored, by id. */
  readonly proto: Map<string, ProtoEvent>;
}

/** One sender's corpus: its own seeded generator, its own ids (`fuzz-<tag>-<n>`). */
export class FuzzCorpus {
  readonly random: () => number;
  readonly now = new Date().toISOString();
  readonly expected: Set<string>;
  readonly proto: Map<string, ProtoEvent>;
  readonly #tag: string;
  #next = 0;

  constructor(
    seed: number,
    readonly maxLine: number,
    tag: string,
    shared: FuzzExpectations,
  ) {
    this.random = mulberry32(seed);
    this.#tag = tag;
    this.expected = shared.expected;
    this.proto = shared.proto;
  }

  /** A fresh id of this sender: `<kind>-<tag>-<n>`. */
  id(kind: string): string {
    return `${kind}-${this.#tag}-${this.#next++}`;
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** A good event with odd but valid values; `keep`: it is sent where it must be stored. */
  good(keep = true): string {
    const id = this.id('fuzz');
    if (keep) this.expected.add(id);
    const odd = this.pick([
      '"note":"NaN"',
      '"big":1e300,"transaction.amount":1e300',
      '"neg":-0,"transaction.amount":-0',
      '"u":"Zürich 🛒 עברית \\u0000 \\ud83d\\ude00"',
      `"long":"${'y'.repeat(8_000)}"`,
      '"tags":[1,"a",null,{"b":2},[[]]]',
      '"event.id_number":12345678901234567890',
      '"\\u00e9t\\u00e9":"\\u2028\\u2029"',
    ]);
    return `{"@timestamp":"${this.now}","event.id":"${id}","service.name":"fuzz","message":"good ${this.int(1e6)}",${odd}}`;
  }

  /** A poisoned (but valid) event's JSON line; it must be stored and read back with its keys as data. */
  poisoned(): string {
    return this.poisonedEvent().line;
  }

  /** A poisoned (but valid) event; `keep`: it is sent where it must be stored. */
  poisonedEvent(keep = true): ProtoEvent {
    const id = this.id('proto');
    const k = this.int(PROTO_SHAPES.length + PROTO_TRACKING.length);
    let line: string;
    let path: readonly (string | number)[];
    if (k < PROTO_SHAPES.length) {
      const [body, p] = PROTO_SHAPES[k] as (typeof PROTO_SHAPES)[number];
      line = `{"@timestamp":"${this.now}","event.id":"${id}","message":"proto",${body}}`;
      path = p;
    } else {
      const [make, p] = PROTO_TRACKING[k - PROTO_SHAPES.length] as (typeof PROTO_TRACKING)[number];
      line = make(id, this.now);
      path = p;
    }
    const event: ProtoEvent = { id, line, path, value: 'yes' };
    if (keep) this.proto.set(id, event);
    return event;
  }

  /** One malformed line, or a valid line that is no `fuzz-`/`proto-` event. */
  bad(): string | Buffer {
    const template = JSON.stringify({ '@timestamp': this.now, 'event.id': `bad-${this.int(1e9)}`, message: 'x' });
    const nested = (depth: number, array: boolean) =>
      array ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const kinds: (() => string | Buffer)[] = [
      () => template.slice(0, 1 + this.int(template.length - 2)),
      () => '{"@timestamp":1e300,"message":"huge time"}',
      () => '{"@timestamp":-1e300}',
      () => this.pick(['{"@timestamp":"NaN"}', '{"@timestamp":"-Infinity"}', '{"timestamp":1e400}']),
      () => `{"transaction.amount": 1e400, "big": ${'9'.repeat(400)}, "n": -1e309}`,
      () => `{"http.response.status_code": ${this.pick(['1e300', '-0.5', '"NaN"', '[200]', '{"a":1}'])}}`,
      () => `{"x": ${nested(20_000 + this.int(10_000), this.random() < 0.5)}}`,
      () => nested(5_000, false),
      () => `{"__proto__":${nested(100, false)}}`,
      () => Buffer.concat([Buffer.from('{"message":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]),
      () => '{"message":"nul\\u0000inside","k\\u0000":"\\u0000"}',
      () => `{"message":"${'z'.repeat(this.maxLine + this.int(1000))}"}`,
      () => '{"__proto__":{"@timestamp":"not a time"},"@timestamp":{"__proto__":1}}',
      () => `{"data_class": ${this.pick(['"secret"', '42', 'null', '[]', '{"__proto__":1}'])}}`,
      () => this.pick(['[]', '[1,2', 'null', 'true', '"str"', '42', '{', '}', '{}}', '[{]', '1e300', '-0']),
      () => '{"message":"\\ud800 lone surrogate", "\\udfff": 1}',
      () => Buffer.from(Array.from({ length: 1 + this.int(200) }, () => this.int(256)).filter((b) => b !== 0x0a)),
      () => '{"service.name":["a",{"b":1}],"security.fraud_indicators":[{"__proto__":1}],"event.id":["x"]}',
    ];
    return this.pick(kinds)();
  }

  /** A customers CSV whose cells are prototype names and odd values (imported as `shoplens import --url` does). */
  csv(): string {
    const header = 'customer_id,first_name,last_name,email,city,region,signup_date,lifetime_value,tier';
    const rows = Array.from({ length: 4 }, () =>
      this.pick([
        `C-${this.int(1e6)},__proto__,constructor,a@b.co,prototype,EU,2023-01-01,10,CONSTRUCTOR`,
        `__proto__${this.int(1e6)},A,B,a@b.co,X,EU,2023-01-01,1e300,__PROTO__`,
        `C-${this.int(1e6)},A,B,a@b.co,X,EU,2023-02-30,10,GOLD`,
        `C-${this.int(1e6)},A,B,a@b.co,X,EU,2023-01-01,1e400,GOLD`,
        `C-${this.int(1e6)},"unclosed,${'z'.repeat(this.int(20))}`,
      ]),
    );
    return `${header}\n${rows.join('\n')}\n`;
  }
}

/** Reads an own-property path (never an inherited one) from a parsed JSON value. */
export function ownPath(value: unknown, path: readonly (string | number)[]): unknown {
  let node = value;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}
