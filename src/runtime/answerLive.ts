// An answer to a supervisor running here, from the check to its commit: a repeat (on its
// way, or committed) is judged by the answer that won; a first answer is sent, journaled
// with the snapshot that takes it, and kept as "on its way" until that commit settles.
import { isStewardError } from '../errors.ts';
import type { SupervisorStore } from '../persistence/supervisorStore.ts';
import type { SnapshotWriter } from './commit/snapshotWriter.ts';
import type { AnswerOptions, AnswerResult } from './hostApi.ts';
import type { LiveSupervisor } from './live/liveSupervisor.ts';
import type { LiveSupervisors } from './live/liveSupervisors.ts';
import { answeredBefore, repeatedAnswer } from './live/repeatedAnswer.ts';

/** What answering reaches: the journal for repeats, the capture, and commit waits. */
export interface AnswerDeps {
  store: Pick<SupervisorStore, 'findAnswer' | 'findExpiry'>;
  lives: Pick<LiveSupervisors, 'capture'>;
  writer: Pick<SnapshotWriter, 'whenDurable'>;
  /** Bounded like every wait on a commit (ERR_COMMIT_IN_DOUBT). */
  durable(id: string, version: number): Promise<void>;
}

/**
 * Validates the value against the pending question, journals the answer with the snapshot
 * that takes it, and resolves after that commit. A question already answered, in flight or
 * committed (also before a restart, or by a supervisor finished since), is a duplicate when
 * the value is the same and refused with `ERR_ALREADY_ANSWERED` when it is not.
 */
export async function answerSupervisor(
  deps: AnswerDeps,
  find: () => Promise<LiveSupervisor>,
  id: string,
  questionId: string,
  value: unknown,
  options: AnswerOptions,
): Promise<AnswerResult> {
  let live: LiveSupervisor;
  try {
    live = await find();
  } catch (error) {
    // A finished supervisor may have recorded an answer to this very question, or its expiry.
    if (!isStewardError(error, 'ERR_SUPERVISOR_TERMINATED')) throw error;
    const repeat = await answeredBefore(deps.store, id, questionId, value);
    if (repeat) return repeat;
    throw error;
  }
  return answerLive(deps, live, questionId, value, options);
}

/** Answers `questionId` of `live`; resolves after the commit that holds the answer. */
export async function answerLive(
  deps: AnswerDeps,
  live: LiveSupervisor,
  questionId: string,
  value: unknown,
  options: AnswerOptions,
): Promise<AnswerResult> {
  const { id } = live;
  const onItsWay = live.answerOnItsWay(questionId);
  if (onItsWay !== undefined) {
    // Bounded like every wait on a commit: in doubt after the timeout, never silent.
    await deps.durable(id, onItsWay.version);
    return repeatedAnswer(id, questionId, onItsWay, value);
  }
  if (!live.pendingQuestion(questionId)) {
    const repeat = await answeredBefore(deps.store, id, questionId, value);
    if (repeat) return repeat;
  }
  const taken = live.answer(questionId, value, options);
  const version = deps.lives.capture(live);
  live.answerInFlight(questionId, { ...taken, version });
  // Kept until the commit itself, not the caller's timeout: a retry meanwhile is a repeat.
  const settled = () => live.answerSettled(questionId);
  deps.writer.whenDurable(id, version).then(settled, settled);
  await deps.durable(id, version);
  return { version, duplicate: false };
}
