import { isStewardError, StewardError } from '../errors.ts';
import type { SupervisorHost } from '../runtime/supervisorHost.ts';
import { canAnswer, canSee, type Principal } from './auth.ts';

/** What an answer became: committed (or a duplicate of one that was). */
export interface AnswerOutcome {
  version: number;
  duplicate: boolean;
}

/** The owner of a supervisor, from memory when it runs here; `undefined` when there is none. */
async function ownerOf(host: SupervisorHost, id: string): Promise<string | null | undefined> {
  const live = host.committed(id);
  if (live) return live.owner;
  try {
    return (await host.get(id)).owner;
  } catch (error) {
    if (isStewardError(error, 'ERR_SUPERVISOR_NOT_FOUND')) return undefined;
    throw error;
  }
}

/**
 * Answers a question on behalf of a principal, over WebSocket or HTTP alike. A supervisor
 * the principal may not see is reported as not found, so its existence does not leak; a
 * question addressed to a role the principal lacks is refused with `ERR_FORBIDDEN`. The
 * answer is recorded with who gave it and resolves only after its commit.
 */
export async function answerAs(
  host: SupervisorHost,
  principal: Principal,
  supervisorId: string,
  questionId: string,
  value: unknown,
): Promise<AnswerOutcome> {
  const notFound = () =>
    new StewardError('ERR_SUPERVISOR_NOT_FOUND', `no supervisor with id ${supervisorId}`, {
      id: supervisorId,
    });
  const owner = await ownerOf(host, supervisorId);
  if (owner === undefined || !canSee(principal, owner)) throw notFound();
  return host.answer(supervisorId, questionId, value, {
    answeredBy: principal.owner ?? principal.label,
    mayAnswer: (question) => canAnswer(principal, owner, question.audience),
  });
}
