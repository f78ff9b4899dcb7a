/**
 * Objects whose keys come from clients (event fields, attribute names,
 * Segment/GA4 properties, config and rule maps). They are built without a
 * prototype, so that `__proto__`, `constructor` and `prototype` are plain
 * data keys: `obj[key] = value` always creates an own property, and
 * `obj[key]` never reads a built-in (docs/architecture.md, "Rules the code
 * keeps"). `JSON.stringify` writes them like any object.
 */

/** A fresh object with no prototype, for keys from client text. */
export function dataObject<T = unknown>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The own value of `key` in `obj`, or undefined: never an inherited one (`constructor`, `__proto__`). */
export function ownValue(obj: object, key: string): unknown {
  return Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

/**
 * Sets `key` as an own enumerable property of `obj`, also when `obj` has a
 * prototype and `key` is `__proto__` (where plain assignment would replace
 * the prototype instead).
 */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else obj[key] = value;
}
