// Fencing in the group commit (several nodes): a row is written only if the node holds its
// slice under the epoch it sent, unexpired, checked in the commit statement itself.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SupervisorWrite } from '../../src/model/supervisor.ts';
import type { Database } from '../../src/persistence/database.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import { takeSlices } from '../../src/persistence/sliceLeases.ts';
import { getSupervisor } from '../../src/persistence/supervisorRepository.ts';
import {
  type CommitFence,
  saveSupervisorStateFull,
} from '../../src/persistence/supervisorStore.ts';
import { idInSlices } from '../../src/runtime/cluster/slices.ts';
import { describeEachEngine, describePostgresOnly } from '../helpers/engines.ts';
import { supervisorWrite } from '../helpers/fixtures.ts';

/** A write whose id falls in `slice`. */
function writeIn(slice: number, overrides: Partial<SupervisorWrite> = {}): SupervisorWrite {
  return { ...supervisorWrite(overrides), id: idInSlices([slice]) };
}

async function lease(
  db: Database,
  slice: number,
  node: string | null,
  epoch: number,
  ttlMs: number,
) {
  await db.query(
    `UPDATE slice_leases SET node_id = $2, epoch = $3,
       expires_at = now() + make_interval(secs => $4::double precision / 1000)
     WHERE slice = $1`,
    [slice, node, epoch, ttlMs],
  );
}

function commit(db: Database, writes: SupervisorWrite[], fence?: CommitFence) {
  return saveSupervisorStateFull(db, {
    states: writes,
    events: writes.map((w) => ({
      supervisorId: w.id,
      version: w.version,
      kind: 'phase_changed' as const,
      payload: {},
    })),
    checkpoints: [],
    ...(fence ? { fence } : {}),
  });
}

describeEachEngine('commit fence', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(() => db.close());

  it('writes without a fence, as a single node does', async () => {
    const write = writeIn(1);
    expect(await commit(db, [write])).toEqual({ saved: [write.id], stale: [], fenced: [] });
  });

  it('writes a row whose slice the node holds under the epoch it sent', async () => {
    await lease(db, 2, 'node-a', 7, 10_000);
    const write = writeIn(2);
    const fence = { nodeId: 'node-a', leases: [{ slice: 2, epoch: 7 }] };
    expect(await commit(db, [write], fence)).toEqual({ saved: [write.id], stale: [], fenced: [] });
    expect((await getSupervisor(db, write.id))?.version).toBe(1);
  });

  it('refuses, in the same statement, a stale epoch, another holder and an expired lease', async () => {
    await lease(db, 3, 'node-a', 8, 10_000); // taken again: epoch 8, not 7
    await lease(db, 4, 'node-b', 1, 10_000);
    await lease(db, 5, 'node-a', 1, -1_000); // expired a second ago
    const writes = [writeIn(3), writeIn(4), writeIn(5)];
    const fence = {
      nodeId: 'node-a',
      leases: [
        { slice: 3, epoch: 7 },
        { slice: 4, epoch: 1 },
        { slice: 5, epoch: 1 },
      ],
    };
    const result = await commit(db, writes, fence);
    expect(result.saved).toEqual([]);
    expect(result.stale).toEqual([]);
    expect(result.fenced.sort()).toEqual(writes.map((w) => w.id).sort());
    for (const write of writes) {
      expect(await getSupervisor(db, write.id)).toBeNull();
      expect(await listEvents(db, write.id)).toEqual([]);
    }
  });

  it('refuses an update of an existing row too, and writes the owned rows of a mixed batch', async () => {
    await lease(db, 6, 'node-a', 1, 10_000);
    await lease(db, 9, 'node-a', 1, 10_000);
    const first = writeIn(6);
    const owned = writeIn(9);
    expect(
      (await commit(db, [first], { nodeId: 'node-a', leases: [{ slice: 6, epoch: 1 }] })).saved,
    ).toEqual([first.id]);
    await lease(db, 6, 'node-b', 2, 10_000); // node-b took slice 6
    const next = { ...first, version: 2, phase: 'later' };
    const result = await commit(db, [next, { ...owned }], {
      nodeId: 'node-a',
      leases: [
        { slice: 6, epoch: 1 },
        { slice: 9, epoch: 1 },
      ],
    });
    expect(result).toEqual({ saved: [owned.id], stale: [], fenced: [first.id] });
    expect((await getSupervisor(db, first.id))?.version).toBe(1);
    expect((await listEvents(db, first.id)).map((e) => e.version)).toEqual([1]);
  });

  it('refuses a row whose slice is missing from the fence', async () => {
    await lease(db, 10, 'node-a', 1, 10_000);
    const write = writeIn(10);
    const result = await commit(db, [write], { nodeId: 'node-a', leases: [] });
    expect(result.fenced).toEqual([write.id]);
  });
});

describePostgresOnly('commit fence', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated({ max: 4 });
  });
  afterAll(() => db.close());

  it('keeps a take off the slice while a commit of it is under way, and refuses one after it', async () => {
    await lease(db, 20, 'node-a', 1, 300);
    const write = writeIn(20);
    const fence = { nodeId: 'node-a', leases: [{ slice: 20, epoch: 1 }] };
    let duringCommit: number[] = [];
    await db.transaction(async (tx) => {
      const result = await saveSupervisorStateFull(tx, {
        states: [write],
        events: [],
        checkpoints: [],
        fence,
      });
      expect(result.saved).toEqual([write.id]);
      // The lease expires while the commit is open: another node's take passes it over.
      await new Promise((resolve) => setTimeout(resolve, 400));
      duringCommit = (await takeSlices(db, 'node-b', 256, 10_000)).map((t) => t.slice);
    });
    expect(duringCommit).not.toContain(20);
    const after = await takeSlices(db, 'node-b', 256, 10_000);
    expect(after.find((t) => t.slice === 20)).toMatchObject({ previousNode: 'node-a', epoch: 2 });
    const late = await commit(db, [{ ...write, version: 2 }], fence);
    expect(late.fenced).toEqual([write.id]);
    expect((await getSupervisor(db, write.id))?.version).toBe(1);
  });
});
