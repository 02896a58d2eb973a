// Whether an answer may be taken, checked before the machine sees it: each refusal with its
// stable code, and nothing changed.
import { StewardError } from '../../errors.ts';
import { validateAnswer } from '../../machines/answers.ts';
import type { Requester } from '../../model/requester.ts';
import { type AnswerGrant, grantCovers, type PendingQuestion } from '../../model/supervisor.ts';

/** Who answers, and whether they may answer a given question. */
export interface AnswerPermission {
  answeredBy?: string | null | undefined;
  /** Who answered and in which request, for the journal entry (not sent to the machine). */
  by?: Requester | null | undefined;
  mayAnswer?: ((question: PendingQuestion) => boolean) | undefined;
  /** The same check as data (`mayAnswer` and `grant` both apply when both are given). */
  grant?: AnswerGrant | undefined;
  /** Its deadline passed and it expired (or waits to): no answer is taken any more. */
  expired?: boolean;
}

/** The `question.answered` event an answer becomes. */
export interface AnswerEvent {
  type: 'question.answered';
  questionId: string;
  value: unknown;
  answeredBy: string | null;
}

/** An answer to a question that expired: refused, whatever its value. */
export function questionExpired(id: string, questionId: string): StewardError {
  return new StewardError(
    'ERR_QUESTION_EXPIRED',
    `question ${questionId} of supervisor ${id} expired: its deadline passed before an answer`,
    { id, questionId },
  );
}

/**
 * The event for an answer to `question` (undefined: not pending) once it passes: the
 * question has not expired, it is pending, the answerer may answer it, the value fits its
 * answer kind, and the supervisor's current state takes it. Throws with a stable code
 * otherwise.
 */
export function checkedAnswer(
  supervisor: { id: string; can(event: AnswerEvent): boolean; stateName(): string },
  question: PendingQuestion | undefined,
  questionId: string,
  value: unknown,
  check: AnswerPermission,
): AnswerEvent {
  const { id } = supervisor;
  if (check.expired) throw questionExpired(id, questionId);
  if (!question) {
    throw new StewardError(
      'ERR_QUESTION_NOT_PENDING',
      `supervisor ${id} has no pending question ${questionId}`,
      { id, questionId },
    );
  }
  const allowed =
    (!check.mayAnswer || check.mayAnswer(question)) &&
    (!check.grant || grantCovers(check.grant, question));
  if (!allowed) {
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
  const answeredBy = check.answeredBy ?? null;
  const event: AnswerEvent = {
    type: 'question.answered',
    questionId,
    value: checked.value,
    answeredBy,
  };
  if (!supervisor.can(event)) {
    throw new StewardError(
      'ERR_ANSWER_NOT_ACCEPTED',
      `supervisor ${id} in state ${supervisor.stateName()} does not take an answer to ${questionId} now`,
      { id, questionId },
    );
  }
  return event;
}
