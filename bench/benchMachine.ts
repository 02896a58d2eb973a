import { assign, setup } from 'xstate';
import { acceptAnswer, askQuestion } from '../src/machines/actions.ts';
import { initialSupervisorContext, type SupervisorContext } from '../src/machines/context.ts';
import type { StandardEvent } from '../src/machines/events.ts';
import type { MachineDefinition } from '../src/machines/registry.ts';

/** The bench supervisor's context: the standard fields plus how many questions it asked. */
export interface BenchContext extends SupervisorContext {
  asked: number;
}

/** The id of the n-th question a bench supervisor asks (1-based). */
export function benchQuestionId(n: number): string {
  return `q-${n}`;
}

const nextQuestion = askQuestion<BenchContext, StandardEvent>(({ context }) => ({
  id: benchQuestionId(context.asked),
  prompt: `Bench question ${context.asked}: continue?`,
  answer: { kind: 'confirm' },
}));

/**
 * A supervisor that never finishes: it asks a yes/no question, and each answer is taken and
 * followed at once by the next question with a fresh id. Every answer is therefore one
 * full durable round trip (snapshot row, `question_answered` and `question_asked` journal
 * entries) and nothing else, which is what the benchmark measures.
 */
export const benchMachine = setup({
  types: {
    context: {} as BenchContext,
    events: {} as StandardEvent,
  },
  guards: {
    answersCurrentQuestion: ({ context, event }) =>
      event.type === 'question.answered' && event.questionId === benchQuestionId(context.asked),
  },
}).createMachine({
  id: 'bench',
  context: () => ({ ...initialSupervisorContext(), asked: 1 }),
  initial: 'asking',
  states: {
    asking: {
      tags: ['waiting_for_user'],
      entry: nextQuestion,
      on: {
        'question.answered': {
          guard: 'answersCurrentQuestion',
          // A targetless transition does not run `entry` again, so the next question is asked here.
          actions: [
            acceptAnswer(),
            assign({ asked: ({ context }) => context.asked + 1 }),
            nextQuestion,
          ],
        },
      },
    },
  },
});

/** The registry entry the benchmark spawns. */
export const benchMachineDefinition: MachineDefinition = {
  id: 'bench',
  version: 1,
  machine: benchMachine,
  description: 'asks yes/no questions forever, one at a time (benchmark only)',
};
