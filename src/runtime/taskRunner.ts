import { type AnyActor, createActor } from 'xstate';
import type { Logger } from '../logger.ts';
import type { MachineRegistry, TaskRunInput } from '../machines/registry.ts';
import {
  decideRestart,
  idempotencyKey,
  type SpawnedTask,
  type TaskStrategy,
} from '../machines/tasks.ts';
import type { TaskRecord, TaskRowWrite } from '../model/task.ts';
import type { SupervisorStore } from '../persistence/supervisorStore.ts';
import type { LiveSupervisor } from './live/liveSupervisor.ts';

/** Runs the tasks of the live supervisors and supervises them by their restart policies. */
export interface TaskRunner {
  /**
   * Brings running tasks in line with task rows a supervisor just committed: starts the
   * pending ones (new or restarted) and stops the cancelled ones. Called after the commit,
   * so no task runs for a spawn that was never made durable.
   */
  afterCommit(live: LiveSupervisor, tasks: readonly TaskRowWrite[]): void;
  /**
   * Picks up a restored supervisor's tasks: delivers outcomes their rows recorded while the
   * supervisor never heard of them, treats other runs in flight as interrupted by the
   * crash (their policy decides on a restart, which spends budget), starts pending ones.
   */
  /** `rows`: its task rows as read with its restored page, if they were; else read here. */
  resumeAfterRestore(live: LiveSupervisor, rows?: readonly TaskRecord[]): Promise<void>;
  /** Stops every task of a supervisor (it finished, or the runtime stops). */
  stopAll(supervisorId: string): void;
  /** Task runs in progress, for tests and metrics. */
  running(): number;
  /** Task runs in progress for one supervisor. */
  runningFor(supervisorId: string): number;
}

interface Run {
  actor: AnyActor;
  attempt: number;
}

function contextOf(live: LiveSupervisor): {
  tasks: Record<string, SpawnedTask>;
  taskStrategy: TaskStrategy;
} {
  const context = live.context();
  return { tasks: context.tasks ?? {}, taskStrategy: context.taskStrategy ?? 'one_for_one' };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What the task runner works with. */
export interface TaskRunnerOptions {
  registry: MachineRegistry;
  store: SupervisorStore;
  log: Logger;
  now?: () => number;
}

/** An outcome of one run of a task. */
type Outcome = { ok: true; result: unknown } | { ok: false; error: string; interrupted?: boolean };

/**
 * Creates the task runner. Tasks run as actors of the runtime tied to their supervisor,
 * started only after the commit that recorded them; each outcome is recorded in the task
 * row before the supervisor hears of it.
 */
export function createTaskRunner(options: TaskRunnerOptions): TaskRunner {
  return new SupervisedTasks(options);
}

class SupervisedTasks implements TaskRunner {
  readonly #registry: MachineRegistry;
  readonly #store: SupervisorStore;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #runs = new Map<string, Map<string, Run>>();

  constructor(options: TaskRunnerOptions) {
    this.#registry = options.registry;
    this.#store = options.store;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  afterCommit(live: LiveSupervisor, tasks: readonly TaskRowWrite[]): void {
    const current = contextOf(live).tasks;
    for (const row of tasks) {
      const task = current[row.id];
      if (!task) continue;
      if (task.status === 'cancelled') this.#stop(live.id, row.id);
      // Only a run this commit made durable starts: when the live context is already a
      // restart further on, that attempt's own commit (which always follows) starts it.
      // Starting it early let its outcome miss a row still at the older attempt.
      else if (task.status === 'pending' && task.attempt === row.attempt) {
        this.#start(live, row.id, task);
      }
    }
  }

  async resumeAfterRestore(live: LiveSupervisor, read?: readonly TaskRecord[]): Promise<void> {
    const rows = new Map((read ?? (await this.#store.listTasks(live.id))).map((r) => [r.id, r]));
    // Looked up, not made: a supervisor whose cut tasks are not restarted keeps no map.
    const running = this.#runs.get(live.id);
    for (const [taskId, task] of Object.entries(contextOf(live).tasks)) {
      // Already running here (started after a commit made during the restore): not cut.
      if (running?.get(taskId)?.attempt === task.attempt) continue;
      if (task.status === 'pending') {
        this.#start(live, taskId, task);
        continue;
      }
      if (task.status !== 'running') continue;
      const row = rows.get(taskId);
      if (row?.attempts === task.attempt && row.status === 'succeeded') {
        live.deliver({ type: 'task.completed', taskId, attempt: task.attempt, result: row.result });
      } else if (row?.attempts === task.attempt && row.status === 'failed') {
        await this.#ended(live, taskId, task.attempt, { ok: false, error: row.error ?? 'failed' });
      } else {
        await this.#ended(live, taskId, task.attempt, {
          ok: false,
          interrupted: true,
          error: 'interrupted: the runtime stopped while the task ran',
        });
      }
    }
  }

  stopAll(supervisorId: string): void {
    for (const taskId of [...(this.#runs.get(supervisorId)?.keys() ?? [])]) {
      this.#stop(supervisorId, taskId);
    }
    this.#runs.delete(supervisorId);
  }

  running(): number {
    return [...this.#runs.values()].reduce((n, mine) => n + mine.size, 0);
  }

  runningFor(supervisorId: string): number {
    return this.#runs.get(supervisorId)?.size ?? 0;
  }

  #runsOf(supervisorId: string): Map<string, Run> {
    let mine = this.#runs.get(supervisorId);
    if (!mine) {
      mine = new Map();
      this.#runs.set(supervisorId, mine);
    }
    return mine;
  }

  #stop(supervisorId: string, taskId: string): void {
    const run = this.#runs.get(supervisorId)?.get(taskId);
    if (!run) return;
    this.#runs.get(supervisorId)?.delete(taskId);
    run.actor.stop();
  }

  #start(live: LiveSupervisor, taskId: string, task: SpawnedTask): void {
    const supervisorId = live.id;
    const current = this.#runsOf(supervisorId).get(taskId);
    if (current?.attempt === task.attempt) return;
    if (current) this.#stop(supervisorId, taskId);
    const logic = this.#registry.task(task.name);
    if (!logic) {
      void this.#ended(live, taskId, task.attempt, {
        ok: false,
        error: `no task logic is registered as "${task.name}"`,
      });
      return;
    }
    const input: TaskRunInput = {
      input: task.input,
      taskId,
      attempt: task.attempt,
      idempotencyKey: idempotencyKey(taskId, task.attempt),
      supervisorId,
    };
    const actor = createActor(logic, { input });
    this.#runsOf(supervisorId).set(taskId, { actor, attempt: task.attempt });
    actor.subscribe({
      next: (snapshot) => {
        if (snapshot.status === 'done') {
          void this.#ended(live, taskId, task.attempt, { ok: true, result: snapshot.output });
        }
      },
      error: (error) =>
        void this.#ended(live, taskId, task.attempt, { ok: false, error: messageOf(error) }),
    });
    actor.start();
    live.deliver({ type: 'task.started', taskId, attempt: task.attempt });
  }

  async #ended(live: LiveSupervisor, taskId: string, attempt: number, outcome: Outcome) {
    const supervisorId = live.id;
    const run = this.#runs.get(supervisorId)?.get(taskId);
    if (run && run.attempt !== attempt) return;
    this.#runs.get(supervisorId)?.delete(taskId);
    // An interruption (a run the last process took with it, found by a restore) gets no head
    // start: nothing was computed that a crash could lose, and the next restore would find
    // it the same way. Recording it ahead cost a commit per task (10,000 of them in a row).
    if (!outcome.ok && outcome.interrupted) return this.#decide(live, taskId, attempt, outcome);
    try {
      await this.#store.recordTaskOutcome({
        taskId,
        attempt,
        status: outcome.ok ? 'succeeded' : 'failed',
        result: outcome.ok ? outcome.result : null,
        error: outcome.ok ? null : outcome.error,
      });
    } catch (error) {
      // The supervisor's own commit records the outcome too; only the head start is lost.
      this.#log.warn({ err: error, supervisorId, taskId }, 'could not record a task outcome ahead');
    }
    this.#decide(live, taskId, attempt, outcome);
  }

  /** Restart, escalate or tell the supervisor: what the restart policy says of an outcome. */
  #decide(live: LiveSupervisor, taskId: string, attempt: number, outcome: Outcome): void {
    const supervisorId = live.id;
    const decision = decideRestart(contextOf(live), taskId, !outcome.ok, this.#now());
    if (decision.kind === 'restart') {
      for (const sibling of decision.taskIds) {
        if (sibling !== taskId) this.#stop(supervisorId, sibling);
      }
      live.deliver({
        type: 'task.restarting',
        taskId,
        taskIds: decision.taskIds,
        attempt: attempt + 1,
        error: outcome.ok ? null : outcome.error,
        at: this.#now(),
      });
      return;
    }
    // An escalation goes first: the outcome alone could let the supervisor settle and
    // complete, and an exhausted budget must fail it (or reach its own handler) all the same.
    if (decision.kind === 'escalate') {
      live.deliver({ type: 'task.escalated', taskId, reason: decision.reason });
    }
    live.deliver(
      outcome.ok
        ? { type: 'task.completed', taskId, attempt, result: outcome.result }
        : { type: 'task.failed', taskId, attempt, error: outcome.error },
    );
  }
}
