// Journal derivation alone: the entries, checkpoint and task rows between two views of a
// supervisor. No database, no actor: plain views in, journal out.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RESTART_POLICY, type SpawnedTask } from '../../../src/machines/tasks.ts';
import type { PendingQuestion } from '../../../src/model/supervisor.ts';
import { journalBetween, type SupervisorView } from '../../../src/runtime/live/capture.ts';

const ID = '00000000-0000-4000-8000-000000000002';
const TASK = '00000000-0000-4000-8000-0000000000aa';

function question(id: string): PendingQuestion {
  return {
    id,
    prompt: `${id}?`,
    answer: { kind: 'confirm' },
    audience: { kind: 'owner' },
    askedAt: '2025-01-01T00:00:00.000Z',
  };
}

function task(overrides: Partial<SpawnedTask> = {}): SpawnedTask {
  return {
    name: 'step',
    input: { step: 'a' },
    status: 'pending',
    attempt: 1,
    policy: DEFAULT_RESTART_POLICY,
    restarts: [],
    error: null,
    ...overrides,
  };
}

function view(overrides: Partial<SupervisorView> = {}): SupervisorView {
  return {
    state: 'working',
    stateValue: 'working',
    activity: null,
    progress: 0,
    phase: 'plan',
    questions: [],
    tasks: {},
    errorMessage: null,
    ...overrides,
  };
}

const none = new Set<string>();

/** The journal entries as [kind, payload], in order. */
const entries = (result: ReturnType<typeof journalBetween>) =>
  result.events.map((e) => [e.kind, e.payload]);

describe('journalBetween', () => {
  it('journals a first view as its questions asked and its first phase, which is a checkpoint', () => {
    const result = journalBetween(ID, 1, null, view({ questions: [question('q0')] }), none);
    expect(entries(result)).toEqual([
      ['question_asked', { questionId: 'q0', prompt: 'q0?' }],
      ['phase_changed', { from: null, to: 'plan' }],
    ]);
    expect(result.checkpoint).toBe(true);
    expect(result.events.every((e) => e.supervisorId === ID && e.version === 1)).toBe(true);
  });

  it('makes no checkpoint while the phase stays, nor for a supervisor without one', () => {
    expect(journalBetween(ID, 2, view(), view({ progress: 50 }), none)).toEqual({
      events: [],
      checkpoint: false,
      tasks: [],
    });
    expect(journalBetween(ID, 1, null, view({ phase: null }), none).checkpoint).toBe(false);
  });

  it('journals a phase change with where it came from', () => {
    const result = journalBetween(ID, 3, view(), view({ phase: 'execute' }), none);
    expect(entries(result)).toEqual([['phase_changed', { from: 'plan', to: 'execute' }]]);
    expect(result.checkpoint).toBe(true);
  });

  it('journals a removed question as withdrawn unless the answer removed it', () => {
    const before = view({ questions: [question('q0'), question('q1')] });
    const result = journalBetween(ID, 2, before, view(), new Set(['q0']));
    expect(entries(result)).toEqual([['question_withdrawn', { questionId: 'q1' }]]);
  });

  it('journals a question removed by the expiry the machine took as expired, with its deadline', () => {
    const deadline = '2025-01-02T00:00:00.000Z';
    const before = view({ questions: [{ ...question('q0'), deadline }, question('q1')] });
    const result = journalBetween(ID, 2, before, view(), none, new Set(['q0']));
    expect(entries(result)).toEqual([
      ['question_expired', { questionId: 'q0', deadline }],
      ['question_withdrawn', { questionId: 'q1' }],
    ]);
  });

  it('journals each step of a task and writes its row only when the task changed', () => {
    const pending = task();
    const spawned = journalBetween(ID, 2, view(), view({ tasks: { [TASK]: pending } }), none);
    expect(entries(spawned)).toEqual([
      ['task_spawned', { taskId: TASK, name: 'step', input: { step: 'a' } }],
    ]);
    expect(spawned.tasks).toEqual([
      expect.objectContaining({ id: TASK, supervisorId: ID, status: 'pending', attempt: 1 }),
    ]);

    // The same object: nothing changed, nothing written.
    const same = journalBetween(
      ID,
      3,
      view({ tasks: { [TASK]: pending } }),
      view({ tasks: { [TASK]: pending }, progress: 5 }),
      none,
    );
    expect(same.events).toEqual([]);
    expect(same.tasks).toEqual([]);

    const running = task({ status: 'running' });
    const started = journalBetween(
      ID,
      4,
      view({ tasks: { [TASK]: pending } }),
      view({ tasks: { [TASK]: running } }),
      none,
    );
    expect(entries(started)).toEqual([
      ['task_started', { taskId: TASK, name: 'step', status: 'running', attempt: 1 }],
    ]);

    const restarted = task({ status: 'running', attempt: 2, error: 'crashed' });
    expect(
      entries(
        journalBetween(
          ID,
          5,
          view({ tasks: { [TASK]: running } }),
          view({ tasks: { [TASK]: restarted } }),
          none,
        ),
      ),
    ).toEqual([['task_restarted', { taskId: TASK, name: 'step', attempt: 2, error: 'crashed' }]]);

    const succeeded = task({ status: 'succeeded', attempt: 2, result: 'ok' });
    const finished = journalBetween(
      ID,
      6,
      view({ tasks: { [TASK]: restarted } }),
      view({ tasks: { [TASK]: succeeded } }),
      none,
    );
    expect(entries(finished)).toEqual([
      ['task_finished', { taskId: TASK, name: 'step', status: 'succeeded', attempt: 2 }],
    ]);
    expect(finished.tasks).toEqual([
      expect.objectContaining({ id: TASK, status: 'succeeded', result: 'ok', attempt: 2 }),
    ]);
  });

  it('journals an error once, when the supervisor becomes failed', () => {
    const failed = view({ state: 'failed', errorMessage: 'boom' });
    expect(entries(journalBetween(ID, 2, view(), failed, none))).toEqual([
      ['error', { message: 'boom' }],
    ]);
    expect(journalBetween(ID, 3, failed, { ...failed }, none).events).toEqual([]);
  });
});
