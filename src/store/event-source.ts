/**
 * Rebuilds an event document (`_source`) from stored columns and attributes:
 * the dotted names become nested objects again, as they were sent.
 */
import { EVENT_FIELDS } from '../schema/fields.ts';

/** Sets `value` at a dotted path, keeping a flat key where a parent is not an object. */
function setDotted(target: Record<string, unknown>, name: string, value: unknown): void {
  const parts = name.split('.');
  let node = target;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i] as string;
    const next = node[key];
    if (next === undefined) {
      const child: Record<string, unknown> = {};
      node[key] = child;
      node = child;
    } else if (next !== null && typeof next === 'object' && !Array.isArray(next)) {
      node = next as Record<string, unknown>;
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
 */
export function buildSource(
  values: readonly unknown[],
  attributes: Record<string, unknown> | null,
): Record<string, unknown> {
  const source: Record<string, unknown> = {};
  EVENT_FIELDS.forEach((field, i) => {
    const v = values[i];
    if (v === null || v === undefined || field.column === 'index_name') return;
    setDotted(source, field.name, v);
  });
  if (attributes) for (const [k, v] of Object.entries(attributes)) setDotted(source, k, v);
  return source;
}
