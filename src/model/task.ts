import { z } from 'zod';
import { JournalKind } from './journalKinds.ts';

/** Where a spawned task stands, as stored in `supervisor_tasks.status`. */
export const TaskStatus = z.enum([
  'pending',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'interrupted',
]);
export type TaskStatus = z.infer<typeof TaskStatus>;

/** One task a supervisor spawned. */
export const TaskRecord = z.object({
  id: z.uuid(),
  supervisorId: z.uuid(),
  name: z.string().min(1),
  status: TaskStatus,
  input: z.unknown(),
  result: z.unknown(),
  error: z.string().nullable(),
  attempts: z.number().int().nonnegative(),
  policy: z.unknown(),
  restarts: z.array(z.number()),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type TaskRecord = z.infer<typeof TaskRecord>;

/** A task row as a supervisor's snapshot describes it, written with that snapshot. */
export interface TaskRowWrite {
  id: string;
  supervisorId: string;
  name: string;
  status: TaskStatus;
  input: unknown;
  result: unknown;
  error: string | null;
  attempt: number;
  policy: unknown;
  restarts: number[];
}

/** One entry of a supervisor's journal (`supervisor_events`). */
export const JournalEvent = z.object({
  id: z.number().int().positive(),
  supervisorId: z.uuid(),
  version: z.number().int().nonnegative().nullable(),
  kind: JournalKind,
  payload: z.unknown(),
  /** The machine's state value at `version`; null when the entry was not captured with one. */
  stateValue: z.string().nullable(),
  createdAt: z.date(),
});
export type JournalEvent = z.infer<typeof JournalEvent>;

/** A kept snapshot restoration can fall back to (`supervisor_checkpoints`). */
export const Checkpoint = z.object({
  supervisorId: z.uuid(),
  version: z.number().int().nonnegative(),
  machineVersion: z.number().int().nonnegative(),
  phase: z.string().nullable(),
  snapshot: z.unknown(),
  timers: z.array(z.unknown()),
  createdAt: z.date(),
});
export type Checkpoint = z.infer<typeof Checkpoint>;
