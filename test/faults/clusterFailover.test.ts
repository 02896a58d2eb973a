// Two `steward serve --cluster` processes on one PostgreSQL: the second takes half of the
// slices from the first (given back cleanly), a call to the node that does not own a
// supervisor is refused without effect, and when the first is SIGKILLed the second restores
// every supervisor it owned as a failover, with its questions pending, within the lease TTL
// plus the restore.
import { expect, it } from 'vitest';
import { sliceOf } from '../../src/model/slices.ts';
import { answer, clusterNode, slicesHeld, TTL_MS } from '../helpers/clusterNodes.ts';
import { describePostgresOnly } from '../helpers/engines.ts';
import { crashTestData, killRuntime } from '../helpers/faultRuntime.ts';

const SUPERVISORS = 40;

describePostgresOnly('several nodes', (engine) => {
  it('shares the slices, refuses calls for the other node, and fails over on SIGKILL', {
    timeout: 120_000,
  }, async () => {
    const { databaseUrl } = await crashTestData(engine);
    const url = databaseUrl as string;
    const first = await clusterNode(url);
    const ids: string[] = [];
    for (let i = 0; i < SUPERVISORS; i++) {
      const created = await first.api('/supervisors', { machineId: 'survey', input: { count: 3 } });
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

    // Each supervisor is answered by exactly one node; the other refuses, changing nothing.
    const ownedBySecond: string[] = [];
    for (const id of ids) {
      const viaSecond = await answer(second, id, 'q1', 2);
      if (viaSecond.status === 200) {
        ownedBySecond.push(id);
        continue;
      }
      expect(viaSecond).toMatchObject({
        status: 503,
        body: { error: { code: 'ERR_SUPERVISOR_MOVED' } },
      });
      expect((await answer(first, id, 'q1', 2)).status).toBe(200);
    }
    expect(ownedBySecond.length).toBeGreaterThan(0);
    expect(ownedBySecond.length).toBeLessThan(ids.length);
    for (const id of ownedBySecond) {
      expect(await answer(first, id, 'q2', 3)).toMatchObject({
        status: 503,
        body: { error: { code: 'ERR_SUPERVISOR_MOVED' } },
      });
    }

    // SIGKILL the first: the second takes its slices once their leases expire and restores
    // its supervisors as a failover, each with q2 still pending.
    const killedAt = Date.now();
    await killRuntime(first);
    const orphans = ids.filter((id) => !ownedBySecond.includes(id));
    await expect
      .poll(
        async () => {
          const answered = await Promise.all(
            orphans.map(async (id) => (await answer(second, id, 'q2', 3)).status === 200),
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
