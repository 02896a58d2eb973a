import { z } from 'zod';
import { QuestionId } from '../model/supervisor.ts';

/** Sent by the runtime when an answer was validated against its question's answer kind. */
export const QuestionAnsweredEvent = z.object({
  type: z.literal('question.answered'),
  questionId: QuestionId,
  value: z.unknown(),
  answeredBy: z.string().nullable(),
});
export type QuestionAnsweredEvent = z.infer<typeof QuestionAnsweredEvent>;

/**
 * Sent by the runtime when a pending question's deadline passed unanswered. The question is
 * resolved `expired` for everyone else; the machine decides what follows (escalate, take a
 * default, fail) and takes it off `pendingQuestions` with `acceptExpiry()`.
 */
export const QuestionExpiredEvent = z.object({
  type: z.literal('question.expired'),
  questionId: QuestionId,
  /** The deadline that passed, ISO 8601. */
  deadline: z.iso.datetime(),
});
export type QuestionExpiredEvent = z.infer<typeof QuestionExpiredEvent>;

/** Sent by the runtime once a task run has started (after the commit that spawned it). */
export const TaskStartedEvent = z.object({
  type: z.literal('task.started'),
  taskId: z.uuid(),
  attempt: z.number().int().positive(),
});

export const TaskCompletedEvent = z.object({
  type: z.literal('task.completed'),
  taskId: z.uuid(),
  attempt: z.number().int().positive().optional(),
  result: z.unknown(),
});
export type TaskCompletedEvent = z.infer<typeof TaskCompletedEvent>;

export const TaskFailedEvent = z.object({
  type: z.literal('task.failed'),
  taskId: z.uuid(),
  attempt: z.number().int().positive().optional(),
  error: z.string(),
});
export type TaskFailedEvent = z.infer<typeof TaskFailedEvent>;

/** Sent by the runtime when a task run ended and its policy starts it (and siblings) again. */
export const TaskRestartingEvent = z.object({
  type: z.literal('task.restarting'),
  /** The task whose run ended; it spends restart budget. */
  taskId: z.uuid(),
  /** Every task started again: the one that ended, and its siblings under one_for_all. */
  taskIds: z.array(z.uuid()),
  attempt: z.number().int().positive(),
  error: z.string().nullable(),
  at: z.number(),
});

/** Sent when a task exhausted its restart budget. A machine that does not take it fails. */
export const TaskEscalatedEvent = z.object({
  type: z.literal('task.escalated'),
  taskId: z.uuid(),
  reason: z.string(),
});

export const PauseEvent = z.object({ type: z.literal('supervisor.pause') });
export const ResumeEvent = z.object({ type: z.literal('supervisor.resume') });
export const CancelEvent = z.object({
  type: z.literal('supervisor.cancel'),
  reason: z.string().optional(),
});
export const HeartbeatEvent = z.object({ type: z.literal('supervisor.heartbeat') });

/** The events every supervisor may receive from the runtime. */
export const StandardEvent = z.discriminatedUnion('type', [
  QuestionAnsweredEvent,
  QuestionExpiredEvent,
  TaskStartedEvent,
  TaskCompletedEvent,
  TaskFailedEvent,
  TaskRestartingEvent,
  TaskEscalatedEvent,
  PauseEvent,
  ResumeEvent,
  CancelEvent,
  HeartbeatEvent,
]);
export type StandardEvent = z.infer<typeof StandardEvent>;

/** Any event sent from outside: an object with a `type`, JSON only. */
export const ExternalEvent = z.looseObject({ type: z.string().min(1).max(200) });
export type ExternalEvent = z.infer<typeof ExternalEvent>;
