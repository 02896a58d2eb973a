import { expect, it } from 'vitest';
import { createMachineRegistry, type MachineDefinition } from '../../src/machines/registry.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { checkMigrations } from '../../src/runtime/restore/migrationCheck.ts';
import { createSupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { useHost } from '../helpers/host.ts';
import { shifterV1, shifterV2 } from '../helpers/versionedMachines.ts';

describeEachEngine('machine versions', (engine) => {
  const fixture = useHost(engine);

  function hostWith(...definitions: MachineDefinition[]) {
    const registry = createMachineRegistry();
    for (const definition of definitions) registry.register(definition);
    return {
      registry,
      host: createSupervisorHost({
        store: createSupervisorStore(fixture.db),
        registry,
        heartbeatIntervalMs: 0,
      }),
    };
  }

  async function storedBusyV1(): Promise<string> {
    const { host } = hostWith(shifterV1);
    const { id } = await host.spawn('shifter', undefined);
    await host.send(id, { type: 'go' });
    await host.stop();
    return id;
  }

  it('upgrades a snapshot of version 1 through the migration chain when version 2 is registered', async () => {
    const id = await storedBusyV1();
    const { host } = hostWith(shifterV1, shifterV2);
    const info = await host.restore(id, 'restart');
    expect(info.recovery).toBe('proceed');
    await expect.poll(async () => (await host.get(id)).machineVersion).toBe(2);
    expect(await host.get(id)).toMatchObject({ stateValue: 'running', version: 3 });
    const migrated = (await listEvents(fixture.db, id)).find((e) => e.kind === 'snapshot_migrated');
    expect(migrated?.payload).toEqual({ from: 1, to: 2 });
    await host.send(id, { type: 'stop' });
    expect((await host.get(id)).stateValue).toBe('idle');
    await host.stop();
  });

  it("falls back when the machine's own invariant rejects the stored state", async () => {
    const id = await storedBusyV1();
    const strict: MachineDefinition = {
      ...shifterV1,
      invariants: ({ value }) => (value === 'busy' ? ['busy may not be resumed'] : []),
    };
    const { host } = hostWith(strict);
    const info = await host.restore(id, 'restart');
    expect(info.violations).toContainEqual(
      expect.objectContaining({ code: 'invariant', message: 'busy may not be resumed' }),
    );
    // No checkpoint (the machine has no phases): it starts afresh, in `idle`.
    expect(info.recovery).toBe('start_fresh');
    await expect.poll(async () => (await host.get(id)).stateValue).toBe('idle');
    await host.stop();
  });

  it('reports in a dry run what restoring would do, per machine version, writing nothing', async () => {
    await fixture.db.query(`DELETE FROM supervisor_states WHERE machine_id = 'shifter'`);
    const busy = await storedBusyV1();
    const idle = await (async () => {
      const { host } = hostWith(shifterV1);
      const { id } = await host.spawn('shifter', undefined);
      await host.stop();
      return id;
    })();
    await fixture.db.query(
      `UPDATE supervisor_states SET snapshot = jsonb_set(snapshot, '{value}', '"gone"') WHERE id = $1`,
      [idle],
    );
    const before = await fixture.db.query('SELECT id, version FROM supervisor_states ORDER BY id');
    const { registry } = hostWith(shifterV1, shifterV2);
    const report = await checkMigrations(createSupervisorStore(fixture.db), registry);
    const shifter = report.find((r) => r.machineId === 'shifter');
    expect(shifter).toMatchObject({
      machineVersion: 1,
      supervisors: 2,
      migrate: 1,
      restore: 0,
      checkpoint: 0,
      fresh: 1,
      unrestorable: 0,
    });
    expect(shifter?.problems.join(' ')).toContain('gone');
    expect(busy).toBeTruthy();
    const after = await fixture.db.query('SELECT id, version FROM supervisor_states ORDER BY id');
    expect(after.rows).toEqual(before.rows);
  });

  it('starts afresh, saying why, when no migration leads to the registered version', async () => {
    const id = await storedBusyV1();
    const { migrateFrom: _none, ...withoutMigration } = shifterV2;
    const { host } = hostWith(withoutMigration);
    const info = await host.restore(id, 'restart').catch((e: unknown) => e);
    // No path from version 1: the stored state and its checkpoints do not validate, so it
    // starts afresh with the newest version and says why.
    expect(info).toMatchObject({ recovery: 'start_fresh' });
    expect((info as { violations: Array<{ code: string }> }).violations[0]?.code).toBe(
      'migration_missing',
    );
    await host.stop();
  });
});
