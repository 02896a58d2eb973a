// Throwaway probe (not committed): heap by constructor, before and after N idle supervisors.
import { writeHeapSnapshot } from 'node:v8';
import { createLogger } from '../src/logger.ts';
import { createMachineRegistry } from '../src/machines/registry.ts';
import { openPgDatabase } from '../src/persistence/pgDatabase.ts';
import { createSupervisorStore } from '../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../src/runtime/supervisorHost.ts';
import { benchMachineDefinition } from './benchMachine.ts';

const db = await openPgDatabase({ connectionString: process.env.URL as string, max: 8, log: createLogger({ level: 'warn' }) });
const registry = createMachineRegistry();
registry.register(benchMachineDefinition);
const host = createSupervisorHost({ store: createSupervisorStore(db), registry, heartbeatIntervalMs: 0, log: createLogger({ level: 'warn' }) });
const spawn = async (n: number) => { for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: 50 }, () => host.spawn(benchMachineDefinition.id, undefined))); };
await spawn(200);
const gc = (globalThis as { gc: () => void }).gc;
gc(); gc();
writeHeapSnapshot('/tmp/heap/before.heapsnapshot');
await spawn(2000);
gc(); gc();
writeHeapSnapshot('/tmp/heap/after.heapsnapshot');
console.log('done', host.size());
process.exit(0);
