import type { PendingQuestion } from '../model/supervisor.ts';
import type { QuestionAskedFrame, ServerFrame } from '../protocol/frames.ts';
import type { CommittedChange } from '../runtime/commit/committedChanges.ts';

/**
 * Counts how often each question was sent to each principal, across its connections, so a
 * client can tell a re-delivery (after a reconnect or a restore) from a first delivery.
 * Entries go when the question is resolved.
 */
export interface DeliveryCounter {
  next(principal: string, supervisorId: string, questionId: string): number;
  forget(supervisorId: string, questionId?: string): void;
}

export function createDeliveryCounter(): DeliveryCounter {
  const bySupervisor = new Map<string, Map<string, number>>();
  return {
    next(principal, supervisorId, questionId) {
      const counts = bySupervisor.get(supervisorId) ?? new Map<string, number>();
      bySupervisor.set(supervisorId, counts);
      const key = `${questionId}\u0000${principal}`;
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      return count;
    },
    forget(supervisorId, questionId) {
      const counts = bySupervisor.get(supervisorId);
      if (!counts || questionId === undefined) {
        bySupervisor.delete(supervisorId);
        return;
      }
      for (const key of counts.keys()) {
        if (key.startsWith(`${questionId}\u0000`)) counts.delete(key);
      }
      if (counts.size === 0) bySupervisor.delete(supervisorId);
    },
  };
}

/** The `question.asked` frame of a pending question. */
export function questionAskedFrame(
  supervisorId: string,
  version: number,
  question: PendingQuestion,
  deliveryCount: number,
): QuestionAskedFrame {
  return {
    type: 'question.asked',
    supervisorId,
    version,
    questionId: question.id,
    prompt: question.prompt,
    answer: question.answer,
    audience: question.audience,
    askedAt: question.askedAt,
    deadline: question.deadline ?? null,
    deliveryCount,
  };
}

/** The frame a committed change becomes, other than `question.asked` (counted per client). */
export function changeFrame(change: CommittedChange): ServerFrame | null {
  switch (change.type) {
    case 'question.resolved':
      return {
        type: 'question.resolved',
        supervisorId: change.supervisorId,
        version: change.version,
        questionId: change.questionId,
        resolution: change.resolution,
      };
    case 'status.changed':
      return {
        type: 'supervisor.status',
        supervisorId: change.supervisorId,
        version: change.version,
        state: change.state,
        stateValue: change.stateValue,
        phase: change.phase,
        activity: change.activity,
        progress: change.progress,
      };
    default:
      return null;
  }
}
