// The example team project's machine, alone with XState: no database, no runtime. Answers
// are sent as the runtime sends them, already validated against the confirm kind.
// The machine imports `steward` by name as a team's code does: tsc maps the name to src by
// tsconfig `paths`, vitest only with `resolve: { tsconfigPaths: true }` in its config.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AnyActorRef,
  createActor,
  getNextSnapshot,
  initialTransition,
  SimulatedClock,
  transition,
} from 'xstate';
import {
  DEFAULT_APPROVE_WITHIN_MS,
  ExpenseInput,
  expenseApproval,
} from '../../examples/approval-app/src/expenseApproval.ts';
import config from '../../examples/approval-app/steward.config.ts';
import { createMachineRegistry, createRegistry, lifecycleOf } from '../../src/index.ts';

const NOW = new Date('2025-03-03T09:00:00.000Z');

const small = { title: 'Taxi', amount: 40, requester: 'bob' };
const large = { title: 'Laptop', amount: 1_000, currency: 'USD', requester: 'bob' };

function answered(questionId: string, value: boolean) {
  return { type: 'question.answered', questionId, value, answeredBy: 'alice' } as const;
}

function start(input: ExpenseInput | Record<string, unknown>, clock?: SimulatedClock) {
  const actor = createActor(expenseApproval, {
    input: input as ExpenseInput,
    ...(clock ? { clock } : {}),
  });
  return actor.start();
}

function pendingIds(actor: AnyActorRef): string[] {
  return actor.getSnapshot().context.pendingQuestions.map((q: { id: string }) => q.id);
}

beforeEach(() => {
  // Only Date: the deadline is computed from it, the timers run on a SimulatedClock.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('expense approval', () => {
  it('asks the manager once for a small amount, with the deadline three days on', () => {
    const actor = start(small);
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toEqual({ active: 'managerApproval' });
    expect(lifecycleOf(snapshot)).toBe('waiting_for_user');
    expect(snapshot.context.phase).toBe('manager-approval');
    expect(snapshot.context.pendingQuestions).toEqual([
      {
        id: 'manager-approval',
        prompt: 'Approve Taxi: 40 EUR for bob?',
        answer: { kind: 'confirm' },
        audience: { kind: 'owner' },
        askedAt: NOW.toISOString(),
        deadline: new Date(NOW.getTime() + DEFAULT_APPROVE_WITHIN_MS).toISOString(),
      },
    ]);
  });

  it('approves a small amount on the manager’s approval alone', () => {
    const actor = start(small);
    actor.send(answered('manager-approval', true));
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe('approved');
    expect(snapshot.status).toBe('done');
    expect(lifecycleOf(snapshot)).toBe('completed');
    expect(snapshot.context).toMatchObject({
      pendingQuestions: [],
      progress: 100,
      phase: 'approved',
      approvals: [{ questionId: 'manager-approval', answeredBy: 'alice' }],
    });
  });

  it('asks finance only after the manager approved an amount of 1,000 or more', () => {
    const actor = start(large);
    expect(pendingIds(actor)).toEqual(['manager-approval']);

    actor.send(answered('manager-approval', true));
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toEqual({ active: 'financeApproval' });
    expect(lifecycleOf(snapshot)).toBe('waiting_for_user');
    expect(pendingIds(actor)).toEqual(['finance-approval']);
    const [question] = snapshot.context.pendingQuestions;
    expect(question?.prompt).toBe(
      'Second approval (finance), the manager has approved: approve Laptop: 1000 USD for bob?',
    );
    expect(question?.deadline).toBe(snapshot.context.deadline);

    actor.send(answered('finance-approval', true));
    expect(actor.getSnapshot().value).toBe('approved');
    expect(lifecycleOf(actor.getSnapshot())).toBe('completed');
    expect(actor.getSnapshot().context.approvals.map((a) => a.questionId)).toEqual([
      'manager-approval',
      'finance-approval',
    ]);
  });

  it('asks finance in pure transitions too, without an actor', () => {
    const [initial] = initialTransition(expenseApproval, large);
    const [afterManager] = transition(expenseApproval, initial, answered('manager-approval', true));
    expect(afterManager.value).toEqual({ active: 'financeApproval' });
    const done = getNextSnapshot(expenseApproval, afterManager, answered('finance-approval', true));
    expect(done.value).toBe('approved');
  });

  it.each([
    ['the manager', small, [answered('manager-approval', false)]],
    ['the manager, for a large amount', large, [answered('manager-approval', false)]],
    ['finance', large, [answered('manager-approval', true), answered('finance-approval', false)]],
  ])('ends in rejected when %s rejects', (_who, input, answers) => {
    const actor = start(input);
    for (const answer of answers) actor.send(answer);
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe('rejected');
    expect(snapshot.status).toBe('done');
    expect(lifecycleOf(snapshot)).toBe('completed');
    expect(snapshot.context.pendingQuestions).toEqual([]);
    expect(snapshot.context.phase).toBe('rejected');
  });

  it('ignores an answer to a question it did not ask', () => {
    const actor = start(small);
    const before = actor.getSnapshot();
    actor.send(answered('finance-approval', true));
    expect(actor.getSnapshot()).toBe(before);
  });

  it('expires at the deadline and withdraws the pending question', () => {
    const clock = new SimulatedClock();
    const actor = start({ ...small, approveWithinMs: 60_000 }, clock);
    clock.increment(59_999);
    expect(actor.getSnapshot().value).toEqual({ active: 'managerApproval' });

    clock.increment(1);
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe('expired');
    expect(lifecycleOf(snapshot)).toBe('cancelled');
    expect(snapshot.context.pendingQuestions).toEqual([]);
    expect(snapshot.context.activity).toBe(
      `expired: nobody decided by ${new Date(NOW.getTime() + 60_000).toISOString()}`,
    );
  });

  it('keeps one deadline for both approvals', () => {
    const clock = new SimulatedClock();
    const actor = start({ ...large, approveWithinMs: 60_000 }, clock);
    clock.increment(40_000);
    vi.setSystemTime(NOW.getTime() + 40_000);
    actor.send(answered('manager-approval', true));
    expect(pendingIds(actor)).toEqual(['finance-approval']);

    clock.increment(19_999);
    expect(actor.getSnapshot().value).toEqual({ active: 'financeApproval' });
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('expired');
    expect(pendingIds(actor)).toEqual([]);
  });

  it('takes no answer while paused and resumes waiting for the same question', () => {
    const clock = new SimulatedClock();
    const actor = start({ ...small, approveWithinMs: 60_000 }, clock);
    actor.send({ type: 'supervisor.pause' });
    expect(lifecycleOf(actor.getSnapshot())).toBe('paused');
    const paused = actor.getSnapshot();
    actor.send(answered('manager-approval', true));
    expect(actor.getSnapshot()).toBe(paused);

    actor.send({ type: 'supervisor.resume' });
    expect(actor.getSnapshot().value).toEqual({ active: 'managerApproval' });
    expect(pendingIds(actor)).toEqual(['manager-approval']);
    actor.send(answered('manager-approval', true));
    expect(actor.getSnapshot().value).toBe('approved');
  });

  it('does not extend the deadline by a pause: resumed after it, it expires at once', () => {
    const clock = new SimulatedClock();
    const actor = start({ ...small, approveWithinMs: 60_000 }, clock);
    actor.send({ type: 'supervisor.pause' });
    clock.increment(120_000);
    vi.setSystemTime(NOW.getTime() + 120_000);
    expect(lifecycleOf(actor.getSnapshot())).toBe('paused');

    actor.send({ type: 'supervisor.resume' });
    clock.increment(0);
    expect(actor.getSnapshot().value).toBe('expired');
    expect(pendingIds(actor)).toEqual([]);
  });

  it('waits only for what is left of the deadline after a resume', () => {
    const clock = new SimulatedClock();
    const actor = start({ ...small, approveWithinMs: 60_000 }, clock);
    clock.increment(10_000);
    vi.setSystemTime(NOW.getTime() + 10_000);
    actor.send({ type: 'supervisor.pause' });
    clock.increment(20_000);
    vi.setSystemTime(NOW.getTime() + 30_000);
    actor.send({ type: 'supervisor.resume' });

    clock.increment(29_999);
    expect(actor.getSnapshot().value).toEqual({ active: 'managerApproval' });
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('expired');
  });

  it('is cancelled by supervisor.cancel, its question withdrawn', () => {
    const actor = start(large);
    actor.send(answered('manager-approval', true));
    actor.send({ type: 'supervisor.cancel', reason: 'bought elsewhere' });
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe('cancelled');
    expect(lifecycleOf(snapshot)).toBe('cancelled');
    expect(snapshot.context.pendingQuestions).toEqual([]);
    expect(snapshot.context.activity).toBe('cancelled: bought elsewhere');
  });
});

describe('ExpenseInput', () => {
  it('fills in the currency and three days to decide', () => {
    expect(ExpenseInput.parse(small)).toEqual({
      ...small,
      currency: 'EUR',
      approveWithinMs: DEFAULT_APPROVE_WITHIN_MS,
    });
  });

  it('refuses a negative amount', () => {
    const result = ExpenseInput.safeParse({ ...small, amount: -5 });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toEqual([['amount']]);
  });

  it('refuses { amount: -5 } and names every missing field', () => {
    const result = ExpenseInput.safeParse({ amount: -5 });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'amount',
      'requester',
      'title',
    ]);
  });

  it('refuses a missing title', () => {
    const { title: _, ...untitled } = small;
    const result = ExpenseInput.safeParse(untitled);
    expect(result.error?.issues.map((i) => i.path)).toEqual([['title']]);
  });

  it('refuses a deadline further away than a timer can wait', () => {
    expect(ExpenseInput.safeParse({ ...small, approveWithinMs: 30 * 86_400_000 }).success).toBe(
      false,
    );
  });
});

describe('registration', () => {
  it('is accepted by the machine registry: one lifecycle tag on every state', () => {
    const registry = createMachineRegistry();
    expect(() =>
      registry.register({ id: 'expense-approval', version: 1, machine: expenseApproval }),
    ).not.toThrow();
    expect(registry.latest('expense-approval').machine).toBe(expenseApproval);
  });

  it('is what the example’s steward.config.ts registers, with its input schema', () => {
    const [definition] = createRegistry({ machines: config.machines }).list();
    expect(definition).toMatchObject({ id: 'expense-approval', version: 1, input: ExpenseInput });
  });
});
