// The memory figure (c), run by bench/run.ts as a child process: it needs --expose-gc,
// which `npm run bench` cannot pass, and a fresh heap with nothing left over from (b).
import { createLogger } from '../src/logger.ts';
import { createMachineRegistry } from '../src/machines/registry.ts';
import { openPgDatabase } from '../src/persistence/pgDatabase.ts';
import { createSupervisorStore } from '../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../src/runtime/supervisorHost.ts';
import { benchMachineDefinition } from './benchMachine.ts';
import { envNumber, fmt, fullGc, type MemoryResult, RESULT_PREFIX, runPool } from './support.ts';

const url = process.env.BENCH_CHILD_DATABASE_URL;
if (!url) {
  console.error('bench/memory.ts is started by bench/run.ts (BENCH_CHILD_DATABASE_URL is unset)');
  process.exit(1);
}
if (!(globalThis as { gc?: unknown }).gc) {
  console.error('bench/memory.ts needs node --expose-gc');
  process.exit(1);
}

const count = Math.round(envNumber('BENCH_IDLE_SUPERVISORS', 10_000));
// Set: the host passivates idle supervisors after this many ms, and the figure is the cost
// of a passivated one (measured once every supervisor has left memory).
const passivateAfterMs = process.env.BENCH_PASSIVATE_AFTER_MS
  ? Math.round(envNumber('BENCH_PASSIVATE_AFTER_MS', 1_000))
  : 0;
const poolMax = Math.round(envNumber('BENCH_POOL_MAX', 8));
const spawnConcurrency = Math.round(envNumber('BENCH_SPAWN_CONCURRENCY', 64));
// One-time costs (JIT, zod and xstate caches, pg buffers, the host's maps reaching their
// first sizes) would otherwise be charged to the measured supervisors.
const warm = 200;

const db = await openPgDatabase({
  connectionString: url,
  max: poolMax,
  log: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
});
const registry = createMachineRegistry();
registry.register(benchMachineDefinition);
const host = createSupervisorHost({
  store: createSupervisorStore(db),
  registry,
  heartbeatIntervalMs: 0,
  passivateAfterMs,
  log: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
});

/** With passivation on: waits until `expected` supervisors have left memory. */
async function allPassivated(expected: number): Promise<void> {
  if (passivateAfterMs === 0) return;
  const started = performance.now();
  while (host.passivated() < expected) {
    if (performance.now() - started > 120_000) {
      throw new Error(`only ${host.passivated()} of ${expected} supervisors were passivated`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// The ids are not kept: the host holds them, and an array here would be counted too.
const spawnOne = async (): Promise<void> => {
  await host.spawn('bench', undefined, { owner: 'bench' });
};

await runPool(warm, spawnConcurrency, spawnOne);
await allPassivated(warm);
await fullGc();
const heapBefore = process.memoryUsage().heapUsed;
const rssBefore = process.memoryUsage().rss;

const started = performance.now();
await runPool(count, spawnConcurrency, spawnOne, (done) => {
  if (done % 1000 === 0 || done === count) {
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `  (c) spawned ${fmt(done)} / ${fmt(count)} idle supervisors (${fmt(seconds, 1)} s)`,
    );
  }
});
// spawn() resolves on commit, so every supervisor is durable here and the writer is idle.
const spawnSeconds = (performance.now() - started) / 1000;
await allPassivated(warm + count);
if (passivateAfterMs > 0) console.log(`  (c') ${fmt(host.passivated())} supervisors passivated`);
await fullGc();
const heapAfter = process.memoryUsage().heapUsed;
const rssAfter = process.memoryUsage().rss;
const hosted = host.size();

const result: MemoryResult = {
  supervisors: count,
  warmSupervisors: warm,
  heapBefore,
  heapAfter,
  bytesPerSupervisor: (heapAfter - heapBefore) / count,
  rssBefore,
  rssAfter,
  spawnSeconds,
  hosted,
  passivated: host.passivated(),
};

await host.stop();
await db.close();
console.log(`${RESULT_PREFIX}${JSON.stringify(result)}`);
