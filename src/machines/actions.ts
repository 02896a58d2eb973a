import { type AnyEventObject, assign } from 'xstate';
import type { AnswerKind, Audience, PendingQuestion } from '../model/supervisor.ts';
import type { SupervisorContext } from './context.ts';
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from './tasks.ts';

/** What an action derives a value from: the machine's context and the current event. */
export interface ActionArgs<TContext extends SupervisorContext, TEvent extends AnyEventObject> {
  context: TContext;
  event: TEvent;
}

type Derive<TContext extends SupervisorContext, TEvent extends AnyEventObject, T> =
  | T
  | ((args: ActionArgs<TContext, TEvent>) => T);

function derive<TContext extends SupervisorContext, TEvent extends AnyEventObject, T>(
  value: Derive<TContext, TEvent, T>,
  args: ActionArgs<TContext, TEvent>,
): T {
  return typeof value === 'function'
    ? (value as (a: ActionArgs<TContext, TEvent>) => T)(args)
    : value;
}

/** What a machine says when it asks; the runtime adds `askedAt`. */
export interface QuestionSpec {
  /** Unique over the supervisor's life: a second answer to the same id is a duplicate. */
  id: string;
  prompt: string;
  answer: AnswerKind;
  audience?: Audience;
  /**
   * Absolute deadline, ISO 8601. When it passes unanswered the runtime resolves the question
   * `expired`, refuses answers to it with `ERR_QUESTION_EXPIRED`, and sends the machine
   * `question.expired` (take it with `acceptExpiry()`).
   */
  deadline?: string;
  /** A deadline this many ms after the question is asked; `deadline` wins when both are given. */
  expiresInMs?: number;
  /**
   * Still pending this many ms after it was asked, it is pushed again to its clients
   * (`question.asked` with `reminder: true`) and webhooks, once. Journaled `question_reminded`.
   */
  remindAfterMs?: number;
  /**
   * Still pending `afterMs` after it was asked, its audience widens to `audience` (the first
   * one may still answer), pushed as a new `question.asked` with that audience, once.
   * Journaled `question_escalated`.
   */
  escalate?: { afterMs: number; audience: Audience };
}

/**
 * A delay of a question's spec, or the supervisor fails saying why (not with Date's "Invalid
 * time value"). A follow-up needs a positive one: its timer is armed only while it is ahead.
 */
function delayOf(
  questionId: string,
  name: string,
  ms: number | undefined,
  positive = true,
): number | undefined {
  if (ms === undefined) return undefined;
  if (!Number.isFinite(ms) || (positive && ms <= 0)) {
    const what = positive ? 'a positive number of ms' : 'a number of ms';
    throw new Error(`askQuestion ${questionId}: ${name} must be ${what}, not ${ms}`);
  }
  return ms;
}

/** The stored question a spec asks at `askedAt`: its deadline and follow-ups made absolute. */
function questionOf(q: QuestionSpec, askedAt: number): PendingQuestion {
  const at = (ms: number | undefined) =>
    ms === undefined ? undefined : new Date(askedAt + ms).toISOString();
  const deadline = q.deadline ?? at(delayOf(q.id, 'expiresInMs', q.expiresInMs, false));
  const remindAt = at(delayOf(q.id, 'remindAfterMs', q.remindAfterMs));
  const escalateAt = at(delayOf(q.id, 'escalate.afterMs', q.escalate?.afterMs));
  return {
    id: q.id,
    prompt: q.prompt,
    answer: q.answer,
    audience: q.audience ?? { kind: 'owner' },
    askedAt: new Date(askedAt).toISOString(),
    ...(deadline ? { deadline } : {}),
    ...(remindAt ? { remindAt } : {}),
    ...(escalateAt && q.escalate
      ? { escalation: { at: escalateAt, audience: q.escalate.audience } }
      : {}),
  };
}

/**
 * Asks a question: adds it to `pendingQuestions` (a question whose id is already pending
 * is left as it is). The runtime delivers it once the snapshot holding it has committed.
 * With a deadline (`deadline` or `expiresInMs`) the runtime enforces it durably: see
 * `acceptExpiry`. A reminder (`remindAfterMs`) and an escalation (`escalate`) are kept as
 * durably: each happens once, also across restarts.
 *
 * @example
 * entry: askQuestion({ id: 'approve-plan', prompt: 'Approve?', answer: { kind: 'confirm' } })
 * entry: askQuestion({ id: 'sign-off', prompt: 'Sign off?', answer: { kind: 'confirm' }, expiresInMs: 86_400_000 })
 * entry: askQuestion({
 *   id: 'review', prompt: 'Review the plan?', answer: { kind: 'confirm' },
 *   audience: { kind: 'role', role: 'reviewer' },
 *   remindAfterMs: 3_600_000, // re-sent after an hour
 *   escalate: { afterMs: 14_400_000, audience: { kind: 'owner' } }, // the owner, after four
 * })
 */
export function askQuestion<
  TContext extends SupervisorContext,
  TExpressionEvent extends AnyEventObject = AnyEventObject,
  TEvent extends AnyEventObject = TExpressionEvent,
>(spec: Derive<TContext, TExpressionEvent, QuestionSpec>) {
  return assign<TContext, TExpressionEvent, undefined, TEvent, never>((args) => {
    const q = derive(spec, args);
    if (args.context.pendingQuestions.some((p) => p.id === q.id)) return {} as Partial<TContext>;
    const question = questionOf(q, Date.now());
    return { pendingQuestions: [...args.context.pendingQuestions, question] } as Partial<TContext>;
  });
}

/**
 * Takes the answer carried by a `question.answered` event: removes that question from
 * `pendingQuestions`. Every transition that accepts an answer must run it; the runtime
 * reports an answer whose question is still pending afterwards as not accepted.
 */
export function acceptAnswer<
  TContext extends SupervisorContext,
  TExpressionEvent extends AnyEventObject = AnyEventObject,
  TEvent extends AnyEventObject = TExpressionEvent,
>() {
  return assign<TContext, TExpressionEvent, undefined, TEvent, never>(({ context, event }) => {
    const questionId = (event as { questionId?: unknown }).questionId;
    return {
      pendingQuestions: context.pendingQuestions.filter((q) => q.id !== questionId),
    } as Partial<TContext>;
  });
}

/**
 * Takes the expiry carried by a `question.expired` event: removes that question from
 * `pendingQuestions`. Every transition that takes a `question.expired` event runs it, next
 * to what the machine does about the lapse (escalate, take a default, fail). The runtime
 * journals the removal as `question_expired`; a state that has no transition for the event
 * gets it again after its next commit (e.g. once resumed).
 *
 * @example
 * on: { 'question.expired': { target: 'escalated', actions: acceptExpiry() } }
 */
export function acceptExpiry<
  TContext extends SupervisorContext,
  TExpressionEvent extends AnyEventObject = AnyEventObject,
  TEvent extends AnyEventObject = TExpressionEvent,
>() {
  return acceptAnswer<TContext, TExpressionEvent, TEvent>();
}

/**
 * Withdraws every pending question, e.g. on entering a terminal state: nobody should be
 * asked on behalf of a supervisor that has finished. The runtime journals each withdrawal.
 */
export function withdrawQuestions<
  TContext extends SupervisorContext,
  TExpressionEvent extends AnyEventObject = AnyEventObject,
  TEvent extends AnyEventObject = TExpressionEvent,
>() {
  return assign<TContext, TExpressionEvent, undefined, TEvent, never>(
    () => ({ pendingQuestions: [] }) as unknown as Partial<TContext>,
  );
}

/** A task to spawn: its registered name, its input and its restart policy. */
export interface TaskSpec {
  name: string;
  input?: unknown;
  /** Defaults to `temporary`, 3 restarts within 60 s. */
  policy?: Partial<RestartPolicy>;
}

/**
 * Spawns tasks: gives each a new id and records it in `spawnedTaskIds` and `tasks` as
 * `pending`. The runtime starts each one after the commit that records it, and journals
 * the spawn with that snapshot.
 *
 * @example
 * entry: spawnTasks(({ context }) => context.steps.map((step) => ({ name: 'run-step', input: { step } })))
 */
export function spawnTasks<
  TContext extends SupervisorContext,
  TExpressionEvent extends AnyEventObject = AnyEventObject,
  TEvent extends AnyEventObject = TExpressionEvent,
>(specs: Derive<TContext, TExpressionEvent, readonly TaskSpec[]>) {
  return assign<TContext, TExpressionEvent, undefined, TEvent, never>((args) => {
    const created = derive(specs, args).map((spec) => ({
      id: globalThis.crypto.randomUUID(),
      task: {
        name: spec.name,
        input: spec.input ?? null,
        status: 'pending' as const,
        attempt: 1,
        policy: { ...DEFAULT_RESTART_POLICY, ...spec.policy },
        restarts: [],
        error: null,
      },
    }));
    return {
      spawnedTaskIds: [...args.context.spawnedTaskIds, ...created.map((c) => c.id)],
      tasks: {
        ...args.context.tasks,
        ...Object.fromEntries(created.map((c) => [c.id, c.task])),
      },
    } as Partial<TContext>;
  });
}

/** Says what the supervisor is doing now (`current_activity`). */
export function reportActivity<
  TContext extends SupervisorContext,
  TExpressionEvent extends AnyEventObject = AnyEventObject,
  TEvent extends AnyEventObject = TExpressionEvent,
>(activity: Derive<TContext, TExpressionEvent, string | null>) {
  return assign<TContext, TExpressionEvent, undefined, TEvent, never>(
    (args) => ({ activity: derive(activity, args) }) as Partial<TContext>,
  );
}

/** Sets progress, clamped to 0–100 and rounded, so a machine cannot break the column. */
export function setProgress<
  TContext extends SupervisorContext,
  TExpressionEvent extends AnyEventObject = AnyEventObject,
  TEvent extends AnyEventObject = TExpressionEvent,
>(progress: Derive<TContext, TExpressionEvent, number>) {
  return assign<TContext, TExpressionEvent, undefined, TEvent, never>((args) => {
    const value = derive(progress, args);
    const clamped = Number.isFinite(value) ? Math.min(100, Math.max(0, Math.round(value))) : 0;
    return { progress: clamped } as Partial<TContext>;
  });
}

/** Moves to a new phase; the runtime journals it and keeps a checkpoint. */
export function setPhase<
  TContext extends SupervisorContext,
  TExpressionEvent extends AnyEventObject = AnyEventObject,
  TEvent extends AnyEventObject = TExpressionEvent,
>(phase: Derive<TContext, TExpressionEvent, string>) {
  return assign<TContext, TExpressionEvent, undefined, TEvent, never>(
    (args) => ({ phase: derive(phase, args) }) as Partial<TContext>,
  );
}

/** Records why the supervisor failed; pair it with a transition to a `failed`-tagged state. */
export function fail<
  TContext extends SupervisorContext,
  TExpressionEvent extends AnyEventObject = AnyEventObject,
  TEvent extends AnyEventObject = TExpressionEvent,
>(message: Derive<TContext, TExpressionEvent, string>) {
  return assign<TContext, TExpressionEvent, undefined, TEvent, never>(
    (args) => ({ error: { message: derive(message, args) } }) as Partial<TContext>,
  );
}
