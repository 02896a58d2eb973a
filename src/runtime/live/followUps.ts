// Reminders and escalations of pending questions, kept with the timers that already survive
// restarts (as deadlines are, deadlines.ts): each follow-up to come has a delayed event in the
// supervisor's actor system, stored in the row's `timers` with the question that carries it,
// so the two commit together. Its event (`steward.followUp`) is a wake-up no machine takes;
// the runtime sees the time come and journals the follow-up in the commit that also drops
// its timer from the row: once, across restarts, whichever process got there.
//
// A follow-up is armed only while its time is ahead: a timer never fires before its time
// (wallClock.ts), so a pending question whose follow-up time passed without a stored timer
// had it already. No other record of "done" is needed, here or in the row.
import type { AnyActor } from 'xstate';
import { cancelScheduledEvent, scheduleEvent } from '../../machines/xstateInternals.ts';
import type { PendingQuestion } from '../../model/supervisor.ts';
import { ownTimerIds } from './timers.ts';

/** The type of the wake-up a follow-up timer delivers to the supervisor's root. */
export const FOLLOW_UP_EVENT = 'steward.followUp';

/** What happens to a pending question later: a reminder, or its audience widening. */
export type FollowUpKind = 'reminder' | 'escalation';

/** A follow-up whose time came: to be journaled with the next capture. */
export interface DueFollowUp {
  questionId: string;
  kind: FollowUpKind;
  /** When it was due (ISO 8601). */
  at: string;
}

const TIMER_PREFIX = `${FOLLOW_UP_EVENT}.`;

/** The id of the delayed event that stands for a follow-up of `questionId`. */
export function followUpTimerId(kind: FollowUpKind, questionId: string): string {
  return `${TIMER_PREFIX}${kind}.${questionId}`;
}

/** When each follow-up of `question` is due. */
function followUpsOf(question: PendingQuestion): DueFollowUp[] {
  const due: DueFollowUp[] = [];
  const questionId = question.id;
  if (question.remindAt) due.push({ questionId, kind: 'reminder', at: question.remindAt });
  if (question.escalation) {
    due.push({ questionId, kind: 'escalation', at: question.escalation.at });
  }
  return due;
}

/** True when a question among `questions` has a follow-up. */
export function anyFollowUp(questions: readonly PendingQuestion[]): boolean {
  return questions.some((q) => q.remindAt !== undefined || q.escalation !== undefined);
}

/** The journal entry of a follow-up that came. */
export function followUpEntry(followUp: DueFollowUp, question: PendingQuestion | undefined) {
  const { questionId, at } = followUp;
  return followUp.kind === 'reminder'
    ? { kind: 'question_reminded' as const, payload: { questionId, remindAt: at } }
    : {
        kind: 'question_escalated' as const,
        payload: { questionId, at, audience: question?.escalation?.audience ?? null },
      };
}

/**
 * The follow-ups of one supervisor's questions. Owned by its LiveSupervisor; made only for
 * a supervisor with a follow-up armed (most have none).
 */
export class QuestionFollowUps {
  readonly #root: AnyActor;
  /** The follow-ups armed, by timer id: stored with every capture until they come. */
  readonly #armed = new Map<string, DueFollowUp>();

  constructor(root: AnyActor) {
    this.#root = root;
  }

  /** True while a follow-up is armed: the supervisor is checked after each event. */
  get armed(): boolean {
    return this.#armed.size > 0;
  }

  /**
   * Arms the follow-ups of pending questions whose time is ahead and whose timer is not
   * scheduled (asked since the last capture, or restored from a row that had no timer for
   * them yet), adopts the ones a restore re-armed, and cancels those of questions no longer
   * pending: the stored timers are exactly the follow-ups still to come.
   */
  sync(questions: readonly PendingQuestion[], now: number): void {
    const root = this.#root;
    const scheduled = ownTimerIds(root, TIMER_PREFIX);
    const pending = new Set<string>();
    for (const followUp of questions.flatMap(followUpsOf)) {
      const id = followUpTimerId(followUp.kind, followUp.questionId);
      const at = Date.parse(followUp.at);
      if (!scheduled.has(id) && !this.#armed.has(id)) {
        if (at <= now) continue;
        scheduleEvent(root, {
          source: root,
          target: root,
          event: { type: FOLLOW_UP_EVENT, questionId: followUp.questionId, kind: followUp.kind },
          delay: at - now,
          id,
        });
      }
      pending.add(id);
      this.#armed.set(id, followUp);
    }
    for (const id of this.#armed.keys()) {
      if (pending.has(id)) continue;
      this.#armed.delete(id);
      cancelScheduledEvent(root, root, id);
    }
  }

  /**
   * The armed follow-ups whose time came by `now` (their timer fired, or is about to):
   * disarmed here, each handed out once.
   */
  takeDue(now: number): DueFollowUp[] {
    const due: DueFollowUp[] = [];
    for (const [id, followUp] of this.#armed) {
      if (Date.parse(followUp.at) > now) continue;
      this.#armed.delete(id);
      cancelScheduledEvent(this.#root, this.#root, id);
      due.push(followUp);
    }
    return due;
  }
}
