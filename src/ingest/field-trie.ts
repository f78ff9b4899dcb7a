/**
 * The per-field decisions of the one-pass prepare (event-row-writer.ts),
 * cached by the path of keys that leads to a field: its flattened dotted
 * name (and that name's JSON pieces), typed column, redaction rule (drop,
 * exempt, IP), flattening depth, and whether the former chain must decide
 * the event instead. Everything here depends on the path only, so it is
 * worked out once per path, not once per event. Client keys are unbounded:
 * the trie holds at most MAX_NODES nodes, then starts again.
 */
import { REDACTION_MARKER, Redactor, type FieldRule } from '../privacy/redactor.ts';
import { ERROR_DETAIL_FIELDS } from '../errors/error-fields.ts';
import { EVENT_FIELDS, typedField, type FieldDef } from '../schema/fields.ts';

/** What a flattened name does besides being a field. */
export const PLAIN = 0;
export const DATA_CLASS = 1;
export const TENANT = 2;
/** A client's own `privacy.redacted`: replaced by the event's marker. */
export const MARKER = 3;

/** One field, by the path of keys that leads to it. */
export interface FieldNode {
  /** Flattened dotted name, as normalizeEvent and the redactor name it. */
  readonly name: string;
  /** `,"name":`: the name as an attribute key in a row line. */
  readonly attrKey: string;
  /** `,"name":"`: the same with the opening quote of a string value. */
  readonly attrKeyQuote: string;
  /** Both again after a string value, whose closing quote they carry: `",name":`, `",name":"`. */
  readonly qAttrKey: string;
  readonly qAttrKeyQuote: string;
  /** JSON of the key alone (inside an object in an array). */
  readonly keyJson: string;
  /** Flattening depth of the key, dotted keys counting their dots (maxDepth applies). */
  readonly levels: number;
  readonly rule: FieldRule;
  readonly def: FieldDef | undefined;
  /** Index of the typed column in EVENT_FIELDS, or -1. */
  readonly column: number;
  readonly role: number;
  /** The chain must decide: a key redaction would change, a name the normaliser generates, ... */
  readonly bail: boolean;
  /** Shared by every node of this name: the number of the last event that had a field of it. */
  readonly slot: { seen: number };
  children: Map<string, FieldNode> | undefined;
}

/** Most field nodes cached. */
const MAX_NODES = 10_000;

/** Names the normaliser writes itself; a client field of the same name is the chain's to merge. */
const GENERATED_NAMES = new Set(['tenant.sent', 'event.type_original']);

/**
 * One flat string of the pieces. A template literal makes a rope when it is
 * long, and a rope cached here would be walked again by every join of every
 * row line that holds it.
 */
export function flat(...pieces: string[]): string {
  return pieces.join('');
}

function dotsIn(key: string): number {
  let n = 0;
  for (let i = key.indexOf('.'); i !== -1; i = key.indexOf('.', i + 1)) n++;
  return n;
}

export class FieldTrie {
  readonly #redactor: Redactor;
  /** Redacts keys to see whether redaction would change them; its counts are never read. */
  readonly #probe: Redactor;
  #root: FieldNode;
  #slots = new Map<string, { seen: number }>();
  #nodes = 0;

  constructor(redactor: Redactor) {
    this.#redactor = redactor;
    this.#probe = new Redactor(redactor.config);
    this.#root = this.#newRoot();
  }

  /** The node of the event itself (no name). */
  get root(): FieldNode {
    return this.#root;
  }

  /**
   * The node of `key` below `parent`, made and cached. Undefined when the
   * trie is full: it starts again, and the event under way (whose nodes so
   * far are no longer in the trie) is the chain's.
   */
  child(parent: FieldNode, key: string): FieldNode | undefined {
    if (this.#nodes >= MAX_NODES) {
      this.#root = this.#newRoot();
      return undefined;
    }
    this.#nodes++;
    const atRoot = parent.name === '' && parent.levels === 0;
    // Both the redactor and the flattening name a field by its path, an empty path counting as none.
    const name = parent.name === '' ? key : `${parent.name}.${key}`;
    const def = typedField(name);
    const marker: string[] = [];
    const keyChanges = this.#probe.mayChange(key) && (this.#probe.redactText(key, marker) !== key || marker.length > 0);
    let slot = this.#slots.get(name);
    if (slot === undefined) {
      slot = { seen: 0 };
      this.#slots.set(name, slot);
    }
    const node: FieldNode = {
      name,
      attrKey: flat(',', JSON.stringify(name), ':'),
      attrKeyQuote: flat(',', JSON.stringify(name), ':"'),
      qAttrKey: flat('",', JSON.stringify(name), ':'),
      qAttrKeyQuote: flat('",', JSON.stringify(name), ':"'),
      keyJson: JSON.stringify(key),
      levels: parent.levels + 1 + dotsIn(key),
      rule: this.#redactor.fieldRule(name, key, parent.rule.exempt),
      def,
      column: def ? EVENT_FIELDS.indexOf(def) : -1,
      role:
        name === 'data_class' ? DATA_CLASS : name === 'tenant' ? TENANT : name === REDACTION_MARKER ? MARKER : PLAIN,
      // Below a key "" the names lose a level (`"":{"1":…}` is "1"), and with it the key order
      // of the chain's attributes object: the chain decides.
      // An error's frames or stack text: fingerprinting needs the whole event (normalizeEvent).
      bail: keyChanges || GENERATED_NAMES.has(name) || ERROR_DETAIL_FIELDS.has(name) || (!atRoot && parent.name === ''),
      slot,
      children: undefined,
    };
    (parent.children ??= new Map()).set(key, node);
    return node;
  }

  #newRoot(): FieldNode {
    this.#slots = new Map();
    this.#nodes = 0;
    return {
      name: '',
      attrKey: ',"":',
      attrKeyQuote: ',"":"',
      qAttrKey: '","":',
      qAttrKeyQuote: '","":"',
      keyJson: '""',
      levels: 0,
      rule: { exempt: false, drop: false, ip: false },
      def: undefined,
      column: -1,
      role: PLAIN,
      bail: false,
      slot: { seen: 0 },
      children: undefined,
    };
  }
}
