import { randomUUID } from 'node:crypto';
import type { PendingQuestion, SupervisorWrite } from '../../src/model/supervisor.ts';
import type { Queryable } from '../../src/persistence/database.ts';
import {
  type CommitResult,
  saveSupervisorStateFull,
} from '../../src/persistence/supervisorStore.ts';

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

/** Stores rows as the runtime does (the full save), with no journal entries or checkpoints. */
export function saveRows(db: Queryable, ...writes: SupervisorWrite[]): Promise<CommitResult> {
  return saveSupervisorStateFull(db, { states: writes, events: [], checkpoints: [] });
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
