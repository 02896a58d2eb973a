import { afterAll, beforeAll } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import {
  createSupervisorHost,
  type SupervisorHost,
  type SupervisorHostOptions,
} from '../../src/runtime/supervisorHost.ts';
import type { TestEngine } from './engines.ts';
import { testRegistry } from './testMachines.ts';

/** Another runtime on a database, as a restarted process would be: test machines, no heartbeat. */
export function testHost(
  db: Database,
  options: Partial<SupervisorHostOptions> = {},
): SupervisorHost {
  return createSupervisorHost({
    store: createSupervisorStore(db),
    registry: testRegistry(),
    heartbeatIntervalMs: 0,
    ...options,
  });
}

/**
 * Spawns a supervisor in a runtime of its own that then stops: it is stored, and in no
 * host's memory, as after a crash.
 */
export async function spawnStored(
  db: Database,
  machineId: string,
  input: unknown,
  options: { owner?: string } = {},
): Promise<string> {
  const other = testHost(db);
  const { id } = await other.spawn(machineId, input, options);
  await other.stop();
  return id;
}

/** A host over a fresh migrated database for the enclosing describe block. */
export interface HostFixture {
  db: Database;
  host: SupervisorHost;
}

/**
 * Opens a migrated database and a host with the test machines before the block's tests,
 * and stops and closes both after them. The heartbeat timer is off unless asked for.
 */
export function useHost(
  engine: TestEngine,
  options: Partial<SupervisorHostOptions> = {},
): HostFixture {
  const fixture = {} as HostFixture;
  beforeAll(async () => {
    fixture.db = await engine.openMigrated();
    fixture.host = testHost(fixture.db, options);
  });
  afterAll(async () => {
    await fixture.host.stop();
    await fixture.db.close();
  });
  return fixture;
}
