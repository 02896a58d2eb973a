// Restore time: 10,000 supervisors with one pending question each are stored; a fresh
// process restores them all. Target: ≤ 3 s from process start to all restored and all
// questions on the stream. With BENCH_RESTORE_WORK=task, each has a task in flight
// instead (what even a lazy restart restores at once); target: restoreAll ≤ 1.5 s.
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/restore.ts
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createMachineRegistry } from '../src/machines/registry.ts';
import { migrate } from '../src/persistence/migrator.ts';
import { openPgDatabase } from '../src/persistence/pgDatabase.ts';
import { createSupervisorStore } from '../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../src/runtime/supervisorHost.ts';
import { benchMachineDefinition } from './benchMachine.ts';
import {
  createDatabase,
  dropDatabase,
  envNumber,
  fmt,
  RESTORE_RESULT_PREFIX,
  runPool,
} from './support.ts';
import { registerTaskBench } from './taskBenchMachine.ts';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('bench/restore.ts needs DATABASE_URL (a PostgreSQL server)');
  process.exit(1);
}
const count = envNumber('BENCH_RESTORE_SUPERVISORS', 10_000);
const work = process.env.BENCH_RESTORE_WORK === 'task' ? 'task' : 'question';
const name = `steward_restore_${process.pid}`;
const dbUrl = await createDatabase(url, name);
try {
  const db = await openPgDatabase({ connectionString: dbUrl, max: 8 });
  await migrate(db);
  const registry = createMachineRegistry();
  registry.register(benchMachineDefinition);
  registerTaskBench(registry);
  const host = createSupervisorHost({
    store: createSupervisorStore(db),
    registry,
    heartbeatIntervalMs: 0,
  });
  const seeding = performance.now();
  await runPool(
    count,
    64,
    async () => {
      await host.spawn(work === 'task' ? 'task-bench' : 'bench', undefined);
    },
    (done) => {
      if (done % 2_000 === 0) console.log(`  stored ${fmt(done)} / ${fmt(count)} supervisors`);
    },
  );
  await host.stop();
  await db.close();
  console.log(
    `  stored ${fmt(count)} supervisors in ${fmt((performance.now() - seeding) / 1000, 1)} s`,
  );

  interface RestoreResult {
    restored: number;
    failed: number;
    questions: number;
    restoreMs: number;
    /** CPU time of the child's process (all its threads) during restoreAll. */
    cpuMs: number;
    sinceProcessStartMs: number;
    heapUsedBytes: number;
  }
  const result = await new Promise<RestoreResult>((resolve, reject) => {
    // BENCH_CHILD_NODE_ARGS: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the restore;
    // BENCH_CHILD_OUTPUT=1 prints the child's other output (`--trace-gc`, say).
    const nodeArgs = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(
      process.execPath,
      [...nodeArgs, '--import', 'tsx', 'bench/restoreChild.ts'],
      {
        env: {
          ...process.env,
          DATABASE_URL: dbUrl,
          BENCH_RESTORE_EXPECTED: String(count),
          BENCH_RESTORE_WORK: work,
          LOG_LEVEL: process.env.BENCH_CHILD_LOG_LEVEL ?? 'warn',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    // The result counts once the child has stopped its host and exited: dropping the
    // database under a child still flushing would leave it retrying forever.
    let reported: RestoreResult | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(RESTORE_RESULT_PREFIX)) {
        reported = JSON.parse(line.slice(RESTORE_RESULT_PREFIX.length));
      } else if (process.env.BENCH_CHILD_OUTPUT === '1') {
        console.log(line);
      }
    });
    child.on('exit', (code) => {
      if (code === 0 && reported) resolve(reported);
      else reject(new Error(`restore child exited with ${code}`));
    });
  });
  const seconds = result.sinceProcessStartMs / 1000;
  console.log(
    [
      '',
      '=== Steward restore benchmark ===',
      `restored ${fmt(result.restored)} of ${fmt(count)} (${fmt(result.failed)} failed), each with ${work === 'task' ? 'a task in flight' : 'a pending question'}; ${fmt(result.questions)} questions on the stream`,
      `restoreAll: ${fmt(result.restoreMs)} ms (${fmt((result.restored / result.restoreMs) * 1000)} supervisors/s), ${fmt(result.cpuMs)} ms of the process's CPU`,
      `process start to all restored and re-asked: ${fmt(seconds, 2)} s`,
      `heap after restore: ${fmt(result.heapUsedBytes / 1024 / 1024, 1)} MiB`,
      work === 'task'
        ? `target: restoreAll <= 1.5 s  ${result.restoreMs <= 1500 ? 'met' : `MISSED by ${fmt(result.restoreMs - 1500)} ms`}`
        : `target: <= 3 s  ${seconds <= 3 ? 'met' : `MISSED by ${fmt(seconds - 3, 2)} s`}`,
    ].join('\n'),
  );
} finally {
  await dropDatabase(url, name);
}
