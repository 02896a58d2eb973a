import { isEscalated, type PendingQuestion } from '../model/supervisor.ts';
import type { QuestionAskedFrame, ServerFrame } from '../protocol/frames.ts';
import type { CommittedChange } from '../runtime/commit/committedChanges.ts';

/**
 * Counts how often each question was sent to each principal, across its connections, so a
 * client can tell a re-delivery (after a reconnect, a restore or a restart) from a first
 * delivery: the `deliveryCount` of `question.asked`. Entries go when the question is
 * resolved.
 */
export interface DeliveryCounter {
  next(
    principal: string,
    supervisorId: string,
    question: Pick<PendingQuestion, 'id' | 'askedAt'>,
  ): number;
  forget(supervisorId: string, questionId?: string): void;
}

/**
 * The counter of a process, given when every process started on the database (this one
 * included, `recordRuntimeStart`): a count is this process's sends of the question to the
 * principal plus the starts since the question was asked. Sends live in memory; the
 * starts, in the database, are what keep a restart from taking a count back to 1.
 */
export function createDeliveryCounter(runtimeStarts: readonly Date[] = []): DeliveryCounter {
  const bySupervisor = new Map<string, Map<string, number>>();
  const starts = runtimeStarts.map((start) => start.getTime());
  /** Starts after the question was asked: each is a process that may have sent it again. */
  const restartsSince = (askedAt: string) => {
    const asked = Date.parse(askedAt);
    return Number.isNaN(asked) ? 0 : starts.filter((start) => start > asked).length;
  };
  return {
    next(principal, supervisorId, question) {
      const counts = bySupervisor.get(supervisorId) ?? new Map<string, number>();
      bySupervisor.set(supervisorId, counts);
      const key = `${question.id}\u0000${principal}`;
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      return count + restartsSince(question.askedAt);
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

/**
 * The `question.asked` frame of a pending question: its reminder when `followUp` says so,
 * with the audience it has now (escalated or not, by the time, as its timer goes).
 */
export function questionAskedFrame(
  supervisorId: string,
  version: number,
  question: PendingQuestion,
  deliveryCount: number,
  followUp?: 'reminder' | 'escalation',
): QuestionAskedFrame {
  const escalated = followUp === 'escalation' || isEscalated(question);
  return {
    type: 'question.asked',
    supervisorId,
    version,
    questionId: question.id,
    prompt: question.prompt,
    answer: question.answer,
    audience: escalated && question.escalation ? question.escalation.audience : question.audience,
    askedAt: question.askedAt,
    deadline: question.deadline ?? null,
    remindAt: question.remindAt ?? null,
    escalation: question.escalation ?? null,
    escalated,
    reminder: followUp === 'reminder',
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
