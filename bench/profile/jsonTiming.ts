// loop mode's timing of JSON.stringify and JSON.parse, which the CPU profile cannot show.

/** Outermost JSON.stringify / JSON.parse calls in the window: count and ms. */
export const jsonTime = {
  measuring: false,
  stringifyMs: 0,
  stringifyCalls: 0,
  parseMs: 0,
  parseCalls: 0,
};

/**
 * Replaces JSON.stringify and JSON.parse by named functions that time themselves. V8's
 * profile attributes a builtin's time to the function calling it, so without them JSON
 * would be invisible in the summary (their self time is the builtin's). Nested calls (a
 * toJSON that parses) count once, in the outer call.
 */
export function timeJson(): void {
  const stringify = JSON.stringify as (...args: unknown[]) => string;
  const parse = JSON.parse as (...args: unknown[]) => unknown;
  let depth = 0;
  // The builtin is called right here in both, so its time is theirs in the profile.
  function jsonStringifyTimed(...args: unknown[]): string {
    if (!jsonTime.measuring || depth > 0) return stringify(...args);
    depth++;
    const started = performance.now();
    try {
      return stringify(...args);
    } finally {
      jsonTime.stringifyMs += performance.now() - started;
      jsonTime.stringifyCalls++;
      depth--;
    }
  }
  function jsonParseTimed(...args: unknown[]): unknown {
    if (!jsonTime.measuring || depth > 0) return parse(...args);
    depth++;
    const started = performance.now();
    try {
      return parse(...args);
    } finally {
      jsonTime.parseMs += performance.now() - started;
      jsonTime.parseCalls++;
      depth--;
    }
  }
  JSON.stringify = jsonStringifyTimed as typeof JSON.stringify;
  JSON.parse = jsonParseTimed as typeof JSON.parse;
}
