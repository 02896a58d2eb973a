import { z } from 'zod';

/**
 * The lifecycle of a supervisor, as stored in the `supervisor_state` enum. Each state node
 * of a supervisor machine carries exactly one of these as a tag.
 */
export const LIFECYCLE_STATES = [
  'initializing',
  'working',
  'waiting_for_user',
  'waiting_for_tasks',
  'paused',
  'completed',
  'failed',
  'cancelled',
] as const;
export const LifecycleState = z.enum(LIFECYCLE_STATES);
export type LifecycleState = z.infer<typeof LifecycleState>;

/** Lifecycle states a supervisor never leaves; such supervisors are not restored. */
export const TERMINAL_STATES: readonly LifecycleState[] = Object.freeze([
  'completed',
  'failed',
  'cancelled',
]);

/** Why a supervisor was last restored (`restoration_source`). */
export const RestorationSource = z.enum(['restart', 'failover', 'manual', 'checkpoint']);
export type RestorationSource = z.infer<typeof RestorationSource>;

/** A question id: short, printable, unique among a supervisor's pending questions. */
export const QuestionId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');

/** What kind of answer a question takes; the runtime validates answers against it. */
export const AnswerKind = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), maxLength: z.number().int().positive().optional() }),
  z.object({ kind: z.literal('choice'), options: z.array(z.string().min(1)).min(1) }),
  z.object({ kind: z.literal('confirm') }),
  z.object({
    kind: z.literal('number'),
    min: z.number().optional(),
    max: z.number().optional(),
    integer: z.boolean().optional(),
  }),
  z.object({ kind: z.literal('json'), schema: z.record(z.string(), z.unknown()) }),
]);
export type AnswerKind = z.infer<typeof AnswerKind>;

/** Who may answer a question: the supervisor's owner, or anyone holding a role. */
export const Audience = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('owner') }),
  z.object({ kind: z.literal('role'), role: z.string().min(1) }),
]);
export type Audience = z.infer<typeof Audience>;

/** A question a supervisor asked and nobody has answered yet. */
export const PendingQuestion = z.object({
  id: QuestionId,
  prompt: z.string().min(1).max(10_000),
  answer: AnswerKind,
  audience: Audience,
  askedAt: z.iso.datetime(),
  deadline: z.iso.datetime().optional(),
  /** When it is pushed again to clients and webhooks, as a reminder, if still pending. */
  remindAt: z.iso.datetime().optional(),
  /** When its audience widens, and to whom (the first audience may still answer). */
  escalation: z.object({ at: z.iso.datetime(), audience: Audience }).optional(),
});
export type PendingQuestion = z.infer<typeof PendingQuestion>;

/** True once the escalation of `question` has come (its time passed). */
export function isEscalated(question: PendingQuestion, now = Date.now()): boolean {
  return question.escalation !== undefined && Date.parse(question.escalation.at) <= now;
}

/**
 * Who may answer `question` at `now`: its audience, and its escalation's once that came.
 * Derived from the time, as its timer is: the same after a restart.
 */
export function audiencesOf(question: PendingQuestion, now = Date.now()): Audience[] {
  return isEscalated(question, now) && question.escalation
    ? [question.audience, question.escalation.audience]
    : [question.audience];
}

/**
 * What an answerer may answer, as data rather than a function, so that an answer forwarded
 * to the node that owns the supervisor carries it: every audience, or the owner's and
 * these roles'. Whether the answerer may see the supervisor at all is checked before.
 */
export const AnswerGrant = z.strictObject({
  anyAudience: z.boolean(),
  roles: z.array(z.string()).readonly(),
});
export type AnswerGrant = z.infer<typeof AnswerGrant>;

/** True when the grant covers an audience the question is addressed to now. */
export function grantCovers(grant: AnswerGrant, question: PendingQuestion, now = Date.now()) {
  return audiencesOf(question, now).some(
    (audience) =>
      grant.anyAudience || audience.kind === 'owner' || grant.roles.includes(audience.role),
  );
}

/** One supervisor as stored: identity, the persisted XState snapshot and the derived columns. */
export const SupervisorState = z.object({
  id: z.uuid(),
  machineId: z.string().min(1),
  machineVersion: z.number().int().nonnegative(),
  owner: z.string().nullable(),
  /** XState's `getPersistedSnapshot()`, as JSON. */
  snapshot: z.unknown(),
  /** The input it was spawned with; written once, at spawn. */
  input: z.unknown(),
  xstateVersion: z.string().nullable(),
  /** Pending delayed events as absolute deadlines: XState's snapshot does not carry them. */
  timers: z.array(z.unknown()),
  /** Strictly increasing per supervisor; a write never replaces a newer one. */
  version: z.number().int().nonnegative(),
  state: LifecycleState,
  /** The active leaf states as dotted paths, `;` between parallel regions. */
  stateValue: z.string(),
  /** The snapshot's tags other than the lifecycle one. */
  tags: z.array(z.string()),
  stateEnteredAt: z.date(),
  currentActivity: z.string().nullable(),
  progress: z.number().int().min(0).max(100),
  phase: z.string().nullable(),
  errorMessage: z.string().nullable(),
  spawnedTaskIds: z.array(z.uuid()),
  pendingQuestions: z.array(PendingQuestion),
  restorationCount: z.number().int().nonnegative(),
  lastRestoredAt: z.date().nullable(),
  restorationSource: RestorationSource.nullable(),
  lastHeartbeat: z.date().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type SupervisorState = z.infer<typeof SupervisorState>;

/**
 * What is written for a supervisor at a save point: everything but the bookkeeping
 * columns the database maintains itself (timestamps, restoration tracking, heartbeat).
 */
export const SupervisorWrite = SupervisorState.pick({
  id: true,
  machineId: true,
  machineVersion: true,
  owner: true,
  snapshot: true,
  input: true,
  xstateVersion: true,
  timers: true,
  version: true,
  state: true,
  stateValue: true,
  tags: true,
  currentActivity: true,
  progress: true,
  phase: true,
  errorMessage: true,
  spawnedTaskIds: true,
  pendingQuestions: true,
}).extend({
  /**
   * Whether it must run at once after a restart: a task pending or running, an invoked or
   * spawned actor alive. Not stored in SupervisorState; written to `work_in_flight`.
   */
  workInFlight: z.boolean().optional(),
});
export type SupervisorWrite = z.infer<typeof SupervisorWrite>;
