import { setup } from 'xstate';
import { initialSupervisorContext, type SupervisorContext } from '../../src/machines/context.ts';
import type { MachineDefinition } from '../../src/machines/registry.ts';

type Events = { type: 'go' } | { type: 'stop' };

/** Version 1: idle → busy. */
export const shifterV1: MachineDefinition = {
  id: 'shifter',
  version: 1,
  machine: setup({
    types: { context: {} as SupervisorContext, events: {} as Events },
  }).createMachine({
    id: 'shifter',
    context: () => initialSupervisorContext(),
    initial: 'idle',
    states: {
      idle: { tags: ['working'], on: { go: 'busy' } },
      busy: { tags: ['working'], on: { stop: 'idle' } },
    },
  }),
};

/** Version 2 renames `busy` to `running`; its migration renames it in stored snapshots. */
export const shifterV2: MachineDefinition = {
  id: 'shifter',
  version: 2,
  machine: setup({
    types: { context: {} as SupervisorContext, events: {} as Events },
  }).createMachine({
    id: 'shifter',
    context: () => initialSupervisorContext(),
    initial: 'idle',
    states: {
      idle: { tags: ['working'], on: { go: 'running' } },
      running: { tags: ['working'], on: { stop: 'idle' } },
    },
  }),
  migrateFrom: (snapshot) => ({
    ...snapshot,
    value: snapshot.value === 'busy' ? 'running' : snapshot.value,
  }),
};
