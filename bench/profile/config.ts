// The knobs of bench/profileCommit.ts, read from the environment once, when the entry loads:
// a bad value stops the run before any mode starts.
import { createLogger } from '../../src/logger.ts';
import { envNumber } from '../support.ts';

export const config = {
  supervisors: Math.round(envNumber('PROFILE_SUPERVISORS', 1_000)),
  inFlight: Math.round(envNumber('PROFILE_IN_FLIGHT', 64)),
  seconds: envNumber('PROFILE_SECONDS', 10),
  warmupSeconds: envNumber('PROFILE_WARMUP_SECONDS', 2),
  repeats: Math.round(envNumber('PROFILE_REPEATS', 20)),
  poolMax: Math.round(envNumber('PROFILE_POOL_MAX', 8)),
};

export const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'profile' });

/** Where loop mode's window file goes and summarize looks by default: node's --cpu-prof-dir. */
export function profileDir(): string {
  const flag = process.execArgv.find((a) => a.startsWith('--cpu-prof-dir='));
  return flag ? flag.slice('--cpu-prof-dir='.length) : (process.env.PROFILE_DIR ?? '/tmp/prof');
}
