// One supervisor living in this process: its actor and everything the runtime keeps about
// it between two writes. The class owns that state; everything else asks it, or tells it
// what happened, through its methods.
import { type AnyActor, type AnyMachineSnapshot, createActor } from 'xstate';
import type { SupervisorContext } from '../../machines/context.ts';
import { forceStopChildren, XSTATE_VERSION } from '../../machines/xstateInternals.ts';
import type { PendingQuestion } from '../../model/supervisor.ts';
import { RawJson } from '../../persistence/rawJson.ts';
import type { WriteRequest } from '../commit/snapshotWriter.ts';
import { type AnswerPermission, checkedAnswer } from './answerCheck.ts';
import {
  deriveView,
  digestOf,
  findInlineChild,
  journalBetween,
  RESTORED,
  type SupervisorIdentity,
  type SupervisorView,
  type TimerRecord,
  toWrite,
} from './capture.ts';
import { ChangeWatch, type WatchedSupervisor } from './changeWatch.ts';
import { isPastDeadline } from './deadlines.ts';
import { type DueFollowUp, followUpEntry } from './followUps.ts';
import type { ObserverOf, OptionsOf, PendingEntry, RuntimeEvent } from './liveEvents.ts';
import { QuestionTimers, type QuestionTimersOwner } from './questionTimers.ts';
import type { WinningAnswer } from './repeatedAnswer.ts';
import { wallClock } from './wallClock.ts';

/** What a live supervisor tells the runtime on its own, between calls. */
export type LiveObserver = ObserverOf<LiveSupervisor>;
/** What a live supervisor is made from. */
export type LiveOptions = OptionsOf<LiveSupervisor>;

/**
 * A supervisor's actor, watched for changes of its own and of its children (ChangeWatch),
 * and what was last captured of it.
 */
export class LiveSupervisor implements QuestionTimersOwner, WatchedSupervisor {
  readonly identity: SupervisorIdentity;
  readonly #actor: AnyActor;
  /** Its delayed events; its questions' deadlines (and which expired) and follow-ups. */
  readonly #timers: QuestionTimers;
  readonly #observer: LiveObserver;
  /** The spawn input, stored with the first write (a fresh start after restore uses it). */
  readonly #input: unknown;
  /** Version of the last capture; the next one gets `version + 1`. */
  #version: number;
  /** SHA-256 of the last capture's JSON (a change told without the JSON kept), or RESTORED. */
  #lastDigest: string | undefined;
  #lastView: SupervisorView | null = null;
  /** Changed since the last capture. */
  #dirty = true;
  /** Answers sent to the actor and not yet committed, each with the version it commits with. */
  #answering: Map<string, WinningAnswer> | undefined;
  /** Journal entries for the next capture (answers with their values, restore notes). */
  readonly #entries: PendingEntry[] = [];
  /** Question ids answered since the last capture: their removal is not a withdrawal. */
  #answeredSinceCapture: Set<string> | undefined;
  /** Runtime events its state could not take yet: offered again after each commit. */
  #waiting: RuntimeEvent[] = [];
  /** Why the runtime failed this supervisor on its own (a snapshot it cannot persist). */
  #refusal: string | undefined;
  /** When it last took a call or changed (ms since the epoch): idleness. */
  #activeAt = Date.now();

  /** Creates the actor, and starts it unless `options.start` is false (then `start()`). */
  constructor(options: LiveOptions) {
    this.identity = options.identity;
    this.#observer = options.observer;
    this.#input = options.input ?? null;
    this.#version = options.version ?? 0;
    const watch = new ChangeWatch(this, options.inspect);
    this.#actor = createActor(options.machine, {
      id: options.identity.id,
      ...(options.input === undefined ? {} : { input: options.input }),
      ...(options.snapshot ? { snapshot: options.snapshot } : {}),
      clock: wallClock,
      ...watch.actorOptions(),
    });
    this.#timers = new QuestionTimers(this.#actor);
    watch.observe(this.#actor);
    if (options.start !== false) this.#actor.start();
  }

  /** Starts the actor (once: nothing when it runs already). */
  start(): void {
    this.#actor.start();
  }

  get id(): string {
    return this.identity.id;
  }

  /** The version of the last capture (what the next write builds on). */
  get version(): number {
    return this.#version;
  }

  get activeAt(): number {
    return this.#activeAt;
  }

  /** A call reached it: it is not idle. */
  touch(): void {
    this.#activeAt = Date.now();
  }

  snapshot(): AnyMachineSnapshot {
    return this.#actor.getSnapshot() as AnyMachineSnapshot;
  }

  /** Its context's standard part, typed; a field left out is missing (the capture checks). */
  context(): Partial<SupervisorContext> {
    return this.snapshot().context as Partial<SupervisorContext>;
  }

  /** Its state value as text, for messages. */
  stateName(): string {
    return JSON.stringify(this.snapshot().value);
  }

  /** True once it can take no more events. */
  isFinished(): boolean {
    return this.snapshot().status !== 'active' || this.#refusal !== undefined;
  }

  /**
   * True when nothing about it is in progress here: captured, no answer in flight, no
   * event waiting, no invoked or spawned actor at work, no task pending or running.
   */
  isSettled(): boolean {
    if (this.isFinished() || this.#dirty || (this.#answering?.size ?? 0) > 0) return false;
    if (this.#entries.length > 0 || this.#waiting.length > 0) return false;
    const snapshot = this.snapshot();
    if (Object.keys(snapshot.children ?? {}).length > 0) return false;
    const tasks = Object.values(this.context().tasks ?? {});
    return !tasks.some((t) => t.status === 'pending' || t.status === 'running');
  }

  can(event: { type: string }): boolean {
    return this.snapshot().can(event);
  }

  /** An event from outside (checked by the caller with `can`). */
  send(event: { type: string }): void {
    this.#actor.send(event);
  }

  /**
   * Sends the answer to a pending question after checking it: the question is pending,
   * the answerer may answer it, the value fits its answer kind, and the current state
   * takes it. Journaled with the next capture. Returns the answer as taken (the checked
   * value); throws with a stable code otherwise.
   */
  answer(
    questionId: string,
    value: unknown,
    check: AnswerPermission = {},
  ): Omit<WinningAnswer, 'version'> {
    // Past its deadline the expiry wins, its timer fired or not: the machine gets it first.
    this.expire(questionId);
    const expired = this.#timers.deadlines.isExpired(questionId);
    const question = this.pendingQuestion(questionId);
    const event = checkedAnswer(this, question, questionId, value, { ...check, expired });
    const { value: checkedValue, answeredBy } = event;
    this.#entries.push({
      kind: 'question_answered',
      payload: { questionId, value: checkedValue, answeredBy, by: check.by ?? null },
    });
    this.#answeredSinceCapture ??= new Set();
    this.#answeredSinceCapture.add(questionId);
    this.#dirty = true;
    this.#actor.send(event);
    return { value: checkedValue, answeredBy };
  }

  pendingQuestion(questionId: string): PendingQuestion | undefined {
    return this.context().pendingQuestions?.find((q) => q.id === questionId);
  }

  /** The answer to `questionId` is on its way to the database, as `answer.version`. */
  answerInFlight(questionId: string, answer: WinningAnswer): void {
    this.#answering ??= new Map();
    this.#answering.set(questionId, answer);
  }

  /** Its commit is over (done or failed): a repeat from now on is judged by the row. */
  answerSettled(questionId: string): void {
    this.#answering?.delete(questionId);
  }

  /** The answer to `questionId` on its way to the database, with its version, if one is. */
  answerOnItsWay(questionId: string): WinningAnswer | undefined {
    return this.#answering?.get(questionId);
  }

  /**
   * Hands it a runtime event (a task outcome). One its state cannot take waits and is
   * offered again after its next commit, so a result that arrives while it is paused is
   * not lost. An escalation the machine does not take fails it: the restart policy's
   * default.
   */
  deliver(event: RuntimeEvent): void {
    if (this.isFinished()) return;
    if (this.can(event)) this.#actor.send(event);
    else if (event.type === 'task.escalated') this.fail(String(event.reason));
    else this.#waiting.push(event);
  }

  /** Offers the waiting runtime events and expiries again (after a commit). */
  retryWaiting(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const event of waiting) this.deliver(event);
    for (const questionId of this.#timers.deadlines.waiting()) this.expire(questionId);
  }

  /**
   * Once the deadline of `questionId` has passed, the machine gets `question.expired` if the
   * question is still pending (an answer taken first wins) and its state takes the event;
   * otherwise the expiry waits for the next commit. Each question expires once.
   */
  expire(questionId: string): void {
    const question = this.pendingQuestion(questionId);
    if (!question?.deadline || !isPastDeadline(question) || this.isFinished()) return;
    if (this.#timers.deadlines.wasHanded(questionId)) return;
    const event = { type: 'question.expired', questionId, deadline: question.deadline };
    if (!this.can(event)) this.#timers.deadlines.wait(questionId);
    else {
      this.#timers.deadlines.hand(questionId);
      this.#actor.send(event);
    }
  }

  /** A reminder or escalation of a question came: journaled (and so committed) once. */
  followedUp(due: DueFollowUp): void {
    this.record(followUpEntry(due, this.pendingQuestion(due.questionId)));
  }

  /** Sends a runtime event only if its state takes it (the restoration notice); says so. */
  offer(event: RuntimeEvent): boolean {
    if (this.snapshot().status !== 'active' || !this.can(event)) return false;
    this.#actor.send(event);
    return true;
  }

  /** The runtime fails it on its own: the next capture writes it `failed` with `reason`. */
  fail(reason: string): void {
    this.#refusal ??= reason;
    this.snapshotChanged(true);
  }

  /** Journals `entry` with the next capture (which it makes happen). */
  record(entry: PendingEntry): void {
    this.#entries.push(entry);
    this.snapshotChanged(true);
  }

  /**
   * Writes it again at the next capture even if its snapshot did not change (it was
   * upgraded to a newer machine version, or restored from elsewhere than its row).
   */
  rewrite(): void {
    this.#lastDigest = undefined;
    this.snapshotChanged(true);
  }

  /**
   * Captures it if it changed: serializes the persisted snapshot at once (it aliases live
   * context), derives the row and the journal entries since the last capture, and returns
   * the write to queue, or `null` when nothing changed.
   */
  capture(): WriteRequest | null {
    if (!this.#dirty) return null;
    this.#dirty = false;
    const snapshot = this.snapshot();
    if (snapshot.status === 'stopped') return null;
    const persisted = this.#actor.getPersistedSnapshot();
    const json = JSON.stringify(persisted);
    // A refusal changes the row (failed) without changing the snapshot: it is written once.
    const refusalPending = this.#refusal !== undefined && this.#lastView?.state !== 'failed';
    const digest = digestOf(json);
    if (digest === this.#lastDigest && this.#entries.length === 0 && !refusalPending) return null;

    let view = deriveView(snapshot);
    const inline = findInlineChild(persisted);
    if (inline && !this.#refusal) {
      this.#refusal = `child actor "${inline}" uses inline logic, which cannot be persisted; register it by name in setup({ actors })`;
    }
    if (this.#refusal) view = { ...view, state: 'failed', errorMessage: this.#refusal };

    const version = this.#version + 1;
    const { events, checkpoint, tasks } = journalBetween(
      this.id,
      version,
      this.#lastView,
      view,
      this.#answeredSinceCapture,
      this.#timers.deadlines.takeSinceCapture(),
    );
    if (snapshot.status === 'active') this.#timers.sync(view.questions, Date.now());
    const timers = snapshot.status === 'active' ? this.#timers.records() : [];
    const write = toWrite(
      this.identity,
      view,
      snapshot,
      new RawJson(json),
      timers,
      version,
      XSTATE_VERSION,
      this.#lastDigest === undefined ? this.#input : null,
    );
    const id = this.id;
    const extra = this.#entries
      .splice(0)
      .map((e) => ({ supervisorId: id, version, ...e, stateValue: view.stateValue }));
    this.#answeredSinceCapture = undefined;
    this.#version = version;
    this.#lastDigest = digest;
    this.#lastView = view;
    return { write, events: [...extra, ...events], checkpoint, tasks };
  }

  /**
   * Its persisted snapshot now (a copy), with the version of its last capture: what the
   * database holds once that commits, when nothing changed since (tests, tools).
   */
  lastCaptured(): { version: number; snapshot: unknown } | undefined {
    if (this.#lastDigest === undefined) return undefined;
    const json = JSON.stringify(this.#actor.getPersistedSnapshot());
    return { version: this.#version, snapshot: JSON.parse(json) };
  }

  /**
   * Takes a restored actor's snapshot (`validated`: its context as validation parsed it) as
   * stored: restoring writes and journals nothing twice. No digest is made (14 % of a question
   * restore's CPU): the first capture after it is written. XState's refusal fails it.
   */
  adoptRestored(validated?: SupervisorContext): void {
    const snapshot = this.snapshot();
    this.#lastDigest = RESTORED;
    this.#lastView = deriveView(snapshot, validated);
    this.#dirty = false;
    if (snapshot.status === 'error') {
      const error = snapshot.error;
      this.#refusal = `the stored snapshot cannot be restored: ${error instanceof Error ? error.message : String(error)}`;
      this.#dirty = true;
    }
  }

  /** Its pending delayed events, with absolute deadlines. */
  timers(): TimerRecord[] {
    return this.#timers.records();
  }

  /** When its next delayed event is due, or undefined with none. */
  nextTimerDue(): number | undefined {
    return this.#timers.nextDue();
  }

  /**
   * Schedules the stored delayed events XState's snapshot does not carry, at their
   * original deadlines (at once when overdue), with their original ids so that leaving the
   * state still cancels them. Returns the ids whose actor is gone.
   */
  rearm(timers: readonly TimerRecord[], now: number): string[] {
    const view = (this.#dirty ? null : this.#lastView) ?? deriveView(this.snapshot());
    return this.#timers.rearm(timers, view.questions, now);
  }

  /** Stops the actor (its stopped snapshot is never written). */
  stop(): void {
    this.#actor.stop();
  }

  /** Its root took an event (WatchedSupervisor): a question's timer may have come. */
  rootTookEvent(snapshot: AnyMachineSnapshot): void {
    this.#timers.afterEvent(snapshot, this);
  }

  /** Its root failed (WatchedSupervisor); XState leaves its children running (research E10). */
  rootFailed(error: unknown): void {
    forceStopChildren(this.#actor);
    this.#dirty = true;
    this.#observer.failed(this, error);
  }

  /**
   * Marks it dirty and says so once (or again, when `force`d: a change no actor made); its
   * watch calls it on every change of its actors (WatchedSupervisor).
   */
  snapshotChanged(force = false): void {
    if (this.#dirty && !force) return;
    this.#dirty = true;
    this.#observer.changed(this);
  }
}
