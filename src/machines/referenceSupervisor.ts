import { assign, setup } from 'xstate';
import { z } from 'zod';
import { PendingQuestion } from '../model/supervisor.ts';
import {
  acceptAnswer,
  askQuestion,
  fail,
  reportActivity,
  setPhase,
  setProgress,
  spawnTasks,
  withdrawQuestions,
} from './actions.ts';
import { initialSupervisorContext, type SupervisorContext } from './context.ts';
import type { StandardEvent } from './events.ts';
import { cancelTasks, isOutstandingTaskEvent, recordTaskEvent } from './tasks.ts';

/** The plan question's prompt: the goal and every step, so a person sees what they approve. */
function planPrompt(plan: { goal: string; steps: readonly string[] }): string {
  return `Approve the plan for "${plan.goal}": ${plan.steps.join(', ')}?`;
}

const PROMPT_MAX = PendingQuestion.shape.prompt.maxLength ?? Number.POSITIVE_INFINITY;

/**
 * Input of the reference supervisor: what to achieve and the steps, one task each (no steps:
 * straight to the final approval). The plan question shows them all, so together they must
 * fit a question's prompt; a longer plan would fail the supervisor at its first question.
 *
 * @example
 * registry.register({ id: 'reference', version: 1, machine: referenceSupervisor, input: ReferenceInput });
 * await host.spawn('reference', { goal: 'ship', steps: ['build', 'test'] });
 */
export const ReferenceInput = z
  .object({
    goal: z.string().min(1),
    steps: z.array(z.string().min(1)),
  })
  .refine((plan) => planPrompt(plan).length <= PROMPT_MAX, {
    message: `goal and steps are too long together: the plan question takes at most ${PROMPT_MAX} characters`,
  });
export type ReferenceInput = z.infer<typeof ReferenceInput>;

/** The reference supervisor's context: the standard fields plus its plan. */
export interface ReferenceContext extends SupervisorContext {
  goal: string;
  steps: string[];
  /** Failed tasks a person has already decided about (retry, skip). */
  decidedFailures: string[];
  /** The failed task the pending decision question is about. */
  decidingTaskId: string | null;
}

const FAILURE_CHOICES = ['retry', 'skip', 'abort'];

function answerTo(event: StandardEvent, questionId: string, value?: unknown): boolean {
  return (
    event.type === 'question.answered' &&
    event.questionId === questionId &&
    (value === undefined || event.value === value)
  );
}

function firstUndecidedFailure(context: ReferenceContext): string | undefined {
  return context.spawnedTaskIds.find(
    (id) => context.tasks[id]?.status === 'failed' && !context.decidedFailures.includes(id),
  );
}

function failureQuestionId(context: ReferenceContext): string {
  return `task-failed-${context.decidingTaskId}`;
}

function succeededShare(context: ReferenceContext): number {
  const total = context.steps.length || 1;
  const done = Object.values(context.tasks).filter((t) => t.status === 'succeeded').length;
  return Math.min(1, done / total);
}

/**
 * The reference supervisor, as the seed's supervisor works: it plans, asks its owner to
 * approve the plan, spawns one task per step and waits for them, asks what to do when a
 * task fails (retry, skip, abort), asks for a final approval, and completes or fails. It
 * can be paused, resumed and cancelled at any point. Tests and the demo run it.
 */
export const referenceSupervisor = setup({
  types: {
    context: {} as ReferenceContext,
    input: {} as ReferenceInput,
    events: {} as StandardEvent,
  },
  actions: {
    decideFailure: assign({
      decidedFailures: ({ context }) => [
        ...context.decidedFailures,
        context.decidingTaskId as string,
      ],
      decidingTaskId: null,
    }),
  },
  guards: {
    planApproved: ({ event }) => answerTo(event, 'approve-plan', true),
    planRejected: ({ event }) => answerTo(event, 'approve-plan', false),
    finalApproved: ({ event }) => answerTo(event, 'final-approval', true),
    finalRejected: ({ event }) => answerTo(event, 'final-approval', false),
    retryChosen: ({ context, event }) => answerTo(event, failureQuestionId(context), 'retry'),
    skipChosen: ({ context, event }) => answerTo(event, failureQuestionId(context), 'skip'),
    abortChosen: ({ context, event }) => answerTo(event, failureQuestionId(context), 'abort'),
    hasUndecidedFailure: ({ context }) => firstUndecidedFailure(context) !== undefined,
    taskOutstanding: ({ context, event }) => isOutstandingTaskEvent(context, event),
    allTasksSettled: ({ context }) =>
      context.spawnedTaskIds.every((id) => {
        const status = context.tasks[id]?.status;
        return (
          status === 'succeeded' || (status === 'failed' && context.decidedFailures.includes(id))
        );
      }),
  },
}).createMachine({
  id: 'reference',
  context: ({ input }) => ({
    ...initialSupervisorContext(),
    title: input.goal,
    goal: input.goal,
    steps: input.steps,
    decidedFailures: [],
    decidingTaskId: null,
  }),
  initial: 'active',
  on: {
    // Task outcomes are kept in every state, paused included: a result must not be lost
    // because it arrived while a person had paused the supervisor.
    'task.started': { guard: 'taskOutstanding', actions: recordTaskEvent() },
    'task.completed': {
      guard: 'taskOutstanding',
      actions: [recordTaskEvent(), setProgress(({ context }) => 10 + 80 * succeededShare(context))],
    },
    'task.failed': { guard: 'taskOutstanding', actions: recordTaskEvent() },
    'task.restarting': { guard: 'taskOutstanding', actions: recordTaskEvent() },
    'task.escalated': {
      target: '.failed',
      actions: [cancelTasks(), fail(({ event }) => event.reason)],
    },
    'supervisor.cancel': {
      target: '.cancelled',
      actions: reportActivity(({ event }) => `cancelled${event.reason ? `: ${event.reason}` : ''}`),
    },
  },
  states: {
    active: {
      initial: 'planning',
      on: { 'supervisor.pause': { target: 'paused' } },
      states: {
        planning: {
          tags: ['initializing'],
          entry: [
            setPhase('plan'),
            reportActivity(({ context }) => `planning: ${context.goal}`),
            setProgress(5),
          ],
          always: 'awaitingApproval',
        },
        awaitingApproval: {
          tags: ['waiting_for_user'],
          entry: [
            askQuestion(({ context }) => ({
              id: 'approve-plan',
              prompt: planPrompt(context),
              answer: { kind: 'confirm' },
            })),
            reportActivity('waiting for plan approval'),
            setProgress(10),
          ],
          on: {
            'question.answered': [
              {
                guard: 'planApproved',
                target: 'executing',
                actions: [
                  acceptAnswer(),
                  spawnTasks(({ context }) =>
                    context.steps.map((step) => ({ name: 'step', input: { step } })),
                  ),
                ],
              },
              {
                guard: 'planRejected',
                target: '#reference.cancelled',
                actions: [acceptAnswer(), reportActivity('plan rejected')],
              },
            ],
          },
        },
        executing: {
          // Entered again on resume (through history): nothing here may spawn or ask twice.
          entry: setPhase('execute'),
          initial: 'running',
          states: {
            running: {
              tags: ['waiting_for_tasks'],
              entry: reportActivity(({ context }) => `running ${context.steps.length} steps`),
              always: [
                {
                  guard: 'hasUndecidedFailure',
                  target: 'decidingFailure',
                  // Fixed here, not on entry: the question and its answers must stay about
                  // this task even if another one fails meanwhile, and entry runs again on resume.
                  actions: assign({
                    decidingTaskId: ({ context }) => firstUndecidedFailure(context) ?? null,
                  }),
                },
                { guard: 'allTasksSettled', target: '#reference.active.reviewing' },
              ],
            },
            decidingFailure: {
              tags: ['waiting_for_user'],
              entry: [
                askQuestion(({ context }) => {
                  const taskId = context.decidingTaskId as string;
                  const step = (context.tasks[taskId]?.input as { step?: string } | null)?.step;
                  return {
                    id: `task-failed-${taskId}`,
                    prompt: `Step "${step}" failed. Retry it, skip it, or abort the run?`,
                    answer: { kind: 'choice', options: FAILURE_CHOICES },
                  };
                }),
                reportActivity('waiting for a decision on a failed step'),
              ],
              on: {
                'question.answered': [
                  {
                    guard: 'retryChosen',
                    target: 'running',
                    actions: [
                      acceptAnswer(),
                      spawnTasks(({ context }) => {
                        const failed = context.tasks[context.decidingTaskId as string];
                        return failed ? [{ name: failed.name, input: failed.input }] : [];
                      }),
                      'decideFailure',
                    ],
                  },
                  {
                    guard: 'skipChosen',
                    target: 'running',
                    actions: [acceptAnswer(), 'decideFailure'],
                  },
                  {
                    guard: 'abortChosen',
                    target: '#reference.failed',
                    actions: [acceptAnswer(), fail('aborted after a failed step')],
                  },
                ],
              },
            },
          },
        },
        reviewing: {
          tags: ['waiting_for_user'],
          entry: [
            setPhase('review'),
            setProgress(90),
            askQuestion({
              id: 'final-approval',
              prompt: 'All steps are done. Accept the result?',
              answer: { kind: 'confirm' },
            }),
            reportActivity('waiting for final approval'),
          ],
          on: {
            'question.answered': [
              { guard: 'finalApproved', target: '#reference.completed', actions: acceptAnswer() },
              {
                guard: 'finalRejected',
                target: '#reference.failed',
                actions: [acceptAnswer(), fail('result rejected at review')],
              },
            ],
          },
        },
        history: { type: 'history', history: 'deep' },
      },
    },
    paused: {
      tags: ['paused'],
      entry: reportActivity('paused'),
      on: {
        'supervisor.pause': {},
        'supervisor.resume': { target: 'active.history' },
      },
    },
    completed: {
      type: 'final',
      tags: ['completed'],
      entry: [withdrawQuestions(), setProgress(100), reportActivity('done')],
    },
    failed: {
      type: 'final',
      tags: ['failed'],
      entry: [
        withdrawQuestions(),
        cancelTasks(),
        reportActivity(({ context }) => context.error?.message ?? 'failed'),
      ],
    },
    cancelled: {
      type: 'final',
      tags: ['cancelled'],
      entry: [withdrawQuestions(), cancelTasks()],
    },
  },
});
