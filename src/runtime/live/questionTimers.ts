// Everything a supervisor's questions keep in its actor system's timers: deadlines
// (deadlines.ts) and follow-ups (followUps.ts), with the stored timers of a restore. One
// place arms them at each capture and looks at them after each event of the root.
import type { AnyActor, AnyMachineSnapshot } from 'xstate';
import type { SupervisorContext } from '../../machines/context.ts';
import type { PendingQuestion } from '../../model/supervisor.ts';
import { captureTimers, type TimerRecord } from './capture.ts';
import { QuestionDeadlines } from './deadlines.ts';
import { anyFollowUp, type DueFollowUp, QuestionFollowUps } from './followUps.ts';
import { rearmTimers } from './timers.ts';

/** What the timers of questions ask of their supervisor when their time comes. */
export interface QuestionTimersOwner {
  /** The deadline of `questionId` passed: the machine gets its expiry (LiveSupervisor.expire). */
  expire(questionId: string): void;
  /** A follow-up came: journal it. */
  followedUp(due: DueFollowUp): void;
}

/** The delayed events of one supervisor, the ones its questions need among them. */
export class QuestionTimers {
  readonly #root: AnyActor;
  readonly deadlines: QuestionDeadlines;
  /** Made once a question has a follow-up. */
  #followUps: QuestionFollowUps | undefined;

  constructor(root: AnyActor) {
    this.#root = root;
    this.deadlines = new QuestionDeadlines(root);
  }

  /** Arms (and cancels) the timers of the deadlines and follow-ups of `questions`. */
  sync(questions: readonly PendingQuestion[], now: number): void {
    this.deadlines.sync(questions, now);
    // Asked on every capture: a supervisor without follow-ups to come scans no timers for them.
    if (!this.#followUps?.armed && !anyFollowUp(questions)) return;
    this.#followUps ??= new QuestionFollowUps(this.#root);
    this.#followUps.sync(questions, now);
  }

  /**
   * Schedules stored delayed events again (see timers.ts), then the questions' own: those
   * stored without a timer (taken before deadlines were enforced) get one too. Returns the
   * ids whose actor is gone.
   */
  rearm(timers: readonly TimerRecord[], questions: readonly PendingQuestion[], now: number) {
    const gone = rearmTimers(this.#root, timers, now);
    this.sync(questions, now);
    return gone;
  }

  /**
   * After every event the root took (a wake-up of a deadline or a follow-up among them, a
   * no-op for the machine): the questions past their deadline get their expiry once this
   * event is done, and the follow-ups whose time came are journaled.
   */
  afterEvent(snapshot: AnyMachineSnapshot, owner: QuestionTimersOwner): void {
    if (snapshot.status !== 'active') return;
    const now = Date.now();
    const questions = (snapshot.context as Partial<SupervisorContext>).pendingQuestions;
    for (const id of this.deadlines.due(questions ?? [], now)) {
      queueMicrotask(() => owner.expire(id));
    }
    if (this.#followUps?.armed)
      for (const due of this.#followUps.takeDue(now)) owner.followedUp(due);
  }

  /** The pending delayed events, with absolute deadlines. */
  records(): TimerRecord[] {
    return captureTimers(this.#root);
  }

  /** When the next delayed event is due, or undefined with none. */
  nextDue(): number | undefined {
    const due = Math.min(...this.records().map((t) => t.dueAt));
    return Number.isFinite(due) ? due : undefined;
  }
}
