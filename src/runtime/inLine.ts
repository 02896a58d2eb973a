/**
 * Runs `fn` once every earlier call for the same `slot` in `lines` has settled (however it
 * settled): the calls of one slot run one at a time, in the order they came. `lines` is the
 * caller's; a slot leaves it once its last call settled.
 *
 * @example
 * const lines = new Map<string, Promise<void>>();
 * await inLine(lines, key, () => lookUpThenExecute());
 */
export async function inLine<T>(
  lines: Map<string, Promise<void>>,
  slot: string,
  fn: () => Promise<T>,
): Promise<T> {
  const before = lines.get(slot);
  const mine = (async () => {
    await before;
    return fn();
  })();
  const settled = mine.then(
    () => {},
    () => {},
  );
  lines.set(slot, settled);
  try {
    return await mine;
  } finally {
    if (lines.get(slot) === settled) lines.delete(slot);
  }
}
