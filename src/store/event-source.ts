/**
 * Rebuilds an event document (`_source`) from stored columns and attributes:
 * the dotted names become nested objects again, as they were sent.
 *
 * Attribute names are client text (`__proto__.polluted` is a valid field
 * name), so every object built here has no prototype: a name part is always
 * a plain data key, and reading back an event stored with such names (also
 * one stored before this rule) cannot reach a built-in prototype.
 */
import { dataObject } from '../schema/data-object.ts';
import { EVENT_FIELDS } from '../schema/fields.ts';

type SourceNode = Record<string, unknown>;

/** Nodes this module made (null-prototype): the only objects it descends into. */
function isNode(v: unknown): v is SourceNode {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === null;
}

/** Sets `value` at a dotted path, keeping a flat key where a parent is not an object. */
/**
 * How deep `_source` is rebuilt from dotted names; deeper parts stay one dotted key. Ingest refuses
 * names deeper than `ingest.maxDepth`, but an event stored before that rule could hold thousands of
 * dots, and an answer nested that deep overflows the stack of JSON.stringify.
 */
const MAX_SOURCE_DEPTH = 64;

function setDotted(target: SourceNode, name: string, value: unknown): void {
  const split = name.split('.');
  const parts =
    split.length > MAX_SOURCE_DEPTH
      ? [...split.slice(0, MAX_SOURCE_DEPTH - 1), split.slice(MAX_SOURCE_DEPTH - 1).join('.')]
      : split;
  let node = target;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i] as string;
    // `node` has no prototype: `node[key]` is an own value or undefined, never Object.prototype.
    const next = node[key];
    if (next === undefined) {
      const child = dataObject();
      node[key] = child;
      node = child;
    } else if (isNode(next)) {
      node = next;
    } else {
      node[parts.slice(i).join('.')] = value;
      return;
    }
  }
  node[parts[parts.length - 1] as string] = value;
}

/**
 * @param values typed column values in EVENT_FIELDS order, timestamps already ISO strings
 * @param attributes the attributes object (flat dotted names) or null
 * @returns the event document; it and its nested objects have no prototype
 */
export function buildSource(values: readonly unknown[], attributes: Record<string, unknown> | null): SourceNode {
  const source = dataObject();
  EVENT_FIELDS.forEach((field, i) => {
    const v = values[i];
    if (v === null || v === undefined || field.column === 'index_name') return;
    setDotted(source, field.name, v);
  });
  if (attributes) for (const [k, v] of Object.entries(attributes)) setDotted(source, k, v);
  return source;
}
