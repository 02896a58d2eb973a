import { fromPromise, setup } from 'xstate';
import { spawnTasks } from '../src/machines/actions.ts';
import { initialSupervisorContext, type SupervisorContext } from '../src/machines/context.ts';
import type { StandardEvent } from '../src/machines/events.ts';
import type { MachineDefinition, MachineRegistry } from '../src/machines/registry.ts';
import { isOutstandingTaskEvent, recordTaskEvent } from '../src/machines/tasks.ts';

/**
 * A supervisor with one task in flight for as long as it lives: it spawns a `hang` task at
 * start (a run that never settles) and waits for it. What a restart must bring back at
 * once, even under lazy restore: work in flight (bench/restore.ts, `BENCH_RESTORE_WORK=task`).
 */
export const taskBenchMachine = setup({
  types: { context: {} as SupervisorContext, events: {} as StandardEvent },
  guards: { outstanding: ({ context, event }) => isOutstandingTaskEvent(context, event) },
}).createMachine({
  id: 'task-bench',
  context: () => initialSupervisorContext(),
  on: {
    'task.started': { guard: 'outstanding', actions: recordTaskEvent() },
    'task.completed': { guard: 'outstanding', actions: recordTaskEvent() },
    'task.failed': { guard: 'outstanding', actions: recordTaskEvent() },
    'task.restarting': { guard: 'outstanding', actions: recordTaskEvent() },
  },
  initial: 'working',
  states: {
    working: { tags: ['waiting_for_tasks'], entry: spawnTasks(() => [{ name: 'hang' }]) },
  },
});

export const taskBenchMachineDefinition: MachineDefinition = {
  id: 'task-bench',
  version: 1,
  machine: taskBenchMachine,
};

/** Registers the machine and its task, whose runs never settle. */
export function registerTaskBench(registry: MachineRegistry): void {
  registry.register(taskBenchMachineDefinition);
  registry.registerTask(
    'hang',
    fromPromise(() => new Promise<never>(() => {})),
  );
}
