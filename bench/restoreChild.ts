// A fresh runtime process that restores every supervisor of the database and reports, on
// one line, how long it took from process start until all were restored and all their
// pending questions were on the committed-changes stream.
import { createMachineRegistry } from '../src/machines/registry.ts';
import { openPgDatabase } from '../src/persistence/pgDatabase.ts';
import { createSupervisorStore } from '../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../src/runtime/supervisorHost.ts';
import { benchMachineDefinition } from './benchMachine.ts';
import { RESTORE_RESULT_PREFIX } from './support.ts';
import { registerTaskBench } from './taskBenchMachine.ts';

const expected = Number(process.env.BENCH_RESTORE_EXPECTED);
const db = await openPgDatabase({ connectionString: process.env.DATABASE_URL as string, max: 4 });
const registry = createMachineRegistry();
registry.register(benchMachineDefinition);
registerTaskBench(registry);
const host = createSupervisorHost({
  store: createSupervisorStore(db),
  registry,
  heartbeatIntervalMs: 0,
});
let questions = 0;
host.subscribe((change) => {
  if (change.type === 'question.asked') questions++;
});
const started = performance.now();
const cpuBefore = process.cpuUsage();
const { restored, failed } = await host.restoreAll('restart');
const restoreMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const result = {
  restored,
  failed,
  questions,
  expected,
  restoreMs,
  cpuMs: (cpu.user + cpu.system) / 1000,
  sinceProcessStartMs: process.uptime() * 1000,
  heapUsedBytes: process.memoryUsage().heapUsed,
};
process.stdout.write(`${RESTORE_RESULT_PREFIX}${JSON.stringify(result)}\n`);
// The hang tasks never settle: exit at once (a --cpu-prof profile is written on exit).
await host.stop();
await db.close();
process.exit(0);
