// A node frozen (SIGSTOP) for longer than its lease TTL while clients send it answers: the
// other node takes its slices and restores its supervisors; once thawed (SIGCONT) the
// frozen node writes nothing of its own that wins: an answer it acks was forwarded to the
// new owner and applied there once, and it rejoins.
import { expect, it } from 'vitest';
import { answer, clusterNode, slicesHeld, TTL_MS } from '../helpers/clusterNodes.ts';
import { describePostgresOnly } from '../helpers/engines.ts';
import { crashTestData, type FaultRuntime } from '../helpers/faultRuntime.ts';

const SUPERVISORS = 12;

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
  it('writes nothing that wins after its slices were taken, acks only what the new owner applied, then rejoins', {
    timeout: 120_000,
  }, async () => {
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
    // Sent on its idle keep-alive connections, which it may close as it thaws (its idle
    // timer is long overdue): a reset is no ack either.
    const sent = ids.map((id) =>
      answer(frozen, id, 'q1', 1).catch(() => ({ status: 0, body: { reset: true } })),
    );
    await expect.poll(() => slicesHeld(other), { timeout: 20_000, interval: 250 }).toBe(256);
    // Once the other node's restores have written what they write, the rows hold still.
    let before = await stored(other, ids);
    await expect
      .poll(
        async () => {
          const now = await stored(other, ids);
          const same = JSON.stringify(now) === JSON.stringify(before);
          before = now;
          return same;
        },
        { timeout: 20_000, interval: 1_000 },
      )
      .toBe(true);

    // Nothing the frozen node held was applied while it was frozen.
    expect(before.every((row) => row.q1 === 0)).toBe(true);
    frozen.child.kill('SIGCONT');
    const replies = await Promise.all(sent);
    // Thawed, it knows its leases ended: an answer it acks was forwarded to the new owner
    // and applied there, once; any other reply is an error (or a reset), with nothing
    // applied for that reply.
    await new Promise((resolve) => setTimeout(resolve, TTL_MS));
    const after = await stored(other, ids);
    replies.forEach((reply, i) => {
      if (reply.status === 200) expect(after[i]?.q1).toBe(1);
      else if (reply.status !== 0) expect(reply.status).toBeGreaterThanOrEqual(500);
      expect(after[i]?.q1).toBeLessThanOrEqual(1);
    });

    // It rejoins: within a few lease periods it holds a share again.
    await expect
      .poll(() => slicesHeld(frozen), { timeout: 30_000, interval: 250 })
      .toBeGreaterThan(0);
    // Every answer now lands once, through whichever node owns its supervisor (slices may
    // still be moving between them: a call during a move is refused and sent again).
    for (const id of ids) {
      await expect
        .poll(
          async () => {
            for (const via of [other, frozen]) {
              if ((await answer(via, id, 'q1', 1)).status === 200) return true;
            }
            return false;
          },
          { timeout: 20_000, interval: 100 },
        )
        .toBe(true);
    }
    const settled = await stored(other, ids);
    expect(settled.every((row) => row.q1 === 1)).toBe(true);
  });
});
