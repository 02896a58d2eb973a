import { z } from 'zod';
import { PendingQuestion } from '../model/supervisor.ts';
import { SpawnedTask, TaskStrategy } from './tasks.ts';

/** An error as data: `Error` objects serialize to `{}`, so message and stack are kept apart. */
export const SupervisorError = z.object({
  message: z.string(),
  stack: z.string().optional(),
});
export type SupervisorError = z.infer<typeof SupervisorError>;

/**
 * The standard part of every supervisor's context. A machine's context may hold more
 * fields; these are the ones the runtime reads and persists as columns.
 */
export const SupervisorContext = z.looseObject({
  activity: z.string().nullable(),
  progress: z.number().int().min(0).max(100),
  phase: z.string().nullable(),
  pendingQuestions: z.array(PendingQuestion),
  spawnedTaskIds: z.array(z.uuid()),
  /** The spawned tasks by id, in `spawnedTaskIds` order. */
  tasks: z.record(z.uuid(), SpawnedTask),
  /** How a task failure affects its siblings when it is restarted. */
  taskStrategy: TaskStrategy,
  error: SupervisorError.nullable(),
  /**
   * What this supervisor is about, in a few words, for the people who answer its questions
   * (the dashboard heads its cards with it). Optional: snapshots stored before it existed,
   * and machines that name nothing, stay valid.
   */
  title: z.string().optional(),
});
export type SupervisorContext = z.infer<typeof SupervisorContext>;

/**
 * The standard fields at their starting values, to spread into a machine's context.
 *
 * @example
 * context: ({ input }) => ({ ...initialSupervisorContext(), steps: input.steps })
 */
export function initialSupervisorContext(): SupervisorContext {
  return {
    activity: null,
    progress: 0,
    phase: null,
    pendingQuestions: [],
    spawnedTaskIds: [],
    tasks: {},
    taskStrategy: 'one_for_one',
    error: null,
  };
}
