// The runtime server in a child process for the SIGKILL test: restores what is stored
// (spawning SUPERVISORS bench supervisors of owner `alice` on the first run), then serves
// on PORT until it is killed; with PASSIVATE_AFTER_MS, idle supervisors leave memory.
import { benchMachineDefinition } from '../../bench/benchMachine.ts';
import { createMachineRegistry } from '../../src/machines/registry.ts';
import { openPgDatabase } from '../../src/persistence/pgDatabase.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { createTokenTable } from '../../src/server/auth.ts';
import { createServerMetrics } from '../../src/server/metrics.ts';
import { startServer } from '../../src/server/server.ts';
import { TOKENS } from './server.ts';

const db = await openPgDatabase({ connectionString: process.env.DATABASE_URL as string });
const registry = createMachineRegistry();
registry.register(benchMachineDefinition);
const metrics = createServerMetrics();
const host = createSupervisorHost({
  store: createSupervisorStore(db),
  registry,
  heartbeatIntervalMs: 0,
  passivateAfterMs: Number(process.env.PASSIVATE_AFTER_MS ?? 0),
});
const { restored } = await host.restoreAll('restart');
const create = Number(process.env.SUPERVISORS ?? 0);
for (let i = 0; i < create; i++) await host.spawn('bench', undefined, { owner: 'alice' });
const server = await startServer({
  host,
  tokens: createTokenTable([{ token: TOKENS.alice, owner: 'alice' }]),
  metrics,
  port: Number(process.env.PORT),
  hostname: '127.0.0.1',
});
process.stdout.write(`${JSON.stringify({ ready: { restored, port: server.port } })}\n`);
