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
 * Serializes rows to one JSON array, embedding a RawJson field's text verbatim. Only the
 * named field may be raw; every other value goes through JSON.stringify.
 */
export function serializeRows(rows: readonly Record<string, unknown>[], rawField: string): string {
  const parts = rows.map((row) => {
    const value = row[rawField];
    if (!(value instanceof RawJson)) return JSON.stringify(row);
    const { [rawField]: _raw, ...rest } = row;
    const others = JSON.stringify(rest);
    // `others` is an object literal: open it, put the raw field first, keep the rest.
    return `{${JSON.stringify(rawField)}:${value.text}${others === '{}' ? '' : `,${others.slice(1, -1)}`}}`;
  });
  return `[${parts.join(',')}]`;
}
