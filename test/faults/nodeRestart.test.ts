// A node's session is its presence: when a node's process dies, PostgreSQL ends its session
// and frees its node lock, and the other nodes (or the node started in its place) take its
// slices at once instead of waiting for its leases to run out. Shown with a lease TTL of
// 30 s: a restart and a failover both serve well inside it.
import { expect, it } from 'vitest';
import { sliceOf } from '../../src/model/slices.ts';
import { answer, slicesHeld } from '../helpers/clusterNodes.ts';
import { describePostgresOnly } from '../helpers/engines.ts';
import {
  crashTestData,
  type FaultRuntime,
  killRuntime,
  startFaultRuntime,
} from '../helpers/faultRuntime.ts';

const TTL_MS = 30_000;
/** Well inside the TTL: what a node found gone by its lock costs, at most. */
const BOUND_MS = 10_000;

const node = (url: string) =>
  startFaultRuntime({
    databaseUrl: url,
    args: ['--lease-ttl', String(TTL_MS), '--restore', 'eager'],
    env: { LOG_LEVEL: 'info' },
  });

async function surveys(runtime: FaultRuntime, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const created = await runtime.api('/supervisors', { machineId: 'survey', input: { count: 3 } });
    expect(created.status).toBe(201);
    ids.push(created.body.id as string);
  }
  return ids;
}

/** Answers `questionId` of every supervisor through `runtime`, retrying until each is acked. */
async function answerAll(runtime: FaultRuntime, ids: string[], questionId: string) {
  await expect
    .poll(
      async () => {
        const statuses = await Promise.all(ids.map((id) => answer(runtime, id, questionId, 1)));
        return statuses.every((s) => s.status === 200);
      },
      { timeout: TTL_MS + 10_000, interval: 200 },
    )
    .toBe(true);
}

async function restorationSources(runtime: FaultRuntime, ids: string[]): Promise<Set<string>> {
  const sources = await Promise.all(
    ids.map(async (id) => {
      const { body } = await runtime.api(`/supervisors/${id}`);
      return (body.supervisor as { restorationSource: string }).restorationSource;
    }),
  );
  return new Set(sources);
}

describePostgresOnly('a node whose process died', (engine) => {
  it(`is replaced by the node started after it, serving within ${BOUND_MS / 1000} s at a lease TTL of ${TTL_MS / 1000} s`, {
    timeout: 90_000,
  }, async () => {
    const { databaseUrl } = await crashTestData(engine);
    const url = databaseUrl as string;
    const first = await node(url);
    const ids = await surveys(first, 10);
    await answerAll(first, ids, 'q0');
    await killRuntime(first);

    const startedAt = Date.now();
    const next = await node(url);
    await answerAll(next, ids, 'q1');
    const servedMs = Date.now() - startedAt;
    console.log(
      `restart at TTL ${TTL_MS} ms: every supervisor answered ${servedMs} ms after the start`,
    );
    expect(servedMs).toBeLessThan(BOUND_MS);
    expect(await slicesHeld(next)).toBe(256);
    expect(await restorationSources(next, ids)).toEqual(new Set(['restart']));
  });

  it(`fails over to the other nodes within ${BOUND_MS / 1000} s at a lease TTL of ${TTL_MS / 1000} s`, {
    timeout: 120_000,
  }, async () => {
    const { databaseUrl } = await crashTestData(engine);
    const url = databaseUrl as string;
    const first = await node(url);
    const second = await node(url);
    // Slices move a few per lease period (10 s here): a share on each side is enough.
    await expect
      .poll(async () => (await slicesHeld(second)) > 0, { timeout: 30_000, interval: 250 })
      .toBe(true);
    const ids = await surveys(first, 20);
    const health = (await first.api('/healthz')).body.node as { nodeId: string };
    expect(health.nodeId).toEqual(expect.any(String));
    await answerAll(second, ids, 'q0');

    const killedAt = Date.now();
    await killRuntime(first);
    await answerAll(second, ids, 'q1');
    const failoverMs = Date.now() - killedAt;
    console.log(
      `failover at TTL ${TTL_MS} ms: every supervisor answered ${failoverMs} ms after the kill`,
    );
    expect(failoverMs).toBeLessThan(BOUND_MS);
    expect(await slicesHeld(second)).toBe(256);
    // The first node's own supervisors (new ids go to slices it holds) come back as a failover.
    expect(new Set(ids.map(sliceOf)).size).toBeGreaterThan(0);
    expect(await restorationSources(second, ids)).toEqual(new Set(['failover']));
  });
});
