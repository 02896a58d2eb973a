// A runtime in a child process for the restart-cycle crash test: restores what is stored
// (spawning SUPERVISORS on the first run; with RESTORE=lazy, a lazy restart that leaves the
// waiting supervisors in their rows until an answer touches them), reports every question
// it sees asked and every answer acknowledged, and answers questions until it is killed.
import { benchMachineDefinition } from '../../bench/benchMachine.ts';
import { createMachineRegistry } from '../../src/machines/registry.ts';
import { openPgDatabase } from '../../src/persistence/pgDatabase.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../../src/runtime/supervisorHost.ts';

const db = await openPgDatabase({ connectionString: process.env.DATABASE_URL as string });
const registry = createMachineRegistry();
registry.register(benchMachineDefinition);
const host = createSupervisorHost({
  store: createSupervisorStore(db),
  registry,
  heartbeatIntervalMs: 0,
  lazyRestore: process.env.RESTORE === 'lazy',
});
const say = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);

const pending = new Map<string, string>();
host.subscribe((change) => {
  if (change.type !== 'question.asked') return;
  pending.set(change.supervisorId, change.question.id);
  say({ asked: { id: change.supervisorId, questionId: change.question.id } });
});
const { restored, deferred } = await host.restoreAll('restart');
const create = Number(process.env.SUPERVISORS ?? 0);
for (let i = 0; i < create; i++) await host.spawn('bench', undefined);
say({ ready: { restored, deferred } });

// 20 answerers, each taking the next supervisor with a known pending question.
const busy = new Set<string>();
await Promise.all(
  Array.from({ length: 20 }, async () => {
    for (;;) {
      const next = [...pending].find(([id]) => !busy.has(id));
      if (!next) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      const [id, questionId] = next;
      busy.add(id);
      pending.delete(id);
      const { version, duplicate } = await host.answer(id, questionId, true);
      say({ acked: { id, questionId, version, duplicate } });
      busy.delete(id);
    }
  }),
);
