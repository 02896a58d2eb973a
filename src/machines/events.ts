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

export const TaskCompletedEvent = z.object({
  type: z.literal('task.completed'),
  taskId: z.uuid(),
  result: z.unknown(),
});
export type TaskCompletedEvent = z.infer<typeof TaskCompletedEvent>;

export const TaskFailedEvent = z.object({
  type: z.literal('task.failed'),
  taskId: z.uuid(),
  error: z.string(),
});
export type TaskFailedEvent = z.infer<typeof TaskFailedEvent>;

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
  TaskCompletedEvent,
  TaskFailedEvent,
  PauseEvent,
  ResumeEvent,
  CancelEvent,
  HeartbeatEvent,
]);
export type StandardEvent = z.infer<typeof StandardEvent>;

/** Any event sent from outside: an object with a `type`, JSON only. */
export const ExternalEvent = z.looseObject({ type: z.string().min(1).max(200) });
export type ExternalEvent = z.infer<typeof ExternalEvent>;
