import type { Logger } from './logger.ts';
import { createSteward, type StewardOptions } from './steward.ts';

/**
 * `steward serve`: a `createSteward` runtime until SIGINT or SIGTERM, then a graceful stop
 * that flushes every write; a second signal while stopping exits at once. SIGHUP reads
 * the tokens again.
 */
export async function serve(options: StewardOptions & { log: Logger }): Promise<void> {
  const { log } = options;
  // Listening before anything starts: a signal that arrives while the runtime starts
  // (or right after its startup line) must stop it gracefully, not end the process.
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = resolve;
  });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const steward = createSteward(options);
  const reload = () => void steward.reloadTokens();
  try {
    await steward.ready;
  } catch (error) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    throw error;
  }
  process.on('SIGHUP', reload);
  const signal = await signalled;
  process.off('SIGHUP', reload);
  log.info({ signal }, 'signal received');
  // A second signal while flushing means "now": leave without waiting.
  const force = () => process.exit(1);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  await steward.stop();
}
