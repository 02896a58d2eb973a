import { fromPromise, setup } from 'xstate';
import { spawnTasks, type TaskSpec } from '../../src/machines/actions.ts';
import { initialSupervisorContext, type SupervisorContext } from '../../src/machines/context.ts';
import type { StandardEvent } from '../../src/machines/events.ts';
import type { MachineRegistry, TaskRunInput } from '../../src/machines/registry.ts';
import {
  cancelTasks,
  isOutstandingTaskEvent,
  recordTaskEvent,
  type TaskStrategy,
} from '../../src/machines/tasks.ts';

interface WorkerContext extends SupervisorContext {
  specs: TaskSpec[];
}

/** Spawns the tasks it is given, waits for all of them, completes. No escalation handler. */
export const workerMachine = setup({
  types: {
    context: {} as WorkerContext,
    input: {} as { tasks: TaskSpec[]; strategy?: TaskStrategy },
    events: {} as StandardEvent,
  },
  guards: {
    outstanding: ({ context, event }) => isOutstandingTaskEvent(context, event),
    allSettled: ({ context }) =>
      Object.values(context.tasks).every((t) => t.status === 'succeeded' || t.status === 'failed'),
  },
}).createMachine({
  id: 'worker',
  context: ({ input }) => ({
    ...initialSupervisorContext(),
    taskStrategy: input.strategy ?? 'one_for_one',
    specs: input.tasks,
  }),
  on: {
    'task.started': { guard: 'outstanding', actions: recordTaskEvent() },
    'task.completed': { guard: 'outstanding', actions: recordTaskEvent() },
    'task.failed': { guard: 'outstanding', actions: recordTaskEvent() },
    'task.restarting': { guard: 'outstanding', actions: recordTaskEvent() },
    'supervisor.cancel': { target: '.cancelled' },
  },
  initial: 'working',
  states: {
    working: {
      tags: ['waiting_for_tasks'],
      entry: spawnTasks(({ context }) => context.specs),
      always: { guard: 'allSettled', target: 'done' },
    },
    done: { type: 'final', tags: ['completed'] },
    cancelled: { type: 'final', tags: ['cancelled'], entry: cancelTasks() },
  },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the test tasks saw, for assertions. */
export const taskLog = {
  runs: [] as Array<{ taskId: string; attempt: number; key: string }>,
  aborted: new Set<string>(),
};

/** Registers the worker machine and its test tasks. */
export function registerTaskMachines(registry: MachineRegistry): void {
  registry.register({ id: 'worker', version: 1, machine: workerMachine });
  registry.registerTask(
    'double',
    fromPromise<number, TaskRunInput<{ n: number }>>(async ({ input }) => {
      taskLog.runs.push({
        taskId: input.taskId,
        attempt: input.attempt,
        key: input.idempotencyKey,
      });
      await sleep(Math.random() * 40);
      return input.input.n * 2;
    }),
  );
  registry.registerTask(
    'flaky',
    fromPromise<never, TaskRunInput>(async ({ input }) => {
      taskLog.runs.push({
        taskId: input.taskId,
        attempt: input.attempt,
        key: input.idempotencyKey,
      });
      await sleep(5);
      throw new Error(`flaky attempt ${input.attempt}`);
    }),
  );
  registry.registerTask(
    'slow',
    fromPromise<never, TaskRunInput>(
      ({ input, signal }) =>
        new Promise((_, reject) => {
          taskLog.runs.push({
            taskId: input.taskId,
            attempt: input.attempt,
            key: input.idempotencyKey,
          });
          signal.addEventListener('abort', () => {
            taskLog.aborted.add(input.taskId);
            reject(new Error('aborted'));
          });
        }),
    ),
  );
}
