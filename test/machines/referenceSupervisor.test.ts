import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Actor, createActor, getNextSnapshot, type Snapshot, type SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { initialSupervisorContext, SupervisorContext } from '../../src/machines/context.ts';
import type { StandardEvent } from '../../src/machines/events.ts';
import { lifecycleOf } from '../../src/machines/lifecycle.ts';
import { ReferenceInput, referenceSupervisor } from '../../src/machines/referenceSupervisor.ts';
import { LIFECYCLE_STATES } from '../../src/model/supervisor.ts';

type Supervisor = Actor<typeof referenceSupervisor>;
type State = SnapshotFrom<typeof referenceSupervisor>;

const INPUT: ReferenceInput = { goal: 'ship it', steps: ['build', 'test'] };
const FAILURE_CHOICES = ['retry', 'skip', 'abort'];

function start(input: ReferenceInput = INPUT): Supervisor {
  return createActor(referenceSupervisor, { input }).start();
}

const context = (actor: Supervisor) => actor.getSnapshot().context;
const lifecycle = (actor: Supervisor) => lifecycleOf(actor.getSnapshot());
const pendingIds = (actor: Supervisor) => context(actor).pendingQuestions.map((q) => q.id);

function answer(actor: Supervisor, questionId: string, value: unknown): void {
  actor.send({ type: 'question.answered', questionId, value, answeredBy: 'owner' });
}

function taskIds(actor: Supervisor): [string, string, ...string[]] {
  const ids = context(actor).spawnedTaskIds;
  expect(ids.length).toBeGreaterThanOrEqual(2);
  return ids as [string, string, ...string[]];
}

const completeTask = (actor: Supervisor, taskId: string) =>
  actor.send({ type: 'task.completed', taskId, result: { ok: true } });
const failTask = (actor: Supervisor, taskId: string) =>
  actor.send({ type: 'task.failed', taskId, error: 'exit code 1' });

/** Drives a fresh supervisor into each non-terminal state it can wait in. */
const REACH_ACTIVE_STATE = {
  awaitingApproval: (_actor: Supervisor) => {},
  running: (actor) => answer(actor, 'approve-plan', true),
  'running, one task done': (actor) => {
    answer(actor, 'approve-plan', true);
    completeTask(actor, taskIds(actor)[0]);
  },
  decidingFailure: (actor) => {
    answer(actor, 'approve-plan', true);
    failTask(actor, taskIds(actor)[0]);
  },
  reviewing: (actor) => {
    answer(actor, 'approve-plan', true);
    for (const id of taskIds(actor)) completeTask(actor, id);
  },
} satisfies Record<string, (actor: Supervisor) => void>;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-05-01T09:00:00.000Z'));
});

afterEach(() => {
  vi.useRealTimers();
});

describe('referenceSupervisor', () => {
  it('plans, asks to approve the plan and waits for the answer', () => {
    const actor = start();
    expect(actor.getSnapshot().value).toEqual({ active: 'awaitingApproval' });
    expect(lifecycle(actor)).toBe('waiting_for_user');
    expect(context(actor)).toMatchObject({
      phase: 'plan',
      progress: 10,
      activity: 'waiting for plan approval',
      spawnedTaskIds: [],
    });
    expect(context(actor).pendingQuestions).toEqual([
      {
        id: 'approve-plan',
        prompt: 'Approve the plan for "ship it": build, test?',
        answer: { kind: 'confirm' },
        audience: { kind: 'owner' },
        askedAt: '2026-05-01T09:00:00.000Z',
      },
    ]);
  });

  it('is titled by its goal, so the people it asks can tell it from its siblings', () => {
    expect(context(start()).title).toBe('ship it');
  });

  it('completes the happy path: plan approved, tasks done, result accepted', () => {
    const actor = start();
    answer(actor, 'approve-plan', true);
    expect(lifecycle(actor)).toBe('waiting_for_tasks');
    expect(pendingIds(actor)).toEqual([]);
    const [build, test] = taskIds(actor);
    expect(context(actor).spawnedTaskIds).toEqual([build, test]);
    expect(context(actor).tasks).toMatchObject({
      [build]: { name: 'step', input: { step: 'build' }, status: 'pending' },
      [test]: { name: 'step', input: { step: 'test' }, status: 'pending' },
    });
    expect(context(actor)).toMatchObject({ phase: 'execute', activity: 'running 2 steps' });

    completeTask(actor, build);
    expect(lifecycle(actor)).toBe('waiting_for_tasks');
    expect(context(actor).progress).toBe(50);

    completeTask(actor, test);
    expect(actor.getSnapshot().value).toEqual({ active: 'reviewing' });
    expect(lifecycle(actor)).toBe('waiting_for_user');
    expect(context(actor)).toMatchObject({ phase: 'review', progress: 90 });
    expect(pendingIds(actor)).toEqual(['final-approval']);

    answer(actor, 'final-approval', true);
    expect(actor.getSnapshot().status).toBe('done');
    expect(lifecycle(actor)).toBe('completed');
    expect(context(actor)).toMatchObject({
      progress: 100,
      activity: 'done',
      pendingQuestions: [],
      error: null,
    });
    expect(SupervisorContext.safeParse(context(actor)).success).toBe(true);
  });

  it('fails when the result is rejected at review', () => {
    const actor = start();
    REACH_ACTIVE_STATE.reviewing(actor);
    answer(actor, 'final-approval', false);
    expect(lifecycle(actor)).toBe('failed');
    expect(context(actor)).toMatchObject({
      error: { message: 'result rejected at review' },
      activity: 'result rejected at review',
      pendingQuestions: [],
    });
  });

  it('is cancelled, with no task spawned, when the plan is rejected', () => {
    const actor = start();
    answer(actor, 'approve-plan', false);
    expect(actor.getSnapshot().status).toBe('done');
    expect(lifecycle(actor)).toBe('cancelled');
    expect(context(actor)).toMatchObject({
      activity: 'plan rejected',
      pendingQuestions: [],
      spawnedTaskIds: [],
      tasks: {},
    });
  });

  it('ignores an answer to a question it did not ask', () => {
    const actor = start();
    const before = actor.getSnapshot();
    answer(actor, 'final-approval', true);
    answer(actor, 'approve-plan', 'yes');
    expect(actor.getSnapshot().value).toEqual(before.value);
    expect(context(actor)).toEqual(before.context);
  });

  describe('when a task fails', () => {
    function failedBuild() {
      const actor = start();
      answer(actor, 'approve-plan', true);
      const [build, test] = taskIds(actor);
      failTask(actor, build);
      return { actor, build, test, questionId: `task-failed-${build}` };
    }

    it('asks whether to retry, skip or abort, naming the step', () => {
      const { actor, build, questionId } = failedBuild();
      expect(actor.getSnapshot().value).toEqual({ active: { executing: 'decidingFailure' } });
      expect(lifecycle(actor)).toBe('waiting_for_user');
      expect(context(actor).tasks[build]?.status).toBe('failed');
      expect(context(actor).pendingQuestions).toEqual([
        {
          id: questionId,
          prompt: 'Step "build" failed. Retry it, skip it, or abort the run?',
          answer: { kind: 'choice', options: FAILURE_CHOICES },
          audience: { kind: 'owner' },
          askedAt: '2026-05-01T09:00:00.000Z',
        },
      ]);
    });

    it("spawns a new task for the same step on 'retry'", () => {
      const { actor, build, test, questionId } = failedBuild();
      answer(actor, questionId, 'retry');
      expect(lifecycle(actor)).toBe('waiting_for_tasks');
      expect(pendingIds(actor)).toEqual([]);
      const ids = context(actor).spawnedTaskIds;
      expect(ids).toHaveLength(3);
      expect(ids.slice(0, 2)).toEqual([build, test]);
      const retried = ids[2] as string;
      expect(context(actor).tasks[retried]).toMatchObject({
        name: 'step',
        input: { step: 'build' },
        status: 'pending',
      });
      expect(context(actor).decidedFailures).toEqual([build]);

      completeTask(actor, test);
      expect(lifecycle(actor)).toBe('waiting_for_tasks');
      completeTask(actor, retried);
      expect(actor.getSnapshot().value).toEqual({ active: 'reviewing' });
      expect(context(actor).progress).toBe(90);
      answer(actor, 'final-approval', true);
      expect(lifecycle(actor)).toBe('completed');
    });

    it("continues without the step on 'skip'", () => {
      const { actor, build, test, questionId } = failedBuild();
      answer(actor, questionId, 'skip');
      expect(lifecycle(actor)).toBe('waiting_for_tasks');
      expect(pendingIds(actor)).toEqual([]);
      expect(context(actor).spawnedTaskIds).toEqual([build, test]);
      completeTask(actor, test);
      expect(actor.getSnapshot().value).toEqual({ active: 'reviewing' });
    });

    it("fails with an error message on 'abort'", () => {
      const { actor, questionId } = failedBuild();
      answer(actor, questionId, 'abort');
      expect(actor.getSnapshot().status).toBe('done');
      expect(lifecycle(actor)).toBe('failed');
      expect(context(actor)).toMatchObject({
        error: { message: 'aborted after a failed step' },
        activity: 'aborted after a failed step',
        pendingQuestions: [],
      });
    });

    it('does not take an answer outside the options', () => {
      const { actor, questionId } = failedBuild();
      const event = {
        type: 'question.answered',
        questionId,
        value: 'later',
        answeredBy: null,
      } as const;
      expect(actor.getSnapshot().can(event)).toBe(false);
      actor.send(event);
      expect(pendingIds(actor)).toEqual([questionId]);
    });

    it('asks about each failed step in turn when a later step fails first', () => {
      // A later step fails, then an earlier one while the first question is still pending:
      // the pending question must still be answerable, then the other one asked.
      const actor = start();
      answer(actor, 'approve-plan', true);
      const [build, test] = taskIds(actor);
      failTask(actor, test);
      expect(pendingIds(actor)).toEqual([`task-failed-${test}`]);
      failTask(actor, build);
      expect(pendingIds(actor)).toEqual([`task-failed-${test}`]);

      const skipTest = {
        type: 'question.answered',
        questionId: `task-failed-${test}`,
        value: 'skip',
        answeredBy: null,
      } as const;
      expect(actor.getSnapshot().can(skipTest)).toBe(true);
      actor.send(skipTest);
      expect(pendingIds(actor)).toEqual([`task-failed-${build}`]);
      answer(actor, `task-failed-${build}`, 'skip');
      expect(actor.getSnapshot().value).toEqual({ active: 'reviewing' });
    });
  });

  describe('pause and resume', () => {
    it.each(Object.entries(REACH_ACTIVE_STATE))(
      'pauses in %s and resumes in the same state without spawning or asking again',
      (_name, reach) => {
        const actor = start();
        reach(actor);
        const before = actor.getSnapshot();

        actor.send({ type: 'supervisor.pause' });
        expect(lifecycle(actor)).toBe('paused');
        expect(context(actor).activity).toBe('paused');
        // Questions stay pending while paused; the answer is taken after resume.
        expect(context(actor).pendingQuestions).toEqual(before.context.pendingQuestions);

        actor.send({ type: 'supervisor.pause' });
        expect(lifecycle(actor)).toBe('paused');

        vi.setSystemTime(new Date('2026-05-01T10:30:00.000Z'));
        actor.send({ type: 'supervisor.resume' });
        const after = actor.getSnapshot();
        expect(after.value).toEqual(before.value);
        expect(lifecycleOf(after)).toBe(lifecycleOf(before));
        expect(after.context.spawnedTaskIds).toEqual(before.context.spawnedTaskIds);
        expect(after.context.pendingQuestions).toEqual(before.context.pendingQuestions);
        expect(after.context).toEqual(before.context);
      },
    );

    it('resumes in the same state after the paused supervisor was persisted and restored', () => {
      const actor = start();
      REACH_ACTIVE_STATE.decidingFailure(actor);
      const before = actor.getSnapshot();
      actor.send({ type: 'supervisor.pause' });
      const stored = JSON.parse(JSON.stringify(actor.getPersistedSnapshot())) as Snapshot<unknown>;
      actor.stop();

      const restored = createActor(referenceSupervisor, { snapshot: stored, input: INPUT }).start();
      expect(lifecycle(restored)).toBe('paused');
      restored.send({ type: 'supervisor.resume' });
      expect(restored.getSnapshot().value).toEqual(before.value);
      expect(restored.getSnapshot().context).toEqual(before.context);
    });

    it('keeps a task outcome that arrives while paused', () => {
      // Tasks run outside the supervisor and may finish while it is paused.
      const actor = start();
      answer(actor, 'approve-plan', true);
      const [build, test] = taskIds(actor);
      actor.send({ type: 'supervisor.pause' });
      completeTask(actor, build);
      completeTask(actor, test);
      actor.send({ type: 'supervisor.resume' });
      expect(context(actor).tasks[build]?.status).toBe('succeeded');
      expect(context(actor).tasks[test]?.status).toBe('succeeded');
      expect(actor.getSnapshot().value).toEqual({ active: 'reviewing' });
    });
  });

  describe('cancel', () => {
    const reachable: Record<string, (actor: Supervisor) => void> = {
      ...REACH_ACTIVE_STATE,
      paused: (actor) => {
        REACH_ACTIVE_STATE.decidingFailure(actor);
        actor.send({ type: 'supervisor.pause' });
      },
    };

    it.each(Object.entries(reachable))(
      'cancels from %s and withdraws every pending question',
      (_name, reach) => {
        const actor = start();
        reach(actor);
        actor.send({ type: 'supervisor.cancel', reason: 'no longer needed' });
        expect(actor.getSnapshot().status).toBe('done');
        expect(lifecycle(actor)).toBe('cancelled');
        expect(context(actor).pendingQuestions).toEqual([]);
        expect(context(actor).activity).toBe('cancelled: no longer needed');
      },
    );

    it("reports plain 'cancelled' when no reason is given", () => {
      const actor = start();
      actor.send({ type: 'supervisor.cancel' });
      expect(context(actor).activity).toBe('cancelled');
    });
  });
});

describe('SupervisorContext', () => {
  it('takes a title as an optional string: a context stored without one stays valid', () => {
    const standard = initialSupervisorContext();
    expect(SupervisorContext.safeParse(standard).success).toBe(true);
    expect(SupervisorContext.safeParse({ ...standard, title: 'ship it' }).success).toBe(true);
    expect(SupervisorContext.safeParse({ ...standard, title: 5 }).success).toBe(false);
  });
});

describe('ReferenceInput', () => {
  it('takes a goal and any number of steps, each a non-empty string', () => {
    expect(ReferenceInput.parse({ goal: 'g', steps: [] })).toEqual({ goal: 'g', steps: [] });
    expect(ReferenceInput.safeParse({ goal: 5 }).success).toBe(false);
    expect(ReferenceInput.safeParse({ goal: '', steps: [] }).success).toBe(false);
    expect(ReferenceInput.safeParse({ goal: 'g', steps: [''] }).success).toBe(false);
  });

  it('refuses a plan the approval question could not show, which would fail the supervisor', () => {
    const long = { goal: 'g'.repeat(6_000), steps: ['s'.repeat(5_000)] };
    expect(ReferenceInput.safeParse(long).success).toBe(false);
    const actor = start(long);
    expect(SupervisorContext.safeParse(context(actor)).success).toBe(false);
    actor.stop();
  });
});

describe('referenceSupervisor, model-based', () => {
  const input: ReferenceInput = { goal: 'ship it', steps: ['build', 'test'] };

  const answerEvent = (questionId: string, value: unknown): StandardEvent => ({
    type: 'question.answered',
    questionId,
    value,
    answeredBy: null,
  });

  /** The answers a question allows; only confirm and choice questions are asked here. */
  function allowedValues(state: State, questionId: string): unknown[] {
    const question = state.context.pendingQuestions.find((q) => q.id === questionId);
    if (question?.answer.kind === 'confirm') return [true, false];
    if (question?.answer.kind === 'choice') return question.answer.options;
    return [];
  }

  /**
   * The events a running system could send in `state`: pause, resume, cancel, every
   * allowed answer to every pending question, and an outcome for every pending task.
   * Tasks may fail only until one retry was spawned, which keeps the graph finite.
   */
  function eventsFor(state: State): StandardEvent[] {
    if (state.status !== 'active') return [];
    const events: StandardEvent[] = [
      { type: 'supervisor.pause' },
      { type: 'supervisor.resume' },
      { type: 'supervisor.cancel', reason: 'model' },
    ];
    for (const question of state.context.pendingQuestions) {
      for (const value of allowedValues(state, question.id)) {
        events.push(answerEvent(question.id, value));
      }
    }
    const { spawnedTaskIds, tasks } = state.context;
    for (const taskId of spawnedTaskIds) {
      if (tasks[taskId]?.status !== 'pending') continue;
      events.push({ type: 'task.completed', taskId, result: null });
      if (spawnedTaskIds.length <= input.steps.length) {
        events.push({ type: 'task.failed', taskId, error: 'model' });
      }
    }
    return events;
  }

  /** Two states are the same when they differ only by random task ids and question times. */
  function serializeState(state: State): string {
    let text = JSON.stringify(referenceSupervisor.getPersistedSnapshot(state));
    state.context.spawnedTaskIds.forEach((id, index) => {
      text = text.replaceAll(id, `task#${index}`);
    });
    return text.replace(/"askedAt":"[^"]*"/g, '');
  }

  const paths = getShortestPaths(referenceSupervisor, {
    input,
    events: eventsFor,
    serializeState,
  });
  const describeState = (state: State) =>
    `${JSON.stringify(state.value)} ${JSON.stringify(state.context.pendingQuestions.map((q) => q.id))}`;

  it('reaches every state of the machine', () => {
    const values = new Set(paths.map((path) => JSON.stringify(path.state.value)));
    expect([...values].sort()).toEqual(
      [
        { active: 'awaitingApproval' },
        { active: { executing: 'running' } },
        { active: { executing: 'decidingFailure' } },
        { active: 'reviewing' },
        'paused',
        'completed',
        'failed',
        'cancelled',
      ]
        .map((value) => JSON.stringify(value))
        .sort(),
    );
    expect(paths.length).toBeGreaterThan(100);
  });

  it('keeps one lifecycle tag, a valid context and a lossless persisted snapshot in every reachable state', () => {
    const problems: string[] = [];
    for (const { state } of paths) {
      const where = describeState(state);
      const lifecycleTags = LIFECYCLE_STATES.filter((tag) => state.hasTag(tag));
      if (lifecycleTags.length !== 1) problems.push(`${where}: lifecycle tags ${lifecycleTags}`);

      const parsed = SupervisorContext.safeParse(state.context);
      if (!parsed.success) problems.push(`${where}: context invalid: ${parsed.error.message}`);

      const persisted = referenceSupervisor.getPersistedSnapshot(state);
      const actor = createActor(referenceSupervisor, { snapshot: persisted, input }).start();
      const first = actor.getPersistedSnapshot();
      actor.stop();
      const stored = JSON.parse(JSON.stringify(first)) as Snapshot<unknown>;
      const restored = createActor(referenceSupervisor, { snapshot: stored, input }).start();
      const second = restored.getPersistedSnapshot();
      restored.stop();
      expect(first, where).toEqual(persisted);
      expect(second, where).toEqual(first);
      expect(restored.getSnapshot().value, where).toEqual(state.value);
    }
    expect(problems).toEqual([]);
  });

  it('answers every next event the same way after a persist, discard and restore from JSON', () => {
    const problems: string[] = [];
    let compared = 0;
    for (const { state } of paths) {
      const stored = JSON.parse(
        JSON.stringify(referenceSupervisor.getPersistedSnapshot(state)),
      ) as Snapshot<unknown>;
      const restoredActor = createActor(referenceSupervisor, { snapshot: stored, input });
      const restored = restoredActor.getSnapshot() as State;
      if (serializeState(restored) !== serializeState(state)) {
        problems.push(`${describeState(state)}: restored snapshot differs`);
        continue;
      }
      for (const event of eventsFor(state)) {
        const expected = serializeState(
          getNextSnapshot(referenceSupervisor, state, event) as State,
        );
        const actual = serializeState(
          getNextSnapshot(referenceSupervisor, restored, event) as State,
        );
        compared++;
        if (actual !== expected) problems.push(`${describeState(state)} + ${event.type}: differs`);
      }
    }
    expect(problems).toEqual([]);
    expect(compared).toBeGreaterThan(paths.length);
  });

  it('waits for a person exactly when a question is pending, and takes an allowed answer to each', () => {
    const problems: string[] = [];
    for (const { state } of paths) {
      const where = describeState(state);
      const lifecycle = lifecycleOf(state);
      const pending = state.context.pendingQuestions;
      if (lifecycle === 'waiting_for_user' && pending.length === 0) {
        problems.push(`${where}: waits for a person but asks nothing`);
      }
      if (pending.length > 0 && lifecycle !== 'waiting_for_user' && lifecycle !== 'paused') {
        problems.push(`${where}: questions pending in lifecycle ${lifecycle}`);
      }
      if (lifecycle !== 'waiting_for_user') continue;
      for (const question of pending) {
        const takes = allowedValues(state, question.id).some((value) =>
          state.can(answerEvent(question.id, value)),
        );
        if (!takes) problems.push(`${where}: no allowed answer to ${question.id} is taken`);
      }
    }
    expect(problems).toEqual([]);
  });
});
