import type { AnyMachineSnapshot } from 'xstate';
import { isStewardError, StewardError } from '../errors.ts';
import { validateAnswer } from '../machines/answers.ts';
import type { SupervisorStore } from '../persistence/supervisorStore.ts';
import type { SnapshotWriter } from './commit/snapshotWriter.ts';
import type { HostedSupervisor } from './live/liveSupervisor.ts';
import type { AnswerOptions, AnswerResult } from './supervisorHost.ts';

/** What the answer path needs from the host. */
export interface AnswerPathDeps {
  store: SupervisorStore;
  writer: SnapshotWriter;
  /** The running supervisor, or ERR_SUPERVISOR_NOT_FOUND / _TERMINATED / _NOT_RUNNING. */
  findLive(id: string): Promise<HostedSupervisor>;
  /** Queues the supervisor's write if it changed; returns the version it will have. */
  capture(h: HostedSupervisor): number;
  /** Resolves once the version is durable, or fails with ERR_COMMIT_IN_DOUBT after the timeout. */
  durable(id: string, version: number): Promise<void>;
  stateName(h: HostedSupervisor): string;
}

/**
 * The host's `answer`: validates the value against the pending question, journals the
 * answer with the snapshot that takes it, and resolves after that commit. A question
 * already answered, in flight or committed (also before a restart), is a duplicate.
 */
export function createAnswerPath(
  deps: AnswerPathDeps,
): (
  id: string,
  questionId: string,
  value: unknown,
  answerOptions?: AnswerOptions,
) => Promise<AnswerResult> {
  const { writer, findLive, capture, durable, stateName } = deps;
  return answer;

  async function answer(
    id: string,
    questionId: string,
    value: unknown,
    answerOptions: AnswerOptions = {},
  ): Promise<AnswerResult> {
    let h: HostedSupervisor;
    try {
      h = await findLive(id);
    } catch (error) {
      // A finished supervisor may have recorded this very answer: then it is a duplicate.
      if (isStewardError(error, 'ERR_SUPERVISOR_TERMINATED')) {
        const recorded = await deps.store.findAnswer(id, questionId);
        if (recorded) return { version: recorded.version ?? 0, duplicate: true };
      }
      throw error;
    }

    const inFlight = h.answering.get(questionId);
    if (inFlight !== undefined) {
      // Bounded like every wait on a commit: in doubt after the timeout, never silent.
      await durable(id, inFlight);
      return { version: writer.committedVersion(id), duplicate: true };
    }
    const context = (h.actor.getSnapshot() as AnyMachineSnapshot).context as {
      pendingQuestions: Array<{ id: string }>;
    };
    const question = (context.pendingQuestions as Parameters<typeof validateAnswer>[0][]).find(
      (q) => q.id === questionId,
    );
    if (!question) {
      const recorded = await deps.store.findAnswer(id, questionId);
      if (recorded) return { version: recorded.version ?? 0, duplicate: true };
      throw new StewardError(
        'ERR_QUESTION_NOT_PENDING',
        `supervisor ${id} has no pending question ${questionId}`,
        { id, questionId },
      );
    }
    if (answerOptions.mayAnswer && !answerOptions.mayAnswer(question)) {
      throw new StewardError(
        'ERR_FORBIDDEN',
        `question ${questionId} of supervisor ${id} is not for this answerer`,
        { id, questionId },
      );
    }
    const checked = validateAnswer(question, value);
    if (!checked.ok) {
      throw new StewardError(
        'ERR_ANSWER_INVALID',
        `the answer does not fit question ${questionId} (${question.answer.kind}): ${checked.issues[0]?.message}`,
        { id, questionId, issues: checked.issues },
      );
    }
    const event = {
      type: 'question.answered',
      questionId,
      value: checked.value,
      answeredBy: answerOptions.answeredBy ?? null,
    };
    if (!(h.actor.getSnapshot() as AnyMachineSnapshot).can(event)) {
      throw new StewardError(
        'ERR_ANSWER_NOT_ACCEPTED',
        `supervisor ${id} in state ${stateName(h)} does not take an answer to ${questionId} now`,
        { id, questionId },
      );
    }
    h.extraEvents.push({
      supervisorId: id,
      version: null,
      kind: 'question_answered',
      payload: { questionId, value: checked.value, answeredBy: event.answeredBy },
    });
    h.answeredSinceCapture.add(questionId);
    h.dirty = true;
    h.actor.send(event);
    const version = capture(h);
    h.answering.set(questionId, version);
    // Kept until the commit itself, not the caller's timeout: a retry meanwhile is a duplicate.
    const forget = () => h.answering.delete(questionId);
    writer.whenDurable(id, version).then(forget, forget);
    await durable(id, version);
    return { version, duplicate: false };
  }
}
