// A supervisor that asks one question with a deadline and escalates when it lapses: the
// machine of the deadline tests (issue 15), in-process and in a `steward serve` child.
import { assign, setup } from 'xstate';
import { acceptAnswer, acceptExpiry, askQuestion, fail } from '../../src/machines/actions.ts';
import { initialSupervisorContext, type SupervisorContext } from '../../src/machines/context.ts';
import type { StandardEvent } from '../../src/machines/events.ts';

/** The deadline machine's context: when its question lapsed, as it was told. */
export interface DeadlineContext extends SupervisorContext {
  expiresInMs: number;
  /** What the expiry leads to: `escalated` (the default) or `failed`. */
  onExpiry: 'escalate' | 'fail';
  /** The `question.expired` event the machine took, or null. */
  lapsed: { questionId: string; deadline: string; at: string } | null;
}

/**
 * Asks `sign-off` (a yes/no) due `expiresInMs` after it is asked. An answer moves it to
 * `signed`; the expiry to `escalated` (still waiting, so it stays in memory for the tests) and
 * records the event in `lapsed` (or, with `onExpiry: 'fail'`, fails). It can be paused: while paused it takes neither.
 */
export const deadlineMachine = setup({
  types: {
    context: {} as DeadlineContext,
    input: {} as { expiresInMs: number; onExpiry?: 'escalate' | 'fail' },
    events: {} as StandardEvent,
  },
}).createMachine({
  id: 'deadline',
  context: ({ input }) => ({
    ...initialSupervisorContext(),
    expiresInMs: input.expiresInMs,
    onExpiry: input.onExpiry ?? 'escalate',
    lapsed: null,
  }),
  initial: 'waiting',
  states: {
    waiting: {
      tags: ['waiting_for_user'],
      entry: askQuestion(({ context }) => ({
        id: 'sign-off',
        prompt: 'Sign off?',
        answer: { kind: 'confirm' },
        expiresInMs: context.expiresInMs,
      })),
      on: {
        'question.answered': { target: 'signed', actions: acceptAnswer() },
        'question.expired': [
          {
            guard: ({ context }) => context.onExpiry === 'fail',
            target: 'failed',
            actions: [acceptExpiry(), fail('nobody signed off in time')],
          },
          {
            target: 'escalated',
            actions: [
              acceptExpiry(),
              assign({
                lapsed: ({ event }) => ({
                  questionId: event.questionId,
                  deadline: event.deadline,
                  at: new Date().toISOString(),
                }),
                activity: 'escalated: nobody signed off in time',
              }),
            ],
          },
        ],
        'supervisor.pause': 'paused',
      },
    },
    paused: { tags: ['paused'], on: { 'supervisor.resume': 'waiting' } },
    // Not final: a live actor after the answer, whose deadline timer must be cancelled.
    signed: { tags: ['working'] },
    escalated: { tags: ['waiting_for_user'] },
    failed: { tags: ['failed'], type: 'final' },
  },
});
