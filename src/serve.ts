import type { Logger } from './logger.ts';
import { createSteward, type StewardOptions } from './steward.ts';

/**
 * `steward serve`: a `createSteward` runtime until SIGINT or SIGTERM, then a stop that
 * flushes what it can within the shutdown timeout; a second signal while stopping exits at
 * once. SIGHUP reads the tokens again. Resolves with the exit code.
 */
export async function serve(options: StewardOptions & { log: Logger }): Promise<number> {
  const { log } = options;
  // Listening before anything starts: a signal while the runtime starts (or waits for its
  // database, or right after its startup line) stops it gracefully, not by Node's default.
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = resolve;
  });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const steward = createSteward(options);
  const reload = () => void steward.reloadTokens();
  const first = await Promise.race([
    steward.ready.then(
      () => 'ready' as const,
      (error: unknown) => ({ error }),
    ),
    signalled,
  ]);
  if (typeof first === 'object') {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    throw first.error;
  }
  if (first === 'ready') {
    process.on('SIGHUP', reload);
    const signal = await signalled;
    process.off('SIGHUP', reload);
    log.info({ signal }, 'signal received');
  } else log.info({ signal: first }, 'signal received while starting');
  // A second signal while flushing means "now": leave without waiting.
  const force = () => process.exit(1);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  await steward.stop();
  return 0;
}
