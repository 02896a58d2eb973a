// A supervisor that asks one question of role `ops` with a reminder and an escalation to the
// owner: the machine of the follow-up tests (issue 15), in-process and in a `steward serve`
// child.
import { setup } from 'xstate';
import { acceptAnswer, askQuestion } from '../../src/machines/actions.ts';
import { initialSupervisorContext, type SupervisorContext } from '../../src/machines/context.ts';
import type { StandardEvent } from '../../src/machines/events.ts';

/** When the question's follow-ups come, in ms after it is asked. */
export interface FollowUpInput {
  remindAfterMs: number;
  escalateAfterMs: number;
}

/**
 * Asks `review` (a yes/no) of role `ops`, reminded after `remindAfterMs` and escalated to the
 * owner after `escalateAfterMs`. An answer moves it to `reviewed` (not final: a live actor
 * whose follow-up timers must be cancelled).
 */
export const followUpMachine = setup({
  types: {
    context: {} as SupervisorContext & FollowUpInput,
    input: {} as FollowUpInput,
    events: {} as StandardEvent,
  },
}).createMachine({
  id: 'follow-up',
  context: ({ input }) => ({ ...initialSupervisorContext(), ...input }),
  initial: 'waiting',
  states: {
    waiting: {
      tags: ['waiting_for_user'],
      entry: askQuestion(({ context }) => ({
        id: 'review',
        prompt: 'Review the plan?',
        answer: { kind: 'confirm' },
        audience: { kind: 'role', role: 'ops' },
        remindAfterMs: context.remindAfterMs,
        escalate: { afterMs: context.escalateAfterMs, audience: { kind: 'owner' } },
      })),
      on: { 'question.answered': { target: 'reviewed', actions: acceptAnswer() } },
    },
    reviewed: { tags: ['working'] },
  },
});
