import { assign, fromPromise, setup } from 'xstate';
import { acceptAnswer, askQuestion } from '../../src/machines/actions.ts';
import { initialSupervisorContext, type SupervisorContext } from '../../src/machines/context.ts';
import type { StandardEvent } from '../../src/machines/events.ts';
import { invocationKey } from '../../src/machines/invocations.ts';
import { ReferenceInput, referenceSupervisor } from '../../src/machines/referenceSupervisor.ts';
import { createMachineRegistry, type MachineRegistry } from '../../src/machines/registry.ts';
import { deadlineMachine } from './deadlineMachine.ts';
import { followUpMachine } from './followUpMachine.ts';
import { registerTaskMachines } from './taskMachines.ts';

interface SurveyContext extends SupervisorContext {
  answers: Record<string, unknown>;
}

/** Asks `count` questions at once and takes their answers in any order. */
export const surveyMachine = setup({
  types: {
    context: {} as SurveyContext,
    /** `role`: the questions are for holders of that role instead of the owner; `promptLength`: pad prompts (flow-control tests). */
    input: {} as { count: number; role?: string; promptLength?: number },
    events: {} as StandardEvent,
  },
  guards: {
    lastAnswer: ({ context }) => context.pendingQuestions.length === 1,
  },
  actions: {
    recordAnswer: assign({
      answers: ({ context, event }) =>
        event.type === 'question.answered'
          ? { ...context.answers, [event.questionId]: event.value }
          : context.answers,
      progress: ({ context }) => Math.min(100, context.progress + 1),
    }),
  },
}).createMachine({
  id: 'survey',
  context: ({ input }) => ({
    ...initialSupervisorContext(),
    answers: {},
    pendingQuestions: Array.from({ length: input.count }, (_, i) => ({
      id: `q${i}`,
      prompt: `Question ${i}?`.padEnd(input.promptLength ?? 0, '.'),
      answer: { kind: 'number' as const },
      audience: input.role
        ? { kind: 'role' as const, role: input.role }
        : { kind: 'owner' as const },
      askedAt: new Date().toISOString(),
    })),
  }),
  initial: 'asking',
  states: {
    asking: {
      tags: ['waiting_for_user'],
      on: {
        'question.answered': [
          { guard: 'lastAnswer', target: 'answered', actions: [acceptAnswer(), 'recordAnswer'] },
          { actions: [acceptAnswer(), 'recordAnswer'] },
        ],
      },
    },
    // Not final: the supervisor stays in memory so tests can compare it with its row.
    answered: { tags: ['working'] },
  },
});

/** Like the survey, but finished (completed) by its last answer: it then leaves memory. */
export const quizMachine = setup({
  types: {
    context: {} as SurveyContext,
    input: {} as { count: number },
    events: {} as StandardEvent,
  },
  guards: {
    lastAnswer: ({ context }) => context.pendingQuestions.length === 1,
  },
}).createMachine({
  id: 'quiz',
  context: ({ input }) => ({
    ...initialSupervisorContext(),
    answers: {},
    pendingQuestions: Array.from({ length: input.count }, (_, i) => ({
      id: `q${i}`,
      prompt: `Quiz question ${i}?`,
      answer: { kind: 'number' as const },
      audience: { kind: 'owner' as const },
      askedAt: new Date().toISOString(),
    })),
  }),
  initial: 'asking',
  states: {
    asking: {
      tags: ['waiting_for_user'],
      on: {
        'question.answered': [
          { guard: 'lastAnswer', target: 'done', actions: acceptAnswer() },
          { actions: acceptAnswer() },
        ],
      },
    },
    done: { type: 'final', tags: ['completed'] },
  },
});

/** Throws from an action on `boom`: only this supervisor may fail. */
export const fragileMachine = setup({
  types: { context: {} as SupervisorContext, events: {} as { type: 'boom' } | { type: 'poke' } },
  actions: {
    explode: () => {
      throw new Error('the fragile supervisor exploded');
    },
  },
}).createMachine({
  id: 'fragile',
  context: () => initialSupervisorContext(),
  initial: 'idle',
  states: {
    idle: {
      tags: ['working'],
      entry: askQuestion({ id: 'ready', prompt: 'Ready?', answer: { kind: 'confirm' } }),
      on: { boom: { actions: 'explode' }, poke: { actions: assign({ activity: 'poked' }) } },
    },
  },
});

/** Invokes a promise that rejects, with no onError: the supervisor fails, nothing else. */
export const rejectingMachine = setup({
  types: { context: {} as SupervisorContext, events: {} as { type: 'start' } },
  actors: {
    doomed: fromPromise(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('the invoked work rejected');
    }),
  },
}).createMachine({
  id: 'rejecting',
  context: () => initialSupervisorContext(),
  initial: 'idle',
  states: {
    idle: { tags: ['working'], on: { start: 'running' } },
    running: { tags: ['working'], invoke: { src: 'doomed' } },
  },
});

/** Waits with a long `after` timer: its deadline must be stored, XState does not keep it. */
export const patientMachine = setup({
  types: { context: {} as SupervisorContext, events: {} as { type: 'hurry' } },
}).createMachine({
  id: 'patient',
  context: () => initialSupervisorContext(),
  initial: 'waiting',
  states: {
    waiting: { tags: ['working'], after: { 60000: 'late' }, on: { hurry: 'late' } },
    late: { tags: ['working'] },
  },
});

/** A task that runs until it is cancelled: tests send its outcome themselves. */
export const waitingTask = fromPromise<never, unknown>(
  ({ signal }) =>
    new Promise((_, reject) => {
      signal.addEventListener('abort', () => reject(new Error('cancelled')));
    }),
);

/** Like `patientMachine`, with a deadline short enough to watch it fire after a restore. */
export const hastyMachine = setup({
  types: { context: {} as SupervisorContext, events: {} as { type: 'hurry' } },
}).createMachine({
  id: 'hasty',
  context: () => initialSupervisorContext(),
  initial: 'waiting',
  states: {
    waiting: { tags: ['working'], after: { 400: 'late' } },
    late: { tags: ['working'], entry: assign({ activity: () => `late at ${Date.now()}` }) },
  },
});

/** Like `hastyMachine`, with a deadline far enough off to be passivated before it. */
export const sleepyMachine = setup({
  types: { context: {} as SupervisorContext, events: {} as { type: 'hurry' } },
}).createMachine({
  id: 'sleepy',
  context: () => initialSupervisorContext(),
  initial: 'waiting',
  states: {
    waiting: { tags: ['working'], after: { 2500: 'late' }, on: { hurry: 'late' } },
    late: { tags: ['working'], entry: assign({ activity: () => `late at ${Date.now()}` }) },
  },
});

/**
 * Counts its `add` events in `context.count`, so a test sees how often one was applied;
 * pauses, resumes and cancels on the runtime's events, and fails on `boom`.
 */
export const tallyMachine = setup({
  types: {
    context: {} as SupervisorContext & { count: number },
    events: {} as { type: 'add' } | { type: 'boom' } | StandardEvent,
  },
  actions: {
    explode: () => {
      throw new Error('the tally exploded');
    },
  },
}).createMachine({
  id: 'tally',
  context: () => ({ ...initialSupervisorContext(), count: 0 }),
  initial: 'counting',
  on: { 'supervisor.cancel': '.cancelled' },
  states: {
    counting: {
      tags: ['working'],
      on: {
        add: { actions: assign({ count: ({ context }) => context.count + 1 }) },
        boom: { actions: 'explode' },
        'supervisor.pause': 'paused',
      },
    },
    paused: { tags: ['paused'], on: { 'supervisor.resume': 'counting' } },
    cancelled: { tags: ['cancelled'], type: 'final' },
  },
});

/** Keys the `charge` work was invoked with, across runtimes of one test process. */
export const invocations: string[] = [];

/** Invokes work with a stable idempotency key; the work never settles on its own. */
export const invokerMachine = setup({
  types: { context: {} as SupervisorContext & { charges: number }, events: {} as { type: 'go' } },
  actors: {
    charge: fromPromise<never, { key: string }>(({ input }) => {
      invocations.push(input.key);
      return new Promise(() => {});
    }),
  },
}).createMachine({
  id: 'invoker',
  context: () => ({ ...initialSupervisorContext(), charges: 0 }),
  initial: 'idle',
  states: {
    idle: {
      tags: ['working'],
      on: {
        go: {
          target: 'charging',
          actions: assign({ charges: ({ context }) => context.charges + 1 }),
        },
      },
    },
    charging: {
      tags: ['working'],
      invoke: {
        id: 'charge',
        src: 'charge',
        input: ({ self, context }) => ({ key: invocationKey(self, 'charge', context.charges) }),
      },
    },
  },
});

/** Asks one question answered by a JSON object: a repeat must match it whatever its key order. */
export const formMachine = setup({
  types: { context: {} as SupervisorContext, events: {} as StandardEvent },
}).createMachine({
  id: 'form',
  context: () => initialSupervisorContext(),
  initial: 'asking',
  states: {
    asking: {
      tags: ['waiting_for_user'],
      entry: askQuestion({
        id: 'details',
        prompt: 'Details?',
        answer: { kind: 'json', schema: { type: 'object' } },
      }),
      on: { 'question.answered': { target: 'filled', actions: acceptAnswer() } },
    },
    filled: { tags: ['working'] },
  },
});

/** A registry with the reference supervisor and the test machines. */
export function testRegistry(): MachineRegistry {
  const registry = createMachineRegistry();
  registry.register({
    id: 'reference',
    version: 1,
    machine: referenceSupervisor,
    input: ReferenceInput,
  });
  registry.register({ id: 'survey', version: 1, machine: surveyMachine });
  registry.register({ id: 'quiz', version: 1, machine: quizMachine });
  registry.register({ id: 'fragile', version: 1, machine: fragileMachine });
  registry.register({ id: 'rejecting', version: 1, machine: rejectingMachine });
  registry.register({ id: 'patient', version: 1, machine: patientMachine });
  registry.register({ id: 'hasty', version: 1, machine: hastyMachine });
  registry.register({ id: 'sleepy', version: 1, machine: sleepyMachine });
  registry.register({ id: 'invoker', version: 1, machine: invokerMachine });
  registry.register({ id: 'form', version: 1, machine: formMachine });
  registry.register({ id: 'deadline', version: 1, machine: deadlineMachine });
  registry.register({ id: 'follow-up', version: 1, machine: followUpMachine });
  registry.register({ id: 'tally', version: 1, machine: tallyMachine });
  registry.registerTask('step', waitingTask);
  registerTaskMachines(registry);
  return registry;
}
