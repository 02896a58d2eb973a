// Question deadlines, enforced with the timers that already survive restarts: every pending
// question with a deadline has a delayed event in its supervisor's actor system, so it is
// stored in the row's `timers` (and `next_timer_at`), re-armed on restore and wakes a
// passivated supervisor. The event itself (`steward.deadline`) is only a wake-up that no
// machine takes: the runtime sees it arrive and hands the machine `question.expired`, after
// checking that the question is still pending — an answer taken first wins.
import type { AnyActor } from 'xstate';
import { cancelScheduledEvent, scheduleEvent } from '../../machines/xstateInternals.ts';
import type { PendingQuestion } from '../../model/supervisor.ts';
import { ownTimerIds } from './timers.ts';

const NONE_DUE: readonly string[] = [];
const NONE_TAKEN: ReadonlySet<string> = new Set();

/** The type of the wake-up a deadline timer delivers to the supervisor's root. */
export const DEADLINE_EVENT = 'steward.deadline';

const TIMER_PREFIX = `${DEADLINE_EVENT}.`;

/** The id of the delayed event that stands for the deadline of `questionId`. */
export function deadlineTimerId(questionId: string): string {
  return TIMER_PREFIX + questionId;
}

/** True when the deadline of `question` has passed at `now`. */
export function isPastDeadline(question: PendingQuestion, now = Date.now()): boolean {
  return question.deadline !== undefined && Date.parse(question.deadline) <= now;
}

/**
 * The deadlines of one supervisor's questions: their timers, and which questions the machine
 * was told had expired. Owned by its LiveSupervisor, which alone sends the machine events.
 */
export class QuestionDeadlines {
  readonly #root: AnyActor;
  // The sets are made on first use: most supervisors never see a deadline pass.
  /** Questions whose expiry the machine was handed, for the life of this actor: once each. */
  #handed: Set<string> | undefined;
  /** Handed since the last capture: their removal is journaled as an expiry. */
  #sinceCapture: Set<string> | undefined;
  /** Due, but the state had no transition for `question.expired`: offered after each commit. */
  #waiting: Set<string> | undefined;

  constructor(root: AnyActor) {
    this.#root = root;
  }

  /**
   * Arms the timer of each pending question with a deadline that has none (and is not
   * expired here already), and cancels the timers of questions no longer pending: the
   * stored timers are exactly the deadlines still to come.
   */
  sync(questions: readonly PendingQuestion[], now: number): void {
    const root = this.#root;
    const armed = ownTimerIds(root, TIMER_PREFIX);
    const pending = new Set<string>();
    for (const question of questions) {
      if (question.deadline === undefined || this.isExpired(question.id)) continue;
      const id = deadlineTimerId(question.id);
      pending.add(id);
      if (armed.has(id)) continue;
      scheduleEvent(root, {
        source: root,
        target: root,
        event: { type: DEADLINE_EVENT, questionId: question.id },
        delay: Math.max(0, Date.parse(question.deadline) - now),
        id,
      });
    }
    for (const id of armed) if (!pending.has(id)) cancelScheduledEvent(root, root, id);
  }

  /** The questions past their deadline whose expiry the machine was not handed yet. */
  due(questions: readonly PendingQuestion[], now: number): readonly string[] {
    let due: string[] | undefined;
    for (const q of questions) {
      if (!isPastDeadline(q, now) || this.#handed?.has(q.id)) continue;
      due ??= [];
      due.push(q.id);
    }
    return due ?? NONE_DUE;
  }

  /** True once `questionId` expired here: handed to the machine, or waiting to be. */
  isExpired(questionId: string): boolean {
    return this.#handed?.has(questionId) === true || this.#waiting?.has(questionId) === true;
  }

  /** True once the machine was handed the expiry of `questionId`. */
  wasHanded(questionId: string): boolean {
    return this.#handed?.has(questionId) === true;
  }

  /** The expiry of `questionId` goes to the machine now: its timer is done with. */
  hand(questionId: string): void {
    this.#handed ??= new Set();
    this.#handed.add(questionId);
    this.#sinceCapture ??= new Set();
    this.#sinceCapture.add(questionId);
    this.#waiting?.delete(questionId);
    cancelScheduledEvent(this.#root, this.#root, deadlineTimerId(questionId));
  }

  /** The expiry of `questionId` is due, but the current state cannot take it yet. */
  wait(questionId: string): void {
    this.#waiting ??= new Set();
    this.#waiting.add(questionId);
    cancelScheduledEvent(this.#root, this.#root, deadlineTimerId(questionId));
  }

  /** The expiries waiting for a state that takes them. */
  waiting(): string[] {
    return this.#waiting ? [...this.#waiting] : [];
  }

  /** Hands over (and forgets) the questions expired since the last capture. */
  takeSinceCapture(): ReadonlySet<string> {
    const taken = this.#sinceCapture ?? NONE_TAKEN;
    this.#sinceCapture = undefined;
    return taken;
  }
}
