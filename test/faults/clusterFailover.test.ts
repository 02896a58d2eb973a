// Two `steward serve --cluster` processes on one PostgreSQL: the second takes half of the
// slices from the first (given back cleanly), a call to the node that does not own a
// supervisor is forwarded to its owner and applied once, and when the first is SIGKILLed the second restores
// every supervisor it owned as a failover, with its questions pending, within the lease TTL
// plus the restore.
import { expect, it } from 'vitest';
import { sliceOf } from '../../src/model/slices.ts';
import { openPgDatabase } from '../../src/persistence/pgDatabase.ts';
import { answer, clusterNode, slicesHeld, TTL_MS } from '../helpers/clusterNodes.ts';
import { describePostgresOnly } from '../helpers/engines.ts';
import { crashTestData, type FaultRuntime, killRuntime } from '../helpers/faultRuntime.ts';

const SUPERVISORS = 40;

/** The slices `node` holds, read from its lease rows. */
async function slicesOf(url: string, node: FaultRuntime): Promise<{ rows: Set<number> }> {
  const nodeId = ((await node.api('/healthz')).body.node as { nodeId: string }).nodeId;
  const db = await openPgDatabase({ connectionString: url, max: 1 });
  try {
    const { rows } = await db.query<{ slice: number }>(
      'SELECT slice FROM slice_leases WHERE node_id = $1 AND expires_at > now()',
      [nodeId],
    );
    return { rows: new Set(rows.map((row) => row.slice)) };
  } finally {
    await db.close();
  }
}

describePostgresOnly('several nodes', (engine) => {
  it('shares the slices, forwards calls to the owner, and fails over on SIGKILL', {
    timeout: 120_000,
  }, async () => {
    const { databaseUrl } = await crashTestData(engine);
    const url = databaseUrl as string;
    const first = await clusterNode(url);
    const ids: string[] = [];
    for (let i = 0; i < SUPERVISORS; i++) {
      const created = await first.api('/supervisors', { machineId: 'survey', input: { count: 4 } });
      expect(created.status).toBe(201);
      ids.push(created.body.id as string);
    }
    for (const id of ids) expect((await answer(first, id, 'q0', 1)).status).toBe(200);

    // The second node joins: within a few lease periods it holds a share, given back by
    // the first after flushing.
    const second = await clusterNode(url);
    // Slices move a few per lease period until the share is even: checked once it is.
    await expect
      .poll(async () => [await slicesHeld(first), await slicesHeld(second)], {
        timeout: 30_000,
        interval: 250,
      })
      .toEqual([128, 128]);

    // Either node answers any supervisor: the one that does not own it forwards the answer
    // to the owner and acks after the owner's commit. Each is journaled once.
    for (const id of ids) expect((await answer(second, id, 'q1', 2)).status).toBe(200);
    for (const id of ids) expect((await answer(first, id, 'q2', 3)).status).toBe(200);
    const forwarded = await Promise.all(
      [first, second].map(async (node) => (await node.api('/healthz')).body.node),
    );
    for (const node of forwarded) {
      expect(node).toMatchObject({ callsForwarded: expect.any(Number) });
      expect((node as { callsForwarded: number }).callsForwarded).toBeGreaterThan(0);
      expect((node as { callsServed: number }).callsServed).toBeGreaterThan(0);
    }
    for (const id of ids) {
      const { body } = await second.api(`/supervisors/${id}`);
      const history = body.history as Array<{ kind: string; payload: { questionId?: string } }>;
      const answered = history.filter((e) => e.kind === 'question_answered');
      expect(answered.map((e) => e.payload.questionId).sort()).toEqual(['q0', 'q1', 'q2']);
    }
    const ownedBySecond: string[] = [];
    const { rows } = await slicesOf(url, second);
    for (const id of ids) if (rows.has(sliceOf(id))) ownedBySecond.push(id);
    expect(ownedBySecond.length).toBeGreaterThan(0);
    expect(ownedBySecond.length).toBeLessThan(ids.length);

    // SIGKILL the first: the second takes its slices once their leases expire and restores
    // its supervisors as a failover, each with q3 still pending.
    const killedAt = Date.now();
    await killRuntime(first);
    const orphans = ids.filter((id) => !ownedBySecond.includes(id));
    await expect
      .poll(
        async () => {
          const answered = await Promise.all(
            orphans.map(async (id) => (await answer(second, id, 'q3', 4)).status === 200),
          );
          return answered.every(Boolean);
        },
        { timeout: 30_000, interval: 250 },
      )
      .toBe(true);
    const failoverMs = Date.now() - killedAt;
    console.log(
      `failover of ${orphans.length} supervisors: ${failoverMs} ms (lease TTL ${TTL_MS} ms)`,
    );
    expect(new Set(orphans.map(sliceOf)).size).toBeGreaterThan(0);
    const health = await second.api('/healthz');
    expect(health.body.node).toMatchObject({ slicesHeld: 256 });
    expect((health.body.node as { slicesTaken: number }).slicesTaken).toBeGreaterThanOrEqual(256);
    for (const id of orphans) {
      const row = await second.api(`/supervisors/${id}`);
      expect((row.body.supervisor as { restorationSource: string }).restorationSource).toBe(
        'failover',
      );
    }
  });
});
