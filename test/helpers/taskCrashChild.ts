// A runtime in a child process for the task crash test. MODE=spawn starts a supervisor
// whose transient task fails once and then hangs on its restart (the parent kills the
// process then); MODE=restore restores it, with a task that always fails.
import { fromPromise } from 'xstate';
import type { TaskRunInput } from '../../src/machines/registry.ts';
import { createMachineRegistry } from '../../src/machines/registry.ts';
import { openPgDatabase } from '../../src/persistence/pgDatabase.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { listTasks } from '../../src/persistence/taskRepository.ts';
import { createSupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { workerMachine } from './taskMachines.ts';

const mode = process.env.MODE;
const db = await openPgDatabase({ connectionString: process.env.DATABASE_URL as string });
const registry = createMachineRegistry();
registry.register({ id: 'worker', version: 1, machine: workerMachine });
registry.registerTask(
  'crashy',
  fromPromise<never, TaskRunInput>(async ({ input }) => {
    if (mode === 'spawn' && input.attempt > 1) await new Promise(() => {});
    throw new Error(`crashy attempt ${input.attempt}`);
  }),
);
const host = createSupervisorHost({
  store: createSupervisorStore(db),
  registry,
  heartbeatIntervalMs: 0,
});
const say = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);

if (mode === 'spawn') {
  const { id } = await host.spawn('worker', {
    tasks: [{ name: 'crashy', policy: { restart: 'transient', intensity: 2, periodMs: 600_000 } }],
  });
  for (;;) {
    const [task] = await listTasks(db, id);
    if (task?.attempts === 2 && task.status === 'running') break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  say({ restartedOnce: id });
  await new Promise(() => {});
} else {
  const result = await host.restoreAll('restart');
  // Let the restored supervisors play out (the restarted task fails, the budget runs out).
  const deadline = Date.now() + 10_000;
  while (host.size() > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  say({ restored: result.restored });
  await host.stop();
  await db.close();
}
