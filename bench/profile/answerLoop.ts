// Bench (b)'s closed loop, run by explain mode as its warm-up and by loop mode under the
// profiler.
import { IdleQueue, sleep } from '../support.ts';
import type { BenchHost } from './seed.ts';

export interface Loop {
  answered(): number;
  errors(): number;
  stop(): Promise<void>;
}

/** Bench (b)'s closed loop: `inFlight` answers, each on a supervisor nobody else answers. */
export function startLoop(
  { host, pending }: BenchHost,
  ids: readonly string[],
  inFlight: number,
): Loop {
  const idle = new IdleQueue(ids.length);
  for (const id of ids) idle.put(id);
  let stopping = false;
  let answered = 0;
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (!stopping) {
      const id = idle.take();
      try {
        const questionId = pending.get(id);
        if (!questionId) throw new Error(`no pending question known for ${id}`);
        await host.answer(id, questionId, true);
        answered++;
      } catch (error) {
        errors++;
        if (errors <= 3) console.error(`answer failed: ${(error as Error).message}`);
        await sleep(10);
      } finally {
        idle.put(id);
      }
    }
  };
  const workers = Array.from({ length: inFlight }, worker);
  return {
    answered: () => answered,
    errors: () => errors,
    async stop() {
      stopping = true;
      await Promise.all(workers);
    },
  };
}
