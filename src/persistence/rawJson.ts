/**
 * JSON text serialized already: a snapshot captured as text is embedded as it is when its
 * row is serialized for a statement, instead of being parsed and serialized once more.
 */
export class RawJson {
  constructor(readonly text: string) {}

  /** For any other serializer that meets it: the value it stands for. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/**
 * Serializes items to one JSON array of objects: `rawField` first, embedded verbatim when
 * it is RawJson (serialized otherwise), then the fields `others` gives, through
 * JSON.stringify. The caller builds the other fields as an object of their own: copying a
 * row without one field (a rest pattern) took the slow path of V8 for every field.
 */
export function serializeRows<T>(
  items: readonly T[],
  rawField: string,
  raw: (item: T) => unknown,
  others: (item: T) => object,
): string {
  const key = JSON.stringify(rawField);
  const parts = new Array<string>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as T;
    const value = raw(item);
    const text = value instanceof RawJson ? value.text : JSON.stringify(value ?? null);
    const rest = JSON.stringify(others(item));
    // `rest` is an object literal: open it, put the raw field first, keep the rest.
    parts[i] = `{${key}:${text}${rest === '{}' ? '' : `,${rest.slice(1, -1)}`}}`;
  }
  return `[${parts.join(',')}]`;
}
