import { z } from 'zod';
import { LifecycleState, PendingQuestion, RestorationSource } from './supervisor.ts';

/** What to do with a supervisor whose stored state was checked before restoring it. */
export const StateRecoveryAction = z.enum([
  /** The state is consistent: restore it as it is. */
  'proceed',
  /** The snapshot stands; derived records are brought in line with it (see each violation). */
  'repair',
  /** The state is inconsistent: restore the newest checkpoint that validates. */
  'restore_from_checkpoint',
  /** Nothing usable is stored: start the supervisor afresh and warn. */
  'start_fresh',
]);
export type StateRecoveryAction = z.infer<typeof StateRecoveryAction>;

/** One thing found wrong with a stored supervisor. */
export const StateViolation = z.object({
  /** Stable identifier of the kind of problem, e.g. `task_row_missing`. */
  code: z.string().min(1),
  message: z.string(),
  /** The offending id (task, question, child actor), where there is one. */
  subject: z.string().optional(),
  /** What repairs it, where the snapshot can (e.g. `deliver_outcome`, `write_row`). */
  action: z.string().optional(),
});
export type StateViolation = z.infer<typeof StateViolation>;

/** The outcome of validating a stored supervisor: every violation and the action chosen. */
export const StateValidationResult = z.object({
  valid: z.boolean(),
  violations: z.array(StateViolation),
  recovery: StateRecoveryAction,
});
export type StateValidationResult = z.infer<typeof StateValidationResult>;

/** What a restore did, returned to the caller and sent to the restored supervisor. */
export const SupervisorRestorationContext = z.object({
  supervisorId: z.uuid(),
  source: RestorationSource,
  restorationCount: z.number().int().positive(),
  restoredAt: z.date(),
  state: LifecycleState,
  phase: z.string().nullable(),
  pendingQuestions: z.array(PendingQuestion),
  waitingTaskIds: z.array(z.uuid()),
  /** The checkpoint restored from, when the stored state itself did not validate. */
  checkpointVersion: z.number().int().nonnegative().nullable(),
  /** A readable summary of where the supervisor stands, for a person or an LLM. */
  contextMessage: z.string(),
});
export type SupervisorRestorationContext = z.infer<typeof SupervisorRestorationContext>;
