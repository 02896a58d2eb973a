import { expect, it } from 'vitest';
import { setup } from 'xstate';
import { initialSupervisorContext } from '../../src/machines/context.ts';
import { createMachineRegistry } from '../../src/machines/registry.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { waitFor } from '../helpers/waitFor.ts';

/** A child that moves on its own timers: only its own snapshot changes, not its parent's. */
const ticker = setup({}).createMachine({
  id: 'ticker',
  initial: 'one',
  states: { one: { after: { 40: 'two' } }, two: { after: { 40: 'three' } }, three: {} },
});

/** A parent that invokes the ticker and never reacts to it. */
const parent = setup({ actors: { ticker } }).createMachine({
  id: 'parent',
  context: initialSupervisorContext(),
  initial: 'watching',
  states: { watching: { tags: ['working'], invoke: { id: 'ticker', src: 'ticker' } } },
});

describeEachEngine('changes of a child alone', (engine) => {
  it('are persisted: an invoked machine moving on its own timers rewrites its supervisor', async () => {
    const db = await engine.openMigrated();
    const registry = createMachineRegistry();
    registry.register({ id: 'parent', version: 1, machine: parent });
    const store = createSupervisorStore(db);
    const host = createSupervisorHost({ store, registry, heartbeatIntervalMs: 0 });
    try {
      const { id } = await host.spawn('parent', {});
      const childState = async () => {
        const row = await store.getSupervisor(id);
        const snapshot = row?.snapshot as {
          children?: Record<string, { snapshot?: { value?: unknown } }>;
        };
        return { value: snapshot.children?.ticker?.snapshot?.value, version: row?.version ?? 0 };
      };
      await waitFor('the child to reach its last state in the row', async () => {
        return (await childState()).value === 'three';
      });
      // Spawned at version 1; each move of the child is a write of its own.
      expect((await childState()).version).toBeGreaterThanOrEqual(3);
    } finally {
      await host.stop();
      await db.close();
    }
  });
});
