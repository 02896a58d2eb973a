// A database outage under load: connections cut through a proxy the test controls.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isStewardError } from '../../src/errors.ts';
import type { Database } from '../../src/persistence/database.ts';
import { openPgDatabase } from '../../src/persistence/pgDatabase.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { describePostgresOnly } from '../helpers/engines.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.ts';
import { testRegistry } from '../helpers/testMachines.ts';

describePostgresOnly('a database outage', (engine) => {
  let direct: Database;
  let proxied: Database;
  let proxy: TcpProxy;

  beforeAll(async () => {
    direct = await engine.openMigrated();
    const url = new URL(process.env.DATABASE_URL as string);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.host = `127.0.0.1:${proxy.port}`;
    url.pathname = direct.location.slice(direct.location.lastIndexOf('/'));
    proxied = await openPgDatabase({ connectionString: url.toString(), max: 4 });
  });
  afterAll(async () => {
    await proxied.close();
    await proxy.close();
    await direct.close();
  });

  async function spawnDirect(count: number): Promise<string[]> {
    const setup = createSupervisorHost({
      store: createSupervisorStore(direct),
      registry: testRegistry(),
      heartbeatIntervalMs: 0,
    });
    const spawned = await Promise.all(
      Array.from({ length: count }, () => setup.spawn('survey', { count: 10 })),
    );
    await setup.stop();
    return spawned.map((s) => s.id);
  }

  it('loses no acknowledged answer and writes nothing out of order when connections are cut under load', async () => {
    // Created beforehand, outside the test's 300 ms commit timeout: a spawn has no retry
    // (a second one is another supervisor), and on a loaded machine 40 spawns through a
    // pool of 4 can take longer than that.
    const ids = await spawnDirect(40);
    const host = createSupervisorHost({
      store: createSupervisorStore(proxied),
      registry: testRegistry(),
      heartbeatIntervalMs: 0,
      commitTimeoutMs: 300,
      writer: { retryInitialMs: 20, retryMaxMs: 200 },
    });
    await host.restoreAll('restart');

    let notDurable = 0;
    const acked = new Map<string, number>();
    // A client that retries until it gets an ack, as the error message tells it to.
    async function answerUntilAcked(id: string, q: number): Promise<void> {
      for (;;) {
        try {
          const result = await host.answer(id, `q${q}`, q);
          acked.set(`${id}/q${q}`, result.version);
          return;
        } catch (error) {
          if (!isStewardError(error, 'ERR_COMMIT_IN_DOUBT')) throw error;
          expect(error.message).toContain('may still commit');
          notDurable++;
        }
      }
    }
    const load = Promise.all(
      ids.map(async (id) => {
        for (let q = 0; q < 10; q++) {
          await answerUntilAcked(id, q);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }),
    );
    for (let cut = 0; cut < 3; cut++) {
      await new Promise((resolve) => setTimeout(resolve, 60));
      proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 500));
      proxy.restore();
    }
    await load;
    const local = new Map(ids.map((id) => [id, host.local(id)]));
    await host.stop();

    expect(notDurable).toBeGreaterThan(0);
    expect(acked.size).toBe(400);
    const { rows: states } = await direct.query<{ id: string; version: string; snapshot: unknown }>(
      'SELECT id, version, snapshot FROM supervisor_states WHERE id = ANY ($1::uuid[])',
      [ids],
    );
    for (const row of states) {
      expect(Number(row.version)).toBe(local.get(row.id)?.version);
      expect(row.snapshot).toEqual(local.get(row.id)?.snapshot);
    }
    const { rows: answers } = await direct.query<{ key: string; version: string }>(
      `SELECT supervisor_id || '/' || (payload->>'questionId') AS key, version
       FROM supervisor_events WHERE kind = 'question_answered' AND supervisor_id = ANY ($1::uuid[])`,
      [ids],
    );
    expect(answers).toHaveLength(400);
    for (const answer of answers) {
      expect(acked.get(answer.key)).toBe(Number(answer.version));
    }
    // The journal is written in commit order: versions never go back per supervisor.
    const { rows: backwards } = await direct.query(
      `SELECT 1 FROM (
         SELECT version, lag(version) OVER (PARTITION BY supervisor_id ORDER BY id) AS before
         FROM supervisor_events WHERE supervisor_id = ANY ($1::uuid[])
       ) j WHERE version < before`,
      [ids],
    );
    expect(backwards).toEqual([]);
  });
});
