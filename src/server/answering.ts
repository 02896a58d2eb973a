import { isStewardError } from '../errors.ts';
import type {
  AnswerResult,
  CommittedQuestions,
  SupervisorHost,
} from '../runtime/supervisorHost.ts';
import { canSee, type Principal } from './auth.ts';
import { supervisorNotFound } from './httpErrors.ts';
import type { ServerMetrics } from './metrics.ts';
import { requesterOf } from './requestIds.ts';

/**
 * Owner, version and pending questions of a supervisor as last committed: from memory when
 * it runs here, else from its row; `undefined` when there is none.
 */
export async function committedOrStored(
  host: SupervisorHost,
  id: string,
): Promise<CommittedQuestions | undefined> {
  const live = host.committed(id);
  if (live) return live;
  try {
    return await host.get(id);
  } catch (error) {
    if (isStewardError(error, 'ERR_SUPERVISOR_NOT_FOUND')) return undefined;
    throw error;
  }
}

/**
 * Answers a question on behalf of a principal, over WebSocket or HTTP alike. A supervisor
 * the principal may not see is reported as not found, so its existence does not leak; a
 * question addressed to a role the principal lacks is refused with `ERR_FORBIDDEN`. The
 * answer is recorded with who gave it (and in which request) and resolves only after its
 * commit. Every answer is counted in `steward_answers_total` by outcome.
 */
export async function answerAs(
  host: SupervisorHost,
  metrics: Pick<ServerMetrics, 'answers'>,
  principal: Principal,
  supervisorId: string,
  questionId: string,
  value: unknown,
  requestId: string | null = null,
): Promise<AnswerResult> {
  try {
    const owner = (await committedOrStored(host, supervisorId))?.owner;
    if (owner === undefined || !canSee(principal, owner)) throw supervisorNotFound(supervisorId);
    const result = await host.answer(supervisorId, questionId, value, {
      answeredBy: principal.owner ?? principal.label,
      by: requesterOf(principal, requestId),
      // Data, not a function: it travels with an answer forwarded to the owner's node. Once
      // escalated, its escalation's audience may answer too (the first one still may).
      grant: { anyAudience: principal.admin, roles: principal.roles },
    });
    metrics.answers.inc({ outcome: result.duplicate ? 'duplicate' : 'applied' });
    return result;
  } catch (error) {
    metrics.answers.inc({ outcome: 'refused' });
    throw error;
  }
}
