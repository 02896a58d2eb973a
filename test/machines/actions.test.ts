import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, setup } from 'xstate';
import {
  acceptAnswer,
  acceptExpiry,
  askQuestion,
  fail,
  type QuestionSpec,
  reportActivity,
  setPhase,
  setProgress,
  spawnTasks,
  type TaskSpec,
  withdrawQuestions,
} from '../../src/machines/actions.ts';
import { initialSupervisorContext, SupervisorContext } from '../../src/machines/context.ts';
import { recordTaskEvent } from '../../src/machines/tasks.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NOW = '2026-03-04T05:06:07.089Z';

type TestEvent =
  | { type: 'ask'; spec: QuestionSpec }
  | { type: 'question.answered'; questionId: string; value: unknown }
  | { type: 'question.expired'; questionId: string; deadline: string }
  | { type: 'withdraw' }
  | { type: 'spawn'; specs: TaskSpec[] }
  | { type: 'task.completed'; taskId: string }
  | { type: 'task.failed'; taskId: string }
  | { type: 'progress'; value: number }
  | { type: 'phase'; phase: string }
  | { type: 'activity'; activity: string | null }
  | { type: 'fail'; message: string };

/** One state that applies each ready action to what the event carries. */
const workbench = setup({
  types: { context: {} as SupervisorContext, events: {} as TestEvent },
}).createMachine({
  id: 'workbench',
  context: initialSupervisorContext,
  initial: 'idle',
  states: {
    idle: {
      tags: ['working'],
      on: {
        ask: { actions: askQuestion(({ event }) => event.spec) },
        'question.answered': { actions: acceptAnswer() },
        'question.expired': { actions: acceptExpiry() },
        withdraw: { actions: withdrawQuestions() },
        spawn: { actions: spawnTasks(({ event }) => event.specs) },
        'task.completed': { actions: recordTaskEvent() },
        'task.failed': { actions: recordTaskEvent() },
        progress: { actions: setProgress(({ event }) => event.value) },
        phase: { actions: setPhase(({ event }) => event.phase) },
        activity: {
          actions: reportActivity(({ event }) => event.activity),
        },
        fail: { actions: fail(({ event }) => event.message) },
      },
    },
  },
});

/** The same actions with constant arguments, run on entry. */
const constants = setup({ types: { context: {} as SupervisorContext } }).createMachine({
  id: 'constants',
  context: initialSupervisorContext,
  initial: 'a',
  states: {
    a: {
      tags: ['working'],
      entry: [
        askQuestion({ id: 'approve', prompt: 'Approve?', answer: { kind: 'confirm' } }),
        spawnTasks([{ name: 'build' }]),
        setProgress(42.4),
        setPhase('build'),
        reportActivity('building'),
        fail('it broke'),
      ],
    },
  },
});

function start() {
  return createActor(workbench).start();
}

const confirm = (id: string, extra: Partial<QuestionSpec> = {}): QuestionSpec => ({
  id,
  prompt: `Question ${id}?`,
  answer: { kind: 'confirm' },
  ...extra,
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(NOW));
});

afterEach(() => {
  vi.useRealTimers();
});

describe('askQuestion', () => {
  it('adds a pending question with askedAt as ISO 8601 and the owner as default audience', () => {
    const actor = start();
    actor.send({ type: 'ask', spec: confirm('approve') });
    expect(actor.getSnapshot().context.pendingQuestions).toEqual([
      {
        id: 'approve',
        prompt: 'Question approve?',
        answer: { kind: 'confirm' },
        audience: { kind: 'owner' },
        askedAt: NOW,
      },
    ]);
    expect(SupervisorContext.safeParse(actor.getSnapshot().context).success).toBe(true);
  });

  it('keeps a given audience and deadline', () => {
    const actor = start();
    const deadline = '2026-03-05T00:00:00.000Z';
    actor.send({
      type: 'ask',
      spec: confirm('ops', { audience: { kind: 'role', role: 'ops' }, deadline }),
    });
    expect(actor.getSnapshot().context.pendingQuestions[0]).toMatchObject({
      audience: { kind: 'role', role: 'ops' },
      deadline,
    });
  });

  it('turns expiresInMs into a deadline that long after askedAt; a deadline given wins', () => {
    const actor = start();
    actor.send({ type: 'ask', spec: confirm('soon', { expiresInMs: 90_000 }) });
    const deadline = '2026-03-05T00:00:00.000Z';
    actor.send({ type: 'ask', spec: confirm('fixed', { expiresInMs: 90_000, deadline }) });
    const [soon, fixed] = actor.getSnapshot().context.pendingQuestions;
    expect(Date.parse(soon?.deadline as string) - Date.parse(NOW)).toBe(90_000);
    expect(soon).not.toHaveProperty('expiresInMs');
    expect(fixed?.deadline).toBe(deadline);
    expect(SupervisorContext.safeParse(actor.getSnapshot().context).success).toBe(true);
  });

  it('fails the machine, naming the question, for an expiresInMs that is not a number of ms', () => {
    const actor = createActor(workbench);
    actor.subscribe({ error: () => {} });
    actor.start();
    actor.send({ type: 'ask', spec: confirm('never', { expiresInMs: Number.NaN }) });
    expect(actor.getSnapshot().status).toBe('error');
    expect(String(actor.getSnapshot().error)).toContain(
      'askQuestion never: expiresInMs must be a number of ms, not NaN',
    );
  });

  it('does not add a question whose id is already pending, nor change the pending one', () => {
    const actor = start();
    actor.send({ type: 'ask', spec: confirm('approve') });
    vi.setSystemTime(new Date('2026-03-04T06:00:00.000Z'));
    actor.send({ type: 'ask', spec: confirm('approve', { prompt: 'Reworded?' }) });
    const pending = actor.getSnapshot().context.pendingQuestions;
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ prompt: 'Question approve?', askedAt: NOW });
  });

  it('takes a constant spec as well as a function of context and event', () => {
    const actor = createActor(constants).start();
    expect(actor.getSnapshot().context.pendingQuestions).toEqual([
      {
        id: 'approve',
        prompt: 'Approve?',
        answer: { kind: 'confirm' },
        audience: { kind: 'owner' },
        askedAt: NOW,
      },
    ]);
  });
});

describe('acceptAnswer', () => {
  it('removes exactly the answered question', () => {
    const actor = start();
    for (const id of ['a', 'b', 'c']) actor.send({ type: 'ask', spec: confirm(id) });
    actor.send({ type: 'question.answered', questionId: 'b', value: true });
    expect(actor.getSnapshot().context.pendingQuestions.map((q) => q.id)).toEqual(['a', 'c']);
    actor.send({ type: 'question.answered', questionId: 'nope', value: true });
    expect(actor.getSnapshot().context.pendingQuestions.map((q) => q.id)).toEqual(['a', 'c']);
  });
});

describe('acceptExpiry', () => {
  it('removes exactly the question whose deadline passed', () => {
    const actor = start();
    for (const id of ['a', 'b']) actor.send({ type: 'ask', spec: confirm(id) });
    actor.send({ type: 'question.expired', questionId: 'a', deadline: NOW });
    expect(actor.getSnapshot().context.pendingQuestions.map((q) => q.id)).toEqual(['b']);
  });
});

describe('withdrawQuestions', () => {
  it('empties the pending questions', () => {
    const actor = start();
    for (const id of ['a', 'b']) actor.send({ type: 'ask', spec: confirm(id) });
    actor.send({ type: 'withdraw' });
    expect(actor.getSnapshot().context.pendingQuestions).toEqual([]);
  });
});

describe('spawnTasks', () => {
  it("records new UUIDs in spawnedTaskIds and each task as 'pending', in order", () => {
    const actor = start();
    actor.send({
      type: 'spawn',
      specs: [{ name: 'fetch', input: { url: 'u' } }, { name: 'parse' }],
    });
    actor.send({ type: 'spawn', specs: [{ name: 'store', input: 3 }] });
    const { spawnedTaskIds, tasks } = actor.getSnapshot().context;
    expect(spawnedTaskIds).toHaveLength(3);
    for (const id of spawnedTaskIds) expect(id).toMatch(UUID);
    expect(new Set(spawnedTaskIds).size).toBe(3);
    expect(Object.keys(tasks)).toEqual(spawnedTaskIds);
    const fresh = { status: 'pending', attempt: 1, restarts: [], error: null };
    expect(spawnedTaskIds.map((id) => tasks[id])).toMatchObject([
      { name: 'fetch', input: { url: 'u' }, ...fresh },
      { name: 'parse', input: null, ...fresh },
      { name: 'store', input: 3, ...fresh },
    ]);
    expect(tasks[spawnedTaskIds[0] as string]?.policy).toEqual({
      restart: 'temporary',
      intensity: 3,
      periodMs: 60_000,
    });
    expect(SupervisorContext.safeParse(actor.getSnapshot().context).success).toBe(true);
  });

  it('takes a constant list of specs', () => {
    const { spawnedTaskIds, tasks } = createActor(constants).start().getSnapshot().context;
    expect(spawnedTaskIds).toHaveLength(1);
    expect(tasks[spawnedTaskIds[0] as string]).toMatchObject({
      name: 'build',
      input: null,
      status: 'pending',
    });
  });
});

describe('recordTaskEvent', () => {
  it("marks a completed task 'succeeded' and a failed one 'failed'", () => {
    const actor = start();
    actor.send({ type: 'spawn', specs: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] });
    const [a, b, c] = actor.getSnapshot().context.spawnedTaskIds as [string, string, string];
    actor.send({ type: 'task.completed', taskId: a });
    actor.send({ type: 'task.failed', taskId: b });
    const { tasks } = actor.getSnapshot().context;
    expect(tasks[a]?.status).toBe('succeeded');
    expect(tasks[b]?.status).toBe('failed');
    expect(tasks[c]?.status).toBe('pending');
  });

  it('ignores an outcome for a task the supervisor did not spawn', () => {
    const actor = start();
    actor.send({ type: 'spawn', specs: [{ name: 'a' }] });
    const before = actor.getSnapshot().context;
    actor.send({ type: 'task.completed', taskId: globalThis.crypto.randomUUID() });
    actor.send({ type: 'task.failed', taskId: 'not-a-uuid' });
    expect(actor.getSnapshot().context).toEqual(before);
    expect(Object.keys(actor.getSnapshot().context.tasks)).toHaveLength(1);
  });
});

describe('setProgress', () => {
  it('rounds and clamps to 0–100', () => {
    const actor = start();
    const progressAfter = (value: number) => {
      actor.send({ type: 'progress', value });
      return actor.getSnapshot().context.progress;
    };
    expect(progressAfter(42.4)).toBe(42);
    expect(progressAfter(42.5)).toBe(43);
    expect(progressAfter(150)).toBe(100);
    expect(progressAfter(-3)).toBe(0);
    expect(progressAfter(99.7)).toBe(100);
    expect(progressAfter(Number.NaN)).toBe(0);
    expect(progressAfter(Number.POSITIVE_INFINITY)).toBe(0);
  });

  it('takes a constant', () => {
    expect(createActor(constants).start().getSnapshot().context.progress).toBe(42);
  });
});

describe('setPhase, reportActivity and fail', () => {
  it('set phase, activity and error from the event', () => {
    const actor = start();
    actor.send({ type: 'phase', phase: 'deploy' });
    actor.send({ type: 'activity', activity: 'deploying' });
    actor.send({ type: 'fail', message: 'disk full' });
    expect(actor.getSnapshot().context).toMatchObject({
      phase: 'deploy',
      activity: 'deploying',
      error: { message: 'disk full' },
    });
    actor.send({ type: 'activity', activity: null });
    expect(actor.getSnapshot().context.activity).toBeNull();
  });

  it('take constants', () => {
    expect(createActor(constants).start().getSnapshot().context).toMatchObject({
      phase: 'build',
      activity: 'building',
      error: { message: 'it broke' },
    });
  });
});
