// The bodies the HTTP API answers with, as they are on the wire: the model's schemas with
// every Date as the ISO 8601 string JSON makes of it. The OpenAPI document describes the
// responses with these, and the typed client validates what it receives with them.
import { z } from 'zod';
import {
  SupervisorRestorationContext as RestorationContext,
  StateRecoveryAction,
  StateViolation,
} from '../model/restoration.ts';
import { PendingQuestion, SupervisorState } from '../model/supervisor.ts';
import { Checkpoint } from '../model/task.ts';
import { ERROR_CODES } from './errorCodes.ts';
import { RecordedAnswer } from './frames.ts';
import { JournalEntry } from './http.ts';

const Time = z.iso.datetime();

/** A supervisor as `GET /supervisors` and `GET /supervisors/:id` return it. */
export const SupervisorView = SupervisorState.extend({
  stateEnteredAt: Time,
  lastRestoredAt: Time.nullable(),
  lastHeartbeat: Time.nullable(),
  createdAt: Time,
  updatedAt: Time,
}).meta({ id: 'Supervisor' });
export type SupervisorView = z.infer<typeof SupervisorView>;

/** `GET /supervisors`. */
export const SupervisorList = z.object({ supervisors: z.array(SupervisorView) });
export type SupervisorList = z.infer<typeof SupervisorList>;

/** `GET /supervisors/:id`: the supervisor, its pending questions and its newest 50 journal entries. */
export const SupervisorDetail = z.object({
  supervisor: SupervisorView,
  pendingQuestions: z.array(PendingQuestion),
  history: z.array(JournalEntry),
});
export type SupervisorDetail = z.infer<typeof SupervisorDetail>;

/** `POST /supervisors` (201): the new supervisor's id and the version that made it durable. */
export const Created = z.object({ id: z.uuid(), version: z.number().int().nonnegative() });
export type Created = z.infer<typeof Created>;

/** A change committed: events, pause, cancel. */
export const Committed = z.object({ version: z.number().int().nonnegative() });
export type Committed = z.infer<typeof Committed>;

/** `POST /supervisors/:id/questions/:questionId/answer`: a repeat of the same value is a duplicate. */
export const AnswerResult = Committed.extend({ duplicate: z.boolean() });
export type AnswerResult = z.infer<typeof AnswerResult>;

/** `DELETE /supervisors/:id`. */
export const Deleted = z.object({ id: z.uuid(), deleted: z.literal(true) });
export type Deleted = z.infer<typeof Deleted>;

/** `GET /supervisors/:id/checkpoints`, newest first. */
export const CheckpointList = z.object({
  checkpoints: z.array(Checkpoint.extend({ createdAt: Time })),
});
export type CheckpointList = z.infer<typeof CheckpointList>;

/** What a restore did (the seed's RestorationInfo), as `POST /supervisors/:id/resume` returns it. */
export const RestorationInfo = RestorationContext.extend({
  restoredAt: Time,
  violations: z.array(StateViolation),
  recovery: StateRecoveryAction,
  history: z.array(JournalEntry),
}).meta({ id: 'RestorationInfo' });
export type RestorationInfo = z.infer<typeof RestorationInfo>;

/** `POST /supervisors/:id/retry`: the supervisor back at work, and how it was restored. */
export const Retried = z.object({ retried: z.literal(true), restoration: RestorationInfo });
export type Retried = z.infer<typeof Retried>;

/**
 * `POST /supervisors/:id/resume`: `restored` from storage (it was not in memory), `unpaused`
 * (it was paused), or already `running`.
 */
export const Resumed = z.discriminatedUnion('resumed', [
  z.object({ resumed: z.literal('restored'), restoration: RestorationInfo }),
  z.object({
    resumed: z.enum(['unpaused', 'running']),
    version: z.number().int().nonnegative(),
    restoration: z.null(),
  }),
]);
export type Resumed = z.infer<typeof Resumed>;

/** `GET /questions`: pending questions across the fleet the token may see. */
export const QuestionList = z.object({
  questions: z.array(
    z.object({
      supervisorId: z.uuid(),
      owner: z.string().nullable(),
      version: z.number().int().nonnegative(),
      question: PendingQuestion,
    }),
  ),
  /** The last supervisor of this page: pass it as `afterId` for the next. */
  nextAfterId: z.uuid().nullable(),
});
export type QuestionList = z.infer<typeof QuestionList>;

/** `GET /supervisors/:id/journal?before=&limit=`: declared with its query in http.ts. */
export { JournalPage } from './http.ts';

/** `GET /healthz` (503 with `status: "stopping"` during shutdown). */
export const Health = z.object({
  status: z.enum(['ok', 'stopping']),
  supervisorsInMemory: z.number().int().nonnegative(),
  supervisorsPassivated: z.number().int().nonnegative().optional(),
  supervisorsDeferred: z.number().int().nonnegative().optional(),
  /** Several nodes (`--cluster`): this node, the slices it holds, what its leases went through. */
  node: z
    .object({
      nodeId: z.string(),
      slicesHeld: z.number().int().nonnegative(),
      leasesRenewed: z.number().int().nonnegative(),
      leasesLost: z.number().int().nonnegative(),
      slicesTaken: z.number().int().nonnegative(),
      slicesGivenBack: z.number().int().nonnegative(),
      /** Calls this node sent to the owner of their supervisor (another node). */
      callsForwarded: z.number().int().nonnegative(),
      /** Calls other nodes sent to this one, executed here. */
      callsServed: z.number().int().nonnegative(),
    })
    .optional(),
});

/** `GET /readyz`; `ready` decides 200 or 503. */
export const Readiness = z.object({
  ready: z.boolean(),
  status: z.enum(['ready', 'stopping', 'database unavailable', 'commits failing']),
  database: z.enum(['available', 'unavailable']),
  /** Since when the database is as it is. */
  since: Time,
  reason: z.string().optional(),
  /** Milliseconds since a write last committed; null before the first. */
  lastCommitAgeMs: z.number().nullable(),
  /** Milliseconds every commit attempt has failed; null while commits go through. */
  failingForMs: z.number().nullable(),
  /** Supervisor writes queued and in flight. */
  pendingWrites: z.number().int().nonnegative(),
});
export type Readiness = z.infer<typeof Readiness>;

/** `GET /machines`. */
export const MachineList = z.object({
  machines: z.array(
    z.object({
      id: z.string(),
      /** The newest registered version: what `POST /supervisors` starts. */
      version: z.number().int().nonnegative(),
      /** Every registered version, ascending. */
      versions: z.array(z.number().int().nonnegative()),
      description: z.string().nullable(),
    }),
  ),
});

/** `GET /machines/:id/counts`: the caller's supervisors of a machine by state value. */
export const MachineCounts = z.object({
  machineId: z.string(),
  total: z.number().int().nonnegative(),
  stateValues: z.record(z.string(), z.number().int().nonnegative()),
  /**
   * The median time supervisors stayed in each state value before leaving it, and over how
   * many stays, from the journal of the last 30 days.
   */
  timeInState: z.record(
    z.string(),
    z.object({ medianMs: z.number().int().nonnegative(), stays: z.number().int().positive() }),
  ),
});

/**
 * Every refusal: `{ error: { code, message, details } }`, with the status the registry
 * gives the code; `ERR_ALREADY_ANSWERED` adds the answer that stands as `recorded`.
 */
export const ErrorResponse = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    /** Validation issues (`issues`), offending ids, hints. */
    details: z.record(z.string(), z.unknown()),
    recorded: RecordedAnswer.optional(),
  }),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;
