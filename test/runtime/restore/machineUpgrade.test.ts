// Snapshot upgrade alone: a stored snapshot brought to the newest registered machine
// version through the `migrateFrom` chain. No database, no actor host.

import { describe, expect, it } from 'vitest';
import { getInitialSnapshot, getNextSnapshot, setup } from 'xstate';
import { initialSupervisorContext } from '../../../src/machines/context.ts';
import { createMachineRegistry, type MachineDefinition } from '../../../src/machines/registry.ts';
import { upgradeSnapshot } from '../../../src/runtime/restore/machineUpgrade.ts';
import { shifterV1, shifterV2 } from '../../helpers/versionedMachines.ts';

/** Version 3 renames `running` to `moving`. */
const shifterV3: MachineDefinition = {
  id: 'shifter',
  version: 3,
  machine: setup({ types: { events: {} as { type: 'go' } | { type: 'stop' } } }).createMachine({
    id: 'shifter',
    context: () => initialSupervisorContext(),
    initial: 'idle',
    states: {
      idle: { tags: ['working'], on: { go: 'moving' } },
      moving: { tags: ['working'], on: { stop: 'idle' } },
    },
  }),
  migrateFrom: (snapshot) => ({
    ...snapshot,
    value: snapshot.value === 'running' ? 'moving' : snapshot.value,
  }),
};

function registryOf(...definitions: MachineDefinition[]) {
  const registry = createMachineRegistry();
  for (const definition of definitions) registry.register(definition);
  return registry;
}

/** A persisted snapshot of version 1, in `busy`. */
function busyV1(): Record<string, unknown> {
  const { machine } = shifterV1;
  const busy = getNextSnapshot(machine, getInitialSnapshot(machine), { type: 'go' });
  return machine.getPersistedSnapshot(busy) as Record<string, unknown>;
}

describe('upgradeSnapshot', () => {
  it('restores a snapshot as written when its version is the newest registered', () => {
    const snapshot = busyV1();
    expect(upgradeSnapshot(registryOf(shifterV1), 'shifter', 1, snapshot)).toEqual({
      definition: shifterV1,
      snapshot,
      migratedFrom: null,
    });
  });

  it('migrates a snapshot through every version of the chain, leaving the stored one as it was', () => {
    const snapshot = busyV1();
    const stored = structuredClone(snapshot);
    const upgraded = upgradeSnapshot(
      registryOf(shifterV1, shifterV2, shifterV3),
      'shifter',
      1,
      snapshot,
    );
    expect(upgraded).toMatchObject({
      definition: shifterV3,
      snapshot: { value: 'moving' },
      migratedFrom: 1,
    });
    expect(snapshot).toEqual(stored);
  });

  it('migrates a snapshot whose own version is no longer registered', () => {
    const upgraded = upgradeSnapshot(registryOf(shifterV2), 'shifter', 1, busyV1());
    expect(upgraded).toMatchObject({
      definition: shifterV2,
      snapshot: { value: 'running' },
      migratedFrom: 1,
    });
  });

  it('keeps its own version across a gap in the chain, and names the gap when that version is gone', () => {
    const snapshot = busyV1();
    expect(upgradeSnapshot(registryOf(shifterV1, shifterV3), 'shifter', 1, snapshot)).toEqual({
      definition: shifterV1,
      snapshot,
      migratedFrom: null,
    });
    expect(upgradeSnapshot(registryOf(shifterV3), 'shifter', 1, snapshot)).toEqual({
      code: 'migration_missing',
      message: 'machine shifter: no migration from version 1 to 2',
    });
  });

  it('names a migration that throws', () => {
    const broken: MachineDefinition = {
      ...shifterV2,
      migrateFrom: () => {
        throw new Error('no such field');
      },
    };
    expect(upgradeSnapshot(registryOf(shifterV1, broken), 'shifter', 1, busyV1())).toEqual({
      code: 'migration_failed',
      message: 'machine shifter: migration to version 2 threw: no such field',
    });
  });

  it('names a machine, or a version newer than the newest, that is not registered', () => {
    expect(upgradeSnapshot(registryOf(shifterV1), 'retired', 1, busyV1())).toEqual({
      code: 'machine_not_registered',
      message: 'machine retired is not registered',
    });
    expect(upgradeSnapshot(registryOf(shifterV1), 'shifter', 4, busyV1())).toEqual({
      code: 'machine_not_registered',
      message: 'machine shifter version 4 is not registered (newest: 1)',
    });
  });
});
