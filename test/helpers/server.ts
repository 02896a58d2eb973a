import { afterAll, beforeAll } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { createRetentionStore } from '../../src/persistence/retentionRepository.ts';
import { recordRuntimeStart } from '../../src/persistence/runtimeStarts.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { createSupervisorHost, type SupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { createTokenTable } from '../../src/server/auth.ts';
import { createServerMetrics, type ServerMetrics } from '../../src/server/metrics.ts';
import {
  type StewardServer,
  type StewardServerOptions,
  startServer,
} from '../../src/server/server.ts';
import type { TestEngine } from './engines.ts';
import { testRegistry } from './testMachines.ts';

/** The tokens of the server fixture: two owners, an admin, and alice holding role `ops`. */
export const TOKENS = {
  alice: 'alice-token-0123456789abcdef',
  bob: 'bob-token-0123456789abcdef',
  admin: 'admin-token-0123456789abcdef',
  aliceOps: 'alice-ops-token-0123456789',
} as const;

export interface ServerFixture {
  db: Database;
  host: SupervisorHost;
  server: StewardServer;
  metrics: ServerMetrics;
  /** `ws://…/ws` */
  wsUrl: string;
}

type ServerOptions = Partial<Omit<StewardServerOptions, 'host' | 'tokens' | 'metrics'>>;

/** A host and its server: what one `steward serve` process runs. */
export interface Stack {
  host: SupervisorHost;
  metrics: ServerMetrics;
  server: StewardServer;
}

/**
 * Starts a host with the test machines over `db` and a server with the fixture's tokens
 * (port 0: any free one). With `restore`, the host restores the stored supervisors before
 * the server listens, as a restarted process does.
 */
export async function startStack(
  db: Database,
  options: ServerOptions & { restore?: boolean } = {},
): Promise<Stack> {
  const { restore, ...serverOptions } = options;
  const metrics = createServerMetrics();
  const host = createSupervisorHost({
    store: createSupervisorStore(db),
    // The host runs the machines the server shows.
    registry: serverOptions.registry ?? testRegistry(),
    heartbeatIntervalMs: 0,
    writer: { onBatch: metrics.observeBatch },
  });
  metrics.attach(host);
  // Each stack is a process start, recorded before it restores, as `steward serve` does.
  const runtimeStarts = await recordRuntimeStart(db, new Date());
  if (restore) await host.restoreAll('restart');
  const server = await startServer({
    host,
    tokens: createTokenTable([
      { token: TOKENS.alice, owner: 'alice' },
      { token: TOKENS.bob, owner: 'bob' },
      { token: TOKENS.admin, admin: true },
      { token: TOKENS.aliceOps, owner: 'alice', roles: ['ops'] },
    ]),
    metrics,
    port: 0,
    hostname: '127.0.0.1',
    retention: createRetentionStore(db),
    runtimeStarts,
    ...serverOptions,
  });
  return { host, metrics, server };
}

/** Stops in the order a process shuts down: the server, then the host. */
export async function stopStack(stack: Stack): Promise<void> {
  await stack.server.close();
  await stack.host.stop();
}

/** A host and a listening server over a fresh migrated database for the describe block. */
export function useServer(engine: TestEngine, options: ServerOptions = {}): ServerFixture {
  const fixture = {} as ServerFixture;
  beforeAll(async () => {
    fixture.db = await engine.openMigrated();
    Object.assign(fixture, await startStack(fixture.db, options));
    fixture.wsUrl = `${fixture.server.url.replace(/^http/, 'ws')}/ws`;
  });
  afterAll(async () => {
    await stopStack(fixture);
    await fixture.db.close();
  });
  return fixture;
}
