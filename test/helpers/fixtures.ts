import { randomUUID } from 'node:crypto';
import type { PendingQuestion, SupervisorWrite } from '../../src/model/supervisor.ts';

/** A supervisor write with plausible values; override what the test is about. */
export function supervisorWrite(overrides: Partial<SupervisorWrite> = {}): SupervisorWrite {
  return {
    id: randomUUID(),
    machineId: 'reference',
    machineVersion: 1,
    owner: 'alice',
    snapshot: { status: 'active', value: 'planning', context: {}, children: {} },
    input: null,
    xstateVersion: '5.33.3',
    timers: [],
    version: 1,
    state: 'working',
    stateValue: 'planning',
    tags: [],
    currentActivity: 'planning',
    progress: 10,
    phase: 'plan',
    errorMessage: null,
    spawnedTaskIds: [],
    pendingQuestions: [],
    ...overrides,
  };
}

/** A pending yes/no question for the owner. */
export function question(id: string, overrides: Partial<PendingQuestion> = {}): PendingQuestion {
  return {
    id,
    prompt: `Approve step ${id}?`,
    answer: { kind: 'confirm' },
    audience: { kind: 'owner' },
    askedAt: new Date('2026-01-01T00:00:00.000Z').toISOString(),
    ...overrides,
  };
}
