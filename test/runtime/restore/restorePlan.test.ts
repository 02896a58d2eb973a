// The restart decision alone: what a restore starts from, given the stored row and its
// checkpoints. No database: the one read the decision makes (listCheckpoints) is answered
// from an array, newest first, as the repository answers it.

import { describe, expect, it } from 'vitest';
import { getInitialSnapshot, getNextSnapshot } from 'xstate';
import { createMachineRegistry, type MachineDefinition } from '../../../src/machines/registry.ts';
import type { SupervisorState } from '../../../src/model/supervisor.ts';
import type { Checkpoint } from '../../../src/model/task.ts';
import { plan } from '../../../src/runtime/restore/restorePlan.ts';
import { shifterV1, shifterV2 } from '../../helpers/versionedMachines.ts';

const ID = '00000000-0000-4000-8000-000000000003';

function registryOf(...definitions: MachineDefinition[]) {
  const registry = createMachineRegistry();
  for (const definition of definitions) registry.register(definition);
  return registry;
}

/** A persisted snapshot of shifter v1: `idle`, or `busy` after `go`. */
function snapshotV1(value: 'idle' | 'busy'): Record<string, unknown> {
  const { machine } = shifterV1;
  const idle = getInitialSnapshot(machine);
  const at = value === 'idle' ? idle : getNextSnapshot(machine, idle, { type: 'go' });
  return machine.getPersistedSnapshot(at) as Record<string, unknown>;
}

/** The same snapshot in a state the machine does not have. */
const removedState = () => ({ ...snapshotV1('busy'), value: 'nowhere' });

function storedRow(snapshot: unknown, overrides: Partial<SupervisorState> = {}): SupervisorState {
  const at = new Date('2025-01-01T00:00:00.000Z');
  return {
    id: ID,
    machineId: 'shifter',
    machineVersion: 1,
    owner: null,
    snapshot,
    input: null,
    xstateVersion: '5.33.3',
    timers: [{ id: 'stored-timer' }],
    version: 9,
    state: 'working',
    stateValue: 'busy',
    tags: [],
    stateEnteredAt: at,
    currentActivity: null,
    progress: 0,
    phase: null,
    errorMessage: null,
    spawnedTaskIds: [],
    pendingQuestions: [],
    restorationCount: 0,
    lastRestoredAt: null,
    restorationSource: null,
    lastHeartbeat: null,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

function checkpoint(version: number, snapshot: unknown): Checkpoint {
  return {
    supervisorId: ID,
    version,
    machineVersion: 1,
    phase: null,
    snapshot,
    timers: [{ id: `timer-of-${version}` }],
    createdAt: new Date('2025-01-01T00:00:00.000Z'),
  };
}

/** A store holding `checkpoints` (newest first) that records how it was asked. */
function storeWith(checkpoints: Checkpoint[]) {
  const asked: Array<{ supervisorId: string; limit: number | undefined }> = [];
  return {
    asked,
    async listCheckpoints(supervisorId: string, limit?: number) {
      asked.push({ supervisorId, limit });
      return checkpoints.filter((c) => c.supervisorId === supervisorId).slice(0, limit);
    },
  };
}

describe('plan', () => {
  const registry = registryOf(shifterV1);

  it('restores a stored state that validates as it is, with its timers, reading no checkpoint', async () => {
    const store = storeWith([checkpoint(3, snapshotV1('idle'))]);
    const chosen = await plan({ registry, store }, storedRow(snapshotV1('busy')));
    expect(chosen).toMatchObject({
      from: 'stored',
      definition: shifterV1,
      upgraded: { snapshot: { value: 'busy' }, migratedFrom: null },
      timers: [{ id: 'stored-timer' }],
    });
    expect(store.asked).toEqual([]);
  });

  it('walks back past an invalid newest checkpoint to the next older one that validates', async () => {
    const store = storeWith([
      checkpoint(8, removedState()),
      checkpoint(5, snapshotV1('busy')),
      checkpoint(2, snapshotV1('idle')),
    ]);
    const chosen = await plan({ registry, store }, storedRow(removedState()));
    expect(chosen.from).toBe('checkpoint');
    if (chosen.from !== 'checkpoint') return;
    expect(chosen.checkpoint.version).toBe(5);
    expect(chosen.upgraded.snapshot).toMatchObject({ value: 'busy' });
    // Why it fell back: the stored state's violations, not the skipped checkpoint's.
    expect(chosen.violations.map((v) => v.code)).toEqual(['state_missing']);
    expect(store.asked).toEqual([{ supervisorId: ID, limit: 20 }]);
  });

  it('starts afresh on the newest version when neither the stored state nor any checkpoint validates', async () => {
    const store = storeWith([checkpoint(8, removedState()), checkpoint(5, { no: 'value' })]);
    const both = registryOf(shifterV1, shifterV2);
    const chosen = await plan({ registry: both, store }, storedRow(removedState()));
    expect(chosen).toMatchObject({ from: 'fresh', definition: shifterV2 });
    if (chosen.from !== 'fresh') return;
    expect(chosen.violations.map((v) => v.code)).toEqual(['state_missing']);
  });

  it('restores an older version as stored once migrated, and falls back when no migration leads on', async () => {
    const both = registryOf(shifterV1, shifterV2);
    const migrated = await plan(
      { registry: both, store: storeWith([]) },
      storedRow(snapshotV1('busy')),
    );
    expect(migrated).toMatchObject({
      from: 'stored',
      definition: shifterV2,
      upgraded: { snapshot: { value: 'running' }, migratedFrom: 1 },
    });

    const unmigrated: MachineDefinition = { id: 'shifter', version: 3, machine: shifterV2.machine };
    const gap = registryOf(unmigrated);
    const fresh = await plan(
      { registry: gap, store: storeWith([]) },
      storedRow(snapshotV1('busy')),
    );
    expect(fresh).toMatchObject({ from: 'fresh', definition: unmigrated });
    if (fresh.from !== 'fresh') return;
    expect(fresh.violations.map((v) => v.code)).toEqual(['migration_missing']);
  });
});
