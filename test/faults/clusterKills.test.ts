// Three `steward serve --cluster` processes on one PostgreSQL, clients on all three, answers
// flowing: one node after another is SIGKILLed (20 times, each restarted as a new node).
// The others restore what it owned as a failover and ask its questions again to the clients
// subscribed on them; every acked answer is journaled, none twice.
import { expect, it } from 'vitest';
import { sliceOf } from '../../src/model/slices.ts';
import type { Database } from '../../src/persistence/database.ts';
import { openPgDatabase } from '../../src/persistence/pgDatabase.ts';
import type { ServerFrame } from '../../src/protocol/frames.ts';
import { type AnswerLog, answerUntilAcked, createAnswerLog } from '../helpers/answerLoop.ts';
import { clusterNode, TTL_MS } from '../helpers/clusterNodes.ts';
import { describePostgresOnly } from '../helpers/engines.ts';
import { crashTestData, type FaultRuntime, killRuntime, TOKENS } from '../helpers/faultRuntime.ts';
import { journalAgainstAcks } from '../helpers/journalChecks.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { openTestClient, type TestClient } from '../helpers/wsTestClient.ts';

const KILLS = 20;
const SUPERVISORS = 24;

/** A node and a client connected to it. */
interface Member {
  runtime: FaultRuntime;
  client: TestClient;
  nodeId: string;
}

async function member(url: string): Promise<Member> {
  const runtime = await clusterNode(url);
  const client = await openTestClient(runtime.wsUrl, { token: TOKENS.alice });
  const nodeId = ((await runtime.api('/healthz')).body.node as { nodeId: string }).nodeId;
  return { runtime, client, nodeId };
}

/**
 * Answers through `first`, and through the others when its node dies under it: a well-
 * behaved client that reconnects elsewhere, sending the same answer again.
 */
async function answerSomewhere(
  members: () => Member[],
  first: Member,
  log: AnswerLog,
  answer: { supervisorId: string; questionId: string; value: number },
) {
  let via = first;
  for (let attempt = 0; ; attempt++) {
    try {
      return await answerUntilAcked(via.client, log, answer, { replyTimeoutMs: 40_000 });
    } catch (error) {
      if (attempt > 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
      const alive = members().filter((m) => m.runtime.child.exitCode === null && m !== via);
      via = alive[attempt % alive.length] ?? via;
    }
  }
}

async function slicesOf(db: Database, nodeId: string): Promise<Set<number>> {
  const { rows } = await db.query<{ slice: number }>(
    'SELECT slice FROM slice_leases WHERE node_id = $1 AND expires_at > now()',
    [nodeId],
  );
  return new Set(rows.map((row) => row.slice));
}

describePostgresOnly('three nodes, killed in turn', (engine) => {
  it(`loses no acked answer and applies none twice over ${KILLS} SIGKILLs with restarts, asking each victim's questions again on the others`, {
    timeout: 600_000,
  }, async () => {
    const data = await crashTestData(engine);
    const url = data.databaseUrl as string;
    const members: Member[] = [await member(url)];
    const ids: string[] = [];
    for (let i = 0; i < SUPERVISORS; i++) {
      const created = await members[0]?.runtime.api('/supervisors', {
        machineId: 'survey',
        input: { count: KILLS + 1 },
      });
      expect(created?.status).toBe(201);
      ids.push(created?.body.id as string);
    }
    members.push(await member(url), await member(url));
    const db = await openPgDatabase({ connectionString: url, max: 2 });
    const log = createAnswerLog();
    const failovers: number[] = [];
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        const victim = members[kill % 3] as Member;
        const survivors = members.filter((m) => m !== victim);
        const watcher = survivors[kill % 2] as Member;
        const watching = await openTestClient(watcher.runtime.wsUrl, { token: TOKENS.alice });
        await watching.request({ type: 'subscribe', owner: 'alice' });
        const owned = await slicesOf(db, victim.nodeId);
        const orphans = ids.filter((id) => owned.has(sliceOf(id)));

        // Answers through all three nodes; the victim dies while they are on their way.
        const answers = ids.map((supervisorId, i) =>
          answerSomewhere(() => members, members[(i + kill) % 3] as Member, log, {
            supervisorId,
            questionId: `q${kill}`,
            value: kill,
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        const killedAt = Date.now();
        const seenBefore = watching.frames.length;
        await killRuntime(victim.runtime);
        // Restarted as a new node once the survivors took its slices (so that they, not
        // the newcomer, restore its supervisors), while its supervisors are being restored.
        const restarting = (async () => {
          await waitFor(
            'the survivors to take its slices',
            async () => {
              const { rows } = await db.query<{ slice: number }>(
                `SELECT slice FROM slice_leases WHERE slice = ANY($1::smallint[])
                   AND node_id = ANY($2::text[]) AND expires_at > now()`,
                [[...owned], survivors.map((m) => m.nodeId)],
              );
              return rows.length === owned.size;
            },
            { timeoutMs: TTL_MS * 5, intervalMs: 100 },
          );
          return member(url);
        })();
        await Promise.all(answers);

        // Each supervisor the victim owned is restored on a survivor as a failover, and the
        // client subscribed there is asked its question again.
        const after = (frame: ServerFrame) => watching.frames.indexOf(frame) >= seenBefore;
        for (const id of orphans) {
          await watching.waitFor(
            (frame) => frame.type === 'question.asked' && frame.supervisorId === id && after(frame),
            TTL_MS * 5,
          );
        }
        const failedOver = await db.query<{ id: string }>(
          `SELECT DISTINCT supervisor_id AS id FROM supervisor_events
            WHERE kind = 'restored' AND payload->>'source' = 'failover'
              AND created_at >= to_timestamp($1 / 1000.0) AND supervisor_id = ANY($2::uuid[])`,
          [killedAt - 1_000, orphans],
        );
        expect(failedOver.rows.length).toBe(orphans.length);
        failovers.push(Date.now() - killedAt);
        await watching.close();
        await victim.client.close().catch(() => {});
        members[members.indexOf(victim)] = await restarting;
      }

      const { lost, twice, wrongVersion } = await journalAgainstAcks(db, log.acked);
      console.log(
        `${KILLS} kills: ${log.acked.length} answers acked, lost ${lost.length}, twice ${twice.length}; failover (kill → questions asked again) ${Math.min(...failovers)}–${Math.max(...failovers)} ms at TTL ${TTL_MS} ms; refusals ${JSON.stringify([...log.refusals])}`,
      );
      expect(log.acked.length).toBeGreaterThanOrEqual(KILLS * SUPERVISORS);
      expect({ lost, twice, wrongVersion }).toEqual({ lost: [], twice: [], wrongVersion: [] });
      const { rows } = await db.query<{ count: string }>(
        `SELECT count(*) FROM supervisor_events
          WHERE kind = 'restored' AND payload->>'source' = 'failover'`,
      );
      expect(Number(rows[0]?.count)).toBeGreaterThan(0);
    } finally {
      await db.close();
      for (const m of members) await m.client.close().catch(() => {});
    }
  });
});
