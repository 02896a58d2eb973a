// The change diff alone: what the outside world is told between two committed writes of a
// supervisor. No database, no actor: plain rows in, changes out.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PendingQuestion, SupervisorWrite } from '../../../src/model/supervisor.ts';
import { changesOf, viewOf } from '../../../src/runtime/commit/committedChanges.ts';
import type { CommittedWrite } from '../../../src/runtime/commit/snapshotWriter.ts';

const ID = '00000000-0000-4000-8000-000000000001';

function question(id: string, deadline?: string): PendingQuestion {
  return {
    id,
    prompt: `${id}?`,
    answer: { kind: 'confirm' },
    audience: { kind: 'owner' },
    askedAt: '2025-01-01T00:00:00.000Z',
    ...(deadline ? { deadline } : {}),
  };
}

function write(overrides: Partial<SupervisorWrite> = {}): SupervisorWrite {
  return {
    id: ID,
    machineId: 'survey',
    machineVersion: 1,
    owner: 'olga',
    snapshot: {},
    input: null,
    xstateVersion: '5.33.3',
    timers: [],
    version: 1,
    state: 'waiting_for_user',
    stateValue: 'asking',
    tags: [],
    currentActivity: 'asking',
    progress: 10,
    phase: 'ask',
    errorMessage: null,
    spawnedTaskIds: [],
    pendingQuestions: [],
    ...overrides,
  };
}

function committed(after: SupervisorWrite, answered: string[] = []): CommittedWrite {
  return {
    write: after,
    events: answered.map((questionId) => ({
      supervisorId: ID,
      version: after.version,
      kind: 'question_answered',
      payload: { questionId, value: true },
    })),
    tasks: [],
  };
}

describe('changesOf', () => {
  it('tells a first commit as its questions asked and its status, at its version', () => {
    const first = write({ pendingQuestions: [question('q0'), question('q1')] });
    expect(changesOf(null, committed(first))).toEqual([
      {
        type: 'question.asked',
        supervisorId: ID,
        version: 1,
        owner: 'olga',
        question: question('q0'),
      },
      {
        type: 'question.asked',
        supervisorId: ID,
        version: 1,
        owner: 'olga',
        question: question('q1'),
      },
      {
        type: 'status.changed',
        supervisorId: ID,
        version: 1,
        owner: 'olga',
        state: 'waiting_for_user',
        previousState: null,
        stateValue: 'asking',
        activity: 'asking',
        progress: 10,
        phase: 'ask',
      },
    ]);
  });

  it('tells nothing when only the version moved (a question still pending is not asked again)', () => {
    const before = viewOf(write({ pendingQuestions: [question('q0')] }));
    const after = write({ version: 2, pendingQuestions: [question('q0')] });
    expect(changesOf(before, committed(after))).toEqual([]);
  });

  it('resolves a removed question as answered when its answer was committed with it, else withdrawn or expired', () => {
    const past = '2000-01-01T00:00:00.000Z';
    const before = viewOf(
      write({ pendingQuestions: [question('q0'), question('q1'), question('q2', past)] }),
    );
    const after = write({ version: 2, pendingQuestions: [] });
    const resolved = changesOf(before, committed(after, ['q0'])).filter(
      (c) => c.type === 'question.resolved',
    );
    expect(resolved.map((c) => [c.questionId, c.resolution, c.version])).toEqual([
      ['q0', 'answered', 2],
      ['q1', 'withdrawn', 2],
      ['q2', 'expired', 2],
    ]);
  });

  describe('the resolution of a removed question that has a deadline', () => {
    const deadline = '2025-06-01T12:00:00.000Z';
    const resolutionAt = (now: string, answered: string[] = []) => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date(now));
      const before = viewOf(write({ pendingQuestions: [question('q0', deadline)] }));
      const [change, ...rest] = changesOf(before, committed(write({ version: 2 }), answered));
      expect(rest).toEqual([]);
      return change?.type === 'question.resolved' ? change.resolution : change;
    };
    afterEach(() => {
      vi.useRealTimers();
    });

    it('is withdrawn while its deadline is still ahead, even by a millisecond', () => {
      expect(resolutionAt('2025-05-01T00:00:00.000Z')).toBe('withdrawn');
      expect(resolutionAt('2025-06-01T11:59:59.999Z')).toBe('withdrawn');
    });

    it('is expired from its deadline on, the deadline itself included', () => {
      expect(resolutionAt(deadline)).toBe('expired');
      expect(resolutionAt('2025-06-02T00:00:00.000Z')).toBe('expired');
    });

    it('is answered, not expired, when its answer was committed with it after the deadline', () => {
      expect(resolutionAt('2025-06-02T00:00:00.000Z', ['q0'])).toBe('answered');
    });

    it('is expired when its expiry was committed with it, whatever the clock says now', () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      // The wall clock stepped back (NTP) between the expiry and its commit.
      vi.setSystemTime(new Date('2025-05-01T00:00:00.000Z'));
      const before = viewOf(write({ pendingQuestions: [question('q0', deadline)] }));
      const expiry: CommittedWrite = {
        write: write({ version: 2 }),
        events: [
          {
            supervisorId: ID,
            version: 2,
            kind: 'question_expired',
            payload: { questionId: 'q0', deadline },
          },
        ],
        tasks: [],
      };
      const [change] = changesOf(before, expiry);
      expect(change).toMatchObject({ type: 'question.resolved', resolution: 'expired' });
    });
  });

  it('tells each status field that changed, with the state it left', () => {
    const before = viewOf(write());
    for (const change of [
      { state: 'working' },
      { stateValue: 'answered' },
      { currentActivity: 'thinking' },
      { progress: 50 },
      { phase: 'review' },
    ] as const) {
      const changes = changesOf(before, committed(write({ version: 2, ...change })));
      expect(changes, JSON.stringify(change)).toEqual([
        expect.objectContaining({ type: 'status.changed', previousState: 'waiting_for_user' }),
      ]);
    }
  });

  it('tells a supervisor finished once, when it reaches a terminal state, with its error', () => {
    const failed = write({ version: 2, state: 'failed', errorMessage: 'boom' });
    expect(changesOf(viewOf(write()), committed(failed))).toContainEqual({
      type: 'supervisor.finished',
      supervisorId: ID,
      version: 2,
      owner: 'olga',
      state: 'failed',
      error: 'boom',
    });
    const again = write({ version: 3, state: 'failed', errorMessage: 'boom' });
    expect(changesOf(viewOf(failed), committed(again))).toEqual([]);
  });

  it('tells no second finish for a terminal supervisor committed again, even with its status changed', () => {
    for (const state of ['completed', 'failed', 'cancelled'] as const) {
      const first = write({ version: 2, state });
      const again = write({ version: 3, state, progress: 100, currentActivity: 'done' });
      expect(
        changesOf(viewOf(first), committed(again)).map((c) => c.type),
        state,
      ).toEqual(['status.changed']);
    }
  });
});
