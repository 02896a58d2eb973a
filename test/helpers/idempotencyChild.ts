// The runtime server in a child process for the idempotency crash test: the test machines
// over DATABASE_URL (PostgreSQL) or DATA_DIR (PGlite, migrated here), serving alice's token
// on any free port until it is killed.
import { migrate } from '../../src/persistence/migrator.ts';
import { openDatabase } from '../../src/persistence/openDatabase.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { createTokenTable } from '../../src/server/auth.ts';
import { createServerMetrics } from '../../src/server/metrics.ts';
import { startServer } from '../../src/server/server.ts';
import { TOKENS } from './server.ts';
import { testRegistry } from './testMachines.ts';

const db = await openDatabase({
  databaseUrl: process.env.DATABASE_URL,
  dataDir: process.env.DATA_DIR ?? 'memory',
});
await migrate(db);
const host = createSupervisorHost({
  store: createSupervisorStore(db),
  registry: testRegistry(),
  heartbeatIntervalMs: 0,
});
await host.restoreAll('restart');
const server = await startServer({
  host,
  tokens: createTokenTable([{ token: TOKENS.alice, owner: 'alice' }]),
  metrics: createServerMetrics(),
  port: 0,
  hostname: '127.0.0.1',
});
process.stdout.write(`${JSON.stringify({ ready: { port: server.port } })}\n`);
