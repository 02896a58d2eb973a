import {
  acceptAnswer,
  askQuestion,
  initialSupervisorContext,
  reportActivity,
  type StandardEvent,
  type SupervisorContext,
  setPhase,
  setProgress,
  withdrawQuestions,
} from 'steward';
import { and, assign, setup } from 'xstate';
import { z } from 'zod';

/** From this amount on (in any currency), finance approves after the manager. */
export const FINANCE_THRESHOLD = 1_000;

/** How long the approvers have when the request does not say: three days. */
export const DEFAULT_APPROVE_WITHIN_MS = 3 * 24 * 60 * 60 * 1000;

// A Node timer fires at once when asked to wait longer than this (about 24.8 days), and
// XState's `after` is a Node timer while the supervisor is in memory.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * What an expense request is spawned with. Steward checks it at spawn (`input` of the
 * machine definition) and hands the machine the parsed value, defaults applied.
 *
 * @example
 * ExpenseInput.parse({ title: 'Laptop', amount: 1200, requester: 'bob' });
 * // → { title: 'Laptop', amount: 1200, currency: 'EUR', requester: 'bob', approveWithinMs: 259200000 }
 */
export const ExpenseInput = z.object({
  title: z.string().min(1).max(200),
  amount: z.number().positive(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'a three-letter ISO 4217 code such as EUR')
    .default('EUR'),
  requester: z.string().min(1).max(200),
  approveWithinMs: z
    .number()
    .int()
    .positive()
    .max(MAX_TIMER_MS, 'at most 24 days: a longer timer would fire at once')
    .default(DEFAULT_APPROVE_WITHIN_MS),
});
export type ExpenseInput = z.infer<typeof ExpenseInput>;

/** One approval given, and by whom (the answering principal, when the runtime knows it). */
export interface Approval {
  questionId: string;
  answeredBy: string | null;
}

/** The expense approval's context: the standard fields, the request and its approvals. */
export interface ExpenseContext extends SupervisorContext {
  expense: { title: string; amount: number; currency: string; requester: string };
  /** When the request expires, ISO 8601; fixed at spawn, shared by both questions. */
  deadline: string;
  approvals: Approval[];
}

function summary({ expense }: ExpenseContext): string {
  return `${expense.title}: ${expense.amount} ${expense.currency} for ${expense.requester}`;
}

function answerTo(event: StandardEvent, questionId: string, value: boolean): boolean {
  return (
    event.type === 'question.answered' && event.questionId === questionId && event.value === value
  );
}

/**
 * An expense approval: asks the owner to approve the expense (`manager-approval`), then,
 * from {@link FINANCE_THRESHOLD} on, a second time (`finance-approval`). Any rejection ends
 * it in `rejected`; nobody deciding before the deadline ends it in `expired`. It can be
 * paused, resumed and cancelled while it waits.
 *
 * @example
 * registry.register({ id: 'expense-approval', version: 1, machine: expenseApproval, input: ExpenseInput });
 * await host.spawn('expense-approval', { title: 'Laptop', amount: 1200, requester: 'bob' }, { owner: 'alice' });
 */
export const expenseApproval = setup({
  types: {
    context: {} as ExpenseContext,
    // What the machine is given: Steward passes the parsed value, a bare actor may not.
    input: {} as z.input<typeof ExpenseInput>,
    events: {} as StandardEvent,
  },
  actions: {
    recordApproval: assign({
      approvals: ({ context, event }) =>
        event.type === 'question.answered'
          ? [...context.approvals, { questionId: event.questionId, answeredBy: event.answeredBy }]
          : context.approvals,
    }),
  },
  guards: {
    managerApproved: ({ event }) => answerTo(event, 'manager-approval', true),
    managerRejected: ({ event }) => answerTo(event, 'manager-approval', false),
    financeApproved: ({ event }) => answerTo(event, 'finance-approval', true),
    financeRejected: ({ event }) => answerTo(event, 'finance-approval', false),
    needsFinance: ({ context }) => context.expense.amount >= FINANCE_THRESHOLD,
  },
  delays: {
    // From the stored deadline, not a fixed length: re-entered on resume, the timer waits
    // only for what is left (and fires at once when the deadline passed while paused).
    untilDeadline: ({ context }) => Math.max(0, Date.parse(context.deadline) - Date.now()),
  },
}).createMachine({
  id: 'expenseApproval',
  context: ({ input }) => {
    // Parsed again so a bare actor gets the defaults too; a no-op on Steward's parsed input.
    const { approveWithinMs, ...expense } = ExpenseInput.parse(input);
    return {
      ...initialSupervisorContext(),
      expense,
      deadline: new Date(Date.now() + approveWithinMs).toISOString(),
      approvals: [],
    };
  },
  initial: 'active',
  on: {
    'supervisor.cancel': {
      target: '.cancelled',
      actions: reportActivity(({ event }) => `cancelled${event.reason ? `: ${event.reason}` : ''}`),
    },
  },
  states: {
    active: {
      initial: 'submitted',
      on: { 'supervisor.pause': { target: 'paused' } },
      // One deadline for the whole request, whichever approval it waits for. Pausing does
      // not extend it: leaving `active` stops the timer, resuming arms it for what is left.
      after: {
        untilDeadline: {
          target: '#expenseApproval.expired',
          actions: reportActivity(
            ({ context }) => `expired: nobody decided by ${context.deadline}`,
          ),
        },
      },
      states: {
        submitted: {
          tags: ['initializing'],
          entry: [
            setPhase('submitted'),
            reportActivity(({ context }) => `submitted: ${summary(context)}`),
            setProgress(5),
          ],
          always: 'managerApproval',
        },
        managerApproval: {
          tags: ['waiting_for_user'],
          // Runs again on resume: askQuestion leaves an id that is still pending alone.
          entry: [
            setPhase('manager-approval'),
            askQuestion(({ context }) => ({
              id: 'manager-approval',
              prompt: `Approve ${summary(context)}?`,
              answer: { kind: 'confirm' },
              deadline: context.deadline,
            })),
            reportActivity('waiting for the manager'),
            setProgress(25),
          ],
          on: {
            'question.answered': [
              {
                guard: 'managerRejected',
                target: '#expenseApproval.rejected',
                actions: [acceptAnswer(), reportActivity('rejected by the manager')],
              },
              {
                guard: and(['managerApproved', 'needsFinance']),
                target: 'financeApproval',
                actions: [acceptAnswer(), 'recordApproval'],
              },
              {
                guard: 'managerApproved',
                target: '#expenseApproval.approved',
                actions: [acceptAnswer(), 'recordApproval'],
              },
            ],
          },
        },
        financeApproval: {
          tags: ['waiting_for_user'],
          entry: [
            setPhase('finance-approval'),
            askQuestion(({ context }) => ({
              id: 'finance-approval',
              prompt: `Second approval (finance), the manager has approved: approve ${summary(context)}?`,
              answer: { kind: 'confirm' },
              deadline: context.deadline,
            })),
            reportActivity('waiting for finance, the second approval'),
            setProgress(60),
          ],
          on: {
            'question.answered': [
              {
                guard: 'financeRejected',
                target: '#expenseApproval.rejected',
                actions: [acceptAnswer(), reportActivity('rejected by finance')],
              },
              {
                guard: 'financeApproved',
                target: '#expenseApproval.approved',
                actions: [acceptAnswer(), 'recordApproval'],
              },
            ],
          },
        },
        history: { type: 'history' },
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
    approved: {
      type: 'final',
      tags: ['completed'],
      entry: [
        withdrawQuestions(),
        setPhase('approved'),
        setProgress(100),
        reportActivity(({ context }) => `approved: ${summary(context)}`),
      ],
    },
    // `completed`, not `cancelled`: a rejection is a decision the process exists to reach,
    // as much as an approval; `cancelled` is kept for requests stopped before a decision.
    rejected: {
      type: 'final',
      tags: ['completed'],
      entry: [withdrawQuestions(), setPhase('rejected'), setProgress(100)],
    },
    // `cancelled`, not `failed`: nothing went wrong, the request lapsed undecided; `failed`
    // would call for someone to look at a supervisor that did what it should.
    expired: {
      type: 'final',
      tags: ['cancelled'],
      entry: [withdrawQuestions(), setPhase('expired')],
    },
    cancelled: {
      type: 'final',
      tags: ['cancelled'],
      entry: withdrawQuestions(),
    },
  },
});
