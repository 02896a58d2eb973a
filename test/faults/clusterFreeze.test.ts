// A node frozen (SIGSTOP) for longer than its lease TTL while clients send it answers: the
// other node takes its slices and restores its supervisors; once thawed (SIGCONT) the
// frozen node acks none of those answers and writes nothing that wins, and it rejoins.
import { expect, it } from 'vitest';
import { answer, clusterNode, TTL_MS } from '../helpers/clusterNodes.ts';
import { describePostgresOnly } from '../helpers/engines.ts';
import { crashTestData, type FaultRuntime } from '../helpers/faultRuntime.ts';

const SUPERVISORS = 12;

async function slicesHeld(runtime: FaultRuntime): Promise<number> {
  const health = await runtime.api('/healthz');
  return (health.body.node as { slicesHeld: number } | undefined)?.slicesHeld ?? 0;
}

/** Each supervisor's stored version and how many times q1 was answered, read through `via`. */
async function stored(via: FaultRuntime, ids: string[]) {
  return Promise.all(
    ids.map(async (id) => {
      const { body } = await via.api(`/supervisors/${id}`);
      const history = body.history as Array<{ kind: string; payload: { questionId?: string } }>;
      return {
        version: (body.supervisor as { version: number }).version,
        q1: history.filter((e) => e.kind === 'question_answered' && e.payload.questionId === 'q1')
          .length,
      };
    }),
  );
}

describePostgresOnly('a frozen node', (engine) => {
  it('acks nothing and writes nothing that wins after its slices were taken, then rejoins', async () => {
    const { databaseUrl } = await crashTestData(engine);
    const url = databaseUrl as string;
    const frozen = await clusterNode(url);
    const ids: string[] = [];
    for (let i = 0; i < SUPERVISORS; i++) {
      const created = await frozen.api('/supervisors', {
        machineId: 'survey',
        input: { count: 5 },
      });
      expect(created.status).toBe(201);
      ids.push(created.body.id as string);
    }
    const other = await clusterNode(url);

    frozen.child.kill('SIGSTOP');
    // Sent while it is frozen: they wait in its sockets.
    const sent = ids.map((id) => answer(frozen, id, 'q1', 1));
    await expect.poll(() => slicesHeld(other), { timeout: 20_000, interval: 250 }).toBe(256);
    const before = await stored(other, ids);

    frozen.child.kill('SIGCONT');
    const replies = await Promise.all(sent);
    for (const reply of replies) {
      expect(reply.status).not.toBe(200);
      expect(reply).toMatchObject({
        status: 503,
        body: { error: { code: 'ERR_SUPERVISOR_MOVED' } },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, TTL_MS));
    expect(await stored(other, ids)).toEqual(before);
    expect(before.every((row) => row.q1 === 0)).toBe(true);

    // It rejoins: within a few lease periods it holds a share again.
    await expect
      .poll(() => slicesHeld(frozen), { timeout: 30_000, interval: 250 })
      .toBeGreaterThan(0);
    // Every answer now lands once, through whichever node owns its supervisor.
    for (const id of ids) {
      const viaOther = await answer(other, id, 'q1', 1);
      if (viaOther.status !== 200) expect((await answer(frozen, id, 'q1', 1)).status).toBe(200);
    }
    const after = await stored(other, ids);
    expect(after.every((row) => row.q1 === 1)).toBe(true);
  });
});
