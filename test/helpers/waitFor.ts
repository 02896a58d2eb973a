/** How long and how often `waitFor` asks. */
export interface WaitForOptions {
  /** Fails after this long (ms); 5 s unless told. */
  timeoutMs?: number;
  /** Asks again after this long (ms); 10 ms unless told. */
  intervalMs?: number;
}

/**
 * Waits until `check` holds, asking again every `intervalMs`, instead of sleeping for a
 * guessed time; fails after `timeoutMs` with an error naming `what` it waited for (and
 * what `check` last threw, if it threw). For a value to compare, vitest's
 * `expect.poll(read).toEqual(expected)` says more on failure: it shows both values.
 *
 * @example
 * await waitFor('the client to notice the drop', () => !client.connected);
 * await waitFor('the row to commit', async () => (await host.get(id)).version >= 2, {
 *   timeoutMs: 10_000,
 * });
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  options: WaitForOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const intervalMs = options.intervalMs ?? 10;
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() - started >= timeoutMs) {
      const why = lastError === undefined ? '' : `; the check last threw: ${String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
