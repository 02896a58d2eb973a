// A runtime in a child process for crash tests: hosts supervisors, answers their
// questions, and prints one line per acknowledged answer until it is killed.
import { openPgDatabase } from '../../src/persistence/pgDatabase.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { testRegistry } from './testMachines.ts';

const db = await openPgDatabase({ connectionString: process.env.DATABASE_URL as string });
const host = createSupervisorHost({
  store: createSupervisorStore(db),
  registry: testRegistry(),
  heartbeatIntervalMs: 0,
});
const count = Number(process.env.SUPERVISORS ?? 20);
const ids = (
  await Promise.all(Array.from({ length: count }, () => host.spawn('survey', { count: 10 })))
).map((s) => s.id);
process.stdout.write(`${JSON.stringify({ ready: ids })}\n`);

await Promise.all(
  ids.map(async (id) => {
    for (let q = 0; q < 10; q++) {
      const { version } = await host.answer(id, `q${q}`, q);
      process.stdout.write(`${JSON.stringify({ acked: { id, questionId: `q${q}`, version } })}\n`);
    }
  }),
);
process.stdout.write(`${JSON.stringify({ done: true })}\n`);
setInterval(() => {}, 1_000);
