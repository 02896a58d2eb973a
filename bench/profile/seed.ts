// What explain and loop modes share: a database of their own and a host of seeded bench
// supervisors. Each creates steward_prof_<pid>, migrates it with migrate() and drops it at
// the end.
import { createMachineRegistry } from '../../src/machines/registry.ts';
import type { SupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { createSupervisorHost, type SupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { benchMachineDefinition } from '../benchMachine.ts';
import { createDatabase, dropDatabase, runPool } from '../support.ts';
import { log } from './config.ts';

export async function withOwnDatabase<T>(
  url: string,
  fn: (dbUrl: string) => Promise<T>,
): Promise<T> {
  const name = `steward_prof_${process.pid}`;
  const dbUrl = await createDatabase(url, name);
  console.log(`database ${name} created`);
  let dropped = false;
  const drop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    await dropDatabase(url, name);
    console.log(`database ${name} dropped`);
  };
  process.once('SIGINT', () => {
    drop().finally(() => process.exit(130));
  });
  try {
    return await fn(dbUrl);
  } finally {
    await drop();
  }
}

export interface BenchHost {
  host: SupervisorHost;
  /** The pending question of each supervisor, as the committed-changes stream told it. */
  pending: Map<string, string>;
}

export function startHost(store: SupervisorStore, maxConcurrentBatches?: number): BenchHost {
  const registry = createMachineRegistry();
  registry.register(benchMachineDefinition);
  const host = createSupervisorHost({
    store,
    registry,
    heartbeatIntervalMs: 0,
    // Held commits (explain mode) wait for as long as the EXPLAIN runs take.
    commitTimeoutMs: 600_000,
    log,
    ...(maxConcurrentBatches === undefined ? {} : { writer: { maxConcurrentBatches } }),
  });
  const pending = new Map<string, string>();
  host.subscribe((change) => {
    if (change.type === 'question.asked') pending.set(change.supervisorId, change.question.id);
  });
  return { host, pending };
}

export async function seed({ host }: BenchHost, count: number): Promise<string[]> {
  const ids: string[] = [];
  await runPool(count, 64, async () => {
    const { id } = await host.spawn('bench', undefined, { owner: 'bench' });
    ids.push(id);
  });
  return ids;
}
