import { type AnyEventObject, assign } from 'xstate';
import { z } from 'zod';
import { TaskStatus } from '../model/task.ts';

/**
 * When a task is started again, as in Erlang/OTP: `permanent` always (after success too),
 * `transient` only after a failure, `temporary` never.
 */
export const RestartKind = z.enum(['permanent', 'transient', 'temporary']);
export type RestartKind = z.infer<typeof RestartKind>;

/** A task's restart policy: more than `intensity` restarts within `periodMs` escalate. */
export const RestartPolicy = z.object({
  restart: RestartKind,
  intensity: z.number().int().min(0),
  periodMs: z.number().int().positive(),
});
export type RestartPolicy = z.infer<typeof RestartPolicy>;

/** `temporary`: a task runs once unless its spawner asks for restarts. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({
  restart: 'temporary',
  intensity: 3,
  periodMs: 60_000,
});

/** How a failure affects sibling tasks: restart just it, or every running task with it. */
export const TaskStrategy = z.enum(['one_for_one', 'one_for_all']);
export type TaskStrategy = z.infer<typeof TaskStrategy>;

/** What the supervisor knows of a task it spawned: the truth its task row is derived from. */
export const SpawnedTask = z.object({
  name: z.string().min(1),
  input: z.unknown(),
  status: TaskStatus,
  /** 1 for the first run; each restart adds one. With the task id, the idempotency key. */
  attempt: z.number().int().positive(),
  policy: RestartPolicy,
  /** When each restart happened (epoch ms): the persisted restart budget. */
  restarts: z.array(z.number()),
  result: z.unknown().optional(),
  error: z.string().nullable(),
});
export type SpawnedTask = z.infer<typeof SpawnedTask>;

type Tasks = Record<string, SpawnedTask>;
interface WithTasks {
  tasks: Tasks;
  taskStrategy: TaskStrategy;
}

/** The stable key a task run hands to the outside world: same task, same attempt, same key. */
export function idempotencyKey(taskId: string, attempt: number): string {
  return `${taskId}:${attempt}`;
}

/** What the runtime decides when a task run ends. */
export type RestartDecision =
  | { kind: 'done' }
  | { kind: 'restart'; taskIds: string[] }
  | { kind: 'escalate'; reason: string };

/**
 * Decides what follows the end of a task run, from the policy and the restart budget kept
 * in the supervisor's context (so a crash loop across process restarts still exhausts it).
 */
export function decideRestart(
  context: WithTasks,
  taskId: string,
  failed: boolean,
  now: number,
): RestartDecision {
  const task = context.tasks[taskId];
  if (!task) return { kind: 'done' };
  const wanted =
    task.policy.restart === 'permanent' || (task.policy.restart === 'transient' && failed);
  if (!wanted) return { kind: 'done' };
  const recent = task.restarts.filter((at) => at > now - task.policy.periodMs).length;
  if (recent >= task.policy.intensity) {
    return {
      kind: 'escalate',
      reason: `task ${taskId} (${task.name}) needed more than ${task.policy.intensity} restarts within ${task.policy.periodMs} ms`,
    };
  }
  const siblings =
    context.taskStrategy === 'one_for_all'
      ? Object.keys(context.tasks).filter(
          (id) => id !== taskId && ['pending', 'running'].includes(context.tasks[id]?.status ?? ''),
        )
      : [];
  return { kind: 'restart', taskIds: [taskId, ...siblings] };
}

function update(tasks: Tasks, id: string, change: Partial<SpawnedTask>): Tasks {
  const task = tasks[id];
  return task ? { ...tasks, [id]: { ...task, ...change } } : tasks;
}

interface TaskEvent {
  type: string;
  taskId?: string;
  taskIds?: string[];
  attempt?: number;
  result?: unknown;
  error?: string;
  at?: number;
}

/** The task entries after a standard task event; events of an older attempt change nothing. */
export function applyTaskEvent(tasks: Tasks, event: TaskEvent): Tasks {
  const current = event.taskId ? tasks[event.taskId] : undefined;
  const stale = current && event.attempt !== undefined && event.attempt !== current.attempt;
  switch (event.type) {
    case 'task.started':
      if (!current || stale || current.status !== 'pending') return tasks;
      return update(tasks, event.taskId as string, { status: 'running' });
    case 'task.completed':
      if (!current || stale) return tasks;
      return update(tasks, event.taskId as string, {
        status: 'succeeded',
        result: event.result ?? null,
        error: null,
      });
    case 'task.failed':
      if (!current || stale) return tasks;
      return update(tasks, event.taskId as string, {
        status: 'failed',
        error: event.error ?? 'failed',
      });
    case 'task.restarting': {
      let next = tasks;
      for (const id of event.taskIds ?? []) {
        const task = next[id];
        if (!task) continue;
        next = update(next, id, {
          status: 'pending',
          attempt: task.attempt + 1,
          // Only the task whose end caused the restart spends budget.
          restarts: id === event.taskId ? [...task.restarts, event.at ?? 0] : task.restarts,
          error: id === event.taskId ? (event.error ?? null) : task.error,
        });
      }
      return next;
    }
    default:
      return tasks;
  }
}

/**
 * Records a standard task event (`task.started`, `task.completed`, `task.failed`,
 * `task.restarting`) in `tasks`. Put it on the machine's root so task outcomes are kept
 * in every state (see `taskEventHandlers`).
 */
export function recordTaskEvent<
  TContext extends WithTasks,
  TExpressionEvent extends AnyEventObject = AnyEventObject,
  TEvent extends AnyEventObject = TExpressionEvent,
>() {
  return assign<TContext, TExpressionEvent, undefined, TEvent, never>(
    ({ context, event }) =>
      ({ tasks: applyTaskEvent(context.tasks, event as TaskEvent) }) as Partial<TContext>,
  );
}

/**
 * Marks every pending or running task cancelled; the runtime then stops them (their
 * abort signal fires) and records them as cancelled. Run it when the supervisor cancels.
 */
export function cancelTasks<
  TContext extends WithTasks,
  TExpressionEvent extends AnyEventObject = AnyEventObject,
  TEvent extends AnyEventObject = TExpressionEvent,
>() {
  return assign<TContext, TExpressionEvent, undefined, TEvent, never>(({ context }) => {
    let tasks = context.tasks;
    for (const [id, task] of Object.entries(tasks)) {
      if (task.status === 'pending' || task.status === 'running') {
        tasks = update(tasks, id, { status: 'cancelled' });
      }
    }
    return { tasks } as Partial<TContext>;
  });
}

/** True for a task event about a task this supervisor has and still waits for. */
export function isOutstandingTaskEvent(context: WithTasks, event: AnyEventObject): boolean {
  const { taskId, taskIds } = event as TaskEvent;
  const ids = taskIds ?? (taskId ? [taskId] : []);
  return ids.some((id) => ['pending', 'running'].includes(context.tasks[id]?.status ?? ''));
}
