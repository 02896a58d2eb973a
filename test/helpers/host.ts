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
    fixture.host = createSupervisorHost({
      store: createSupervisorStore(fixture.db),
      registry: testRegistry(),
      heartbeatIntervalMs: 0,
      ...options,
    });
  });
  afterAll(async () => {
    await fixture.host.stop();
    await fixture.db.close();
  });
  return fixture;
}
