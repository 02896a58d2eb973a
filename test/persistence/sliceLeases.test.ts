import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { SLICE_COUNT, sliceOf } from '../../src/model/slices.ts';
import type { Database } from '../../src/persistence/database.ts';
import {
  createSliceLeaseStore,
  leaseFenceSql,
  type SliceLeaseStore,
  sliceOfIdSql,
} from '../../src/persistence/sliceLeases.ts';
import { describeEachEngine, describePostgresOnly } from '../helpers/engines.ts';
import {
  freeAll,
  insertSupervisor,
  openAnotherPool,
  uuidV7,
  waitExpired,
} from '../helpers/leases.ts';
import { waitFor } from '../helpers/waitFor.ts';

describeEachEngine('slice leases', (engine) => {
  let db: Database;
  let store: SliceLeaseStore;
  beforeAll(async () => {
    db = await engine.openMigrated();
    store = createSliceLeaseStore(db);
  });
  afterAll(() => db.close());
  afterEach(async () => {
    await freeAll(db);
    await db.query('DELETE FROM runtime_nodes');
    await db.query('DELETE FROM supervisor_states');
  });

  it('derives the slice of a supervisor in the database as sliceOf does, and spreads UUIDv7 ids', async () => {
    const now = Date.now();
    const ids = [
      ...Array.from({ length: 200 }, () => randomUUID()),
      ...Array.from({ length: 200 }, (_, i) => uuidV7(now + i)),
    ];
    for (const id of ids) await insertSupervisor(db, id);
    const { rows } = await db.query<{ id: string; slice: number; computed: number }>(
      `SELECT id, slice, ${sliceOfIdSql('id')} AS computed FROM supervisor_states`,
    );
    expect(rows).toHaveLength(ids.length);
    for (const row of rows) {
      expect(row.slice, row.id).toBe(sliceOf(row.id));
      expect(row.computed, row.id).toBe(row.slice);
    }
    // 200 ids made within 200 ms share their first byte; XOR with the last spreads them.
    const v7Slices = new Set(ids.slice(200).map(sliceOf));
    expect(v7Slices.size).toBeGreaterThan(100);
    expect(Math.max(...rows.map((r) => r.slice))).toBeLessThan(SLICE_COUNT);
  });

  it('takes free slices lowest first, each under its epoch plus one, up to the number asked', async () => {
    const a = await store.takeSlices('a', 3, 10_000);
    expect(a.map((l) => l.slice)).toEqual([0, 1, 2]);
    const before = a[0]?.epoch ?? 0;
    for (const lease of a) {
      expect(lease).toMatchObject({ previousNode: null, wasExpired: false });
      expect(lease.validForMs).toBeGreaterThan(9_000);
      expect(lease.validForMs).toBeLessThanOrEqual(10_000);
    }
    const b = await store.takeSlices('b', 300, 10_000);
    expect(b.map((l) => l.slice)).toEqual(Array.from({ length: 253 }, (_, i) => i + 3));
    expect(await store.takeSlices('c', 10, 10_000)).toEqual([]);
    // Released and taken again: the epoch moves on, and a clean hand-off is no failover.
    await store.releaseSlices('a', a);
    const again = await store.takeSlices('c', 1, 10_000);
    expect(again).toEqual([
      expect.objectContaining({
        slice: 0,
        epoch: before + 1,
        previousNode: null,
        wasExpired: false,
      }),
    ]);
  });

  it('renews only the leases the node holds under the same epoch', async () => {
    const [first, second] = await store.takeSlices('a', 2, 10_000);
    if (!first || !second) throw new Error('nothing taken');
    const renewed = await store.renewLeases(
      'a',
      [first, { slice: second.slice, epoch: second.epoch - 1 }, { slice: 9, epoch: 0 }],
      60_000,
    );
    expect(renewed.map((l) => [l.slice, l.epoch])).toEqual([[first.slice, first.epoch]]);
    expect(renewed[0]?.validForMs).toBeGreaterThan(59_000);
    expect(renewed[0]?.expiresAt.getTime()).toBeGreaterThan(first.expiresAt.getTime());
    expect(await store.renewLeases('b', [first], 60_000)).toEqual([]);
  });

  it('lets another node take an expired lease, under a new epoch, as a failover; the old holder can renew or release it no more', async () => {
    const [held] = await store.takeSlices('a', 1, 50);
    if (!held) throw new Error('nothing taken');
    await waitExpired(db, 'a');
    // Expired but not yet taken: not renewed either, its holder must take it again.
    expect(await store.renewLeases('a', [held], 10_000)).toEqual([]);
    const [taken] = await store.takeSlices('b', 1, 10_000);
    expect(taken).toMatchObject({
      slice: held.slice,
      epoch: held.epoch + 1,
      previousNode: 'a',
      wasExpired: true,
    });
    expect(await store.renewLeases('a', [held], 10_000)).toEqual([]);
    expect(await store.releaseSlices('a', [held])).toEqual([]);
    const { rows } = await db.query('SELECT node_id FROM slice_leases WHERE slice = $1', [
      held.slice,
    ]);
    expect(rows).toEqual([{ node_id: 'b' }]);
  });

  it('releases only what the node still holds under the epoch it names', async () => {
    const [one, two] = await store.takeSlices('a', 2, 10_000);
    if (!one || !two) throw new Error('nothing taken');
    const released = await store.releaseSlices('a', [
      one,
      { slice: two.slice, epoch: two.epoch + 1 },
    ]);
    expect(released).toEqual([one.slice]);
    expect(await store.releaseSlices('b', [two])).toEqual([]);
  });

  it('counts alive nodes with the slices each holds, forgets long-dead ones, and brings back a forgotten one at its heartbeat', async () => {
    const liveness = { staleAfterMs: 10_000, forgetAfterMs: 60_000 };
    await store.registerNode('a', 'http://a');
    await store.registerNode('dead', null);
    await store.registerNode('forgotten', null);
    await db.query(
      `UPDATE runtime_nodes SET heartbeat_at = now() - CASE node_id
         WHEN 'dead' THEN interval '20 seconds' ELSE interval '2 minutes' END
       WHERE node_id <> 'a'`,
    );
    await store.takeSlices('a', 5, 10_000);
    const seen = await store.heartbeatNode('b', 'http://b', liveness);
    expect(seen.map((n) => [n.nodeId, n.address, n.slices])).toEqual([
      ['a', 'http://a', 5],
      ['b', 'http://b', 0],
    ]);
    const { rows } = await db.query<{ node_id: string }>(
      'SELECT node_id FROM runtime_nodes ORDER BY node_id',
    );
    expect(rows.map((r) => r.node_id)).toEqual(['a', 'b', 'dead']);
    expect((await store.aliveNodes(10_000)).map((n) => n.nodeId)).toEqual(['a', 'b']);
    await store.removeNode('b');
    expect((await store.aliveNodes(10_000)).map((n) => n.nodeId)).toEqual(['a']);
    await store.heartbeatNode('b', 'http://b', liveness);
    expect((await store.aliveNodes(10_000)).map((n) => n.nodeId)).toEqual(['a', 'b']);
  });

  it('fences a write: it lands only under the current epoch of an unexpired lease of its node', async () => {
    const id = randomUUID();
    await insertSupervisor(db, id);
    const fenced = (node: string, epoch: number) =>
      db.query(
        `UPDATE supervisor_states s SET phase = 'fenced'
         WHERE s.id = $3 AND ${leaseFenceSql({ slice: 's.slice', nodeId: '$1', epoch: '$2' })}`,
        [node, epoch, id],
      );
    await db.query('UPDATE slice_leases SET epoch = 7 WHERE slice = $1', [sliceOf(id)]);
    expect((await fenced('a', 8)).rowCount).toBe(0); // free: nobody may write
    const taken = (await store.takeSlices('a', SLICE_COUNT, 1_000)).find(
      (l) => l.slice === sliceOf(id),
    );
    expect(taken?.epoch).toBe(8);
    expect((await fenced('b', 8)).rowCount).toBe(0);
    expect((await fenced('a', 7)).rowCount).toBe(0);
    expect((await fenced('a', 8)).rowCount).toBe(1);
    // A row not written yet (a commit's incoming rows, each with its epoch): its slice from its id.
    const { rows: incoming } = await db.query<{ id: string }>(
      `SELECT r.id FROM jsonb_to_recordset($2::jsonb) AS r (id uuid, epoch bigint)
       WHERE ${leaseFenceSql({ slice: sliceOfIdSql('r.id'), nodeId: '$1', epoch: 'r.epoch' })}`,
      [
        'a',
        JSON.stringify([
          { id, epoch: 8 },
          { id, epoch: 7 },
        ]),
      ],
    );
    expect(incoming).toEqual([{ id }]);
    await waitExpired(db, 'a');
    expect((await fenced('a', 8)).rowCount).toBe(0);
  });
});

describePostgresOnly('slice leases taken at once by several nodes', (engine) => {
  let db: Database;
  let other: Database;
  beforeAll(async () => {
    db = await engine.openMigrated({ max: 6 });
    other = await openAnotherPool(db);
  });
  afterAll(async () => {
    await other.close();
    await db.close();
  });

  it('never gives one slice to two nodes, and each is told the epoch the database holds', async () => {
    const pools = [createSliceLeaseStore(db), createSliceLeaseStore(other)];
    for (let round = 0; round < 20; round++) {
      await freeAll(db);
      // Four takers at once, two on each pool, asking for more than there is.
      const results = await Promise.all(
        ['a', 'b', 'c', 'd'].map((node, i) => pools[i % 2]?.takeSlices(node, 100, 10_000) ?? []),
      );
      const slices = results.flat().map((l) => l.slice);
      expect(new Set(slices).size, `round ${round}`).toBe(slices.length);
      const { rows } = await db.query<{ slice: number; node_id: string; epoch: string }>(
        'SELECT slice, node_id, epoch FROM slice_leases WHERE node_id IS NOT NULL',
      );
      const stored = new Map(rows.map((r) => [r.slice, `${r.node_id}@${r.epoch}`]));
      const told = new Map(
        results.flatMap((leases, i) => leases.map((l) => [l.slice, `${'abcd'[i]}@${l.epoch}`])),
      );
      expect(told).toEqual(stored);
    }
  });

  it('lets no take land in the middle of a fenced write, nor the write after the take', async () => {
    const id = randomUUID();
    await insertSupervisor(db, id);
    await freeAll(db);
    const held = (await createSliceLeaseStore(db).takeSlices('a', SLICE_COUNT, 300)).find(
      (l) => l.slice === sliceOf(id),
    );
    if (!held) throw new Error('slice not taken');
    // Another write holds the supervisor's row: the fenced write reads the lease at once,
    // then waits for the row while the lease expires and another node tries to take it.
    let letGo = () => {};
    const gate = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    let rowLocked = () => {};
    const locked = new Promise<void>((resolve) => {
      rowLocked = resolve;
    });
    const holder = db.transaction(async (tx) => {
      await tx.query(`UPDATE supervisor_states SET phase = 'holder' WHERE id = $1`, [id]);
      rowLocked();
      await gate;
    });
    await locked;
    const write = db.query(
      `UPDATE supervisor_states s SET phase = 'fenced'
       WHERE s.id = $3 AND ${leaseFenceSql({ slice: 's.slice', nodeId: '$1', epoch: '$2' })}`,
      ['a', held.epoch, id],
    );
    await waitFor('the fenced write to wait for the row', async () => {
      const { rows } = await other.query(
        `SELECT 1 FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'
           AND query LIKE '%fenced%'`,
      );
      return rows.length > 0;
    });
    await waitExpired(other, 'a');
    const taken = await createSliceLeaseStore(other).takeSlices('b', SLICE_COUNT, 10_000);
    letGo();
    await holder;
    const written = (await write).rowCount;
    const takenToo = taken.some((l) => l.slice === held.slice);
    // Every other slice was free to take; this one was fenced by the write in flight.
    expect(taken).toHaveLength(SLICE_COUNT - 1);
    expect({ written, takenToo }).toEqual({ written: 1, takenToo: false });
    const [again] = await createSliceLeaseStore(other).takeSlices('b', 1, 10_000);
    expect(again).toMatchObject({ slice: held.slice, epoch: held.epoch + 1, wasExpired: true });
  });

  it('ends the leases of a node whose session is gone, not of one that holds its presence, and lets a node free its own', async () => {
    await freeAll(db);
    await db.query('DELETE FROM runtime_nodes');
    const store = createSliceLeaseStore(db);
    const lost: Error[] = [];
    // 'a' holds its presence on a connection of its own; 'b' is a node whose process died.
    const release = await db.claimRuntime((error) => lost.push(error), { nodeId: 'a' });
    if (!release) throw new Error('presence not claimed');
    try {
      for (const node of ['a', 'b']) {
        await store.registerNode(node, null);
        await store.takeSlices(node, 10, 60_000);
      }
      // A second claim of 'a' (another process with its id) is refused while it is held.
      expect(await other.claimRuntime(() => {}, { nodeId: 'a' })).toBeNull();
      expect(await createSliceLeaseStore(other).expireDeparted('c')).toEqual(['b']);
      const { rows } = await db.query<{ node_id: string; live: string }>(
        `SELECT node_id, count(*) FILTER (WHERE expires_at > now()) AS live
         FROM slice_leases WHERE node_id IS NOT NULL GROUP BY node_id ORDER BY node_id`,
      );
      expect(rows.map((r) => [r.node_id, Number(r.live)])).toEqual([
        ['a', 10],
        ['b', 0],
      ]);
      const nodes = await db.query<{ node_id: string }>('SELECT node_id FROM runtime_nodes');
      expect(nodes.rows.map((r) => r.node_id)).toEqual(['a']);
      // Its slices expired, 'b' takes none of them back unless it takes them anew.
      expect(await store.renewLeases('b', [], 60_000)).toEqual([]);
      expect(await store.expireLeasesOf('a')).toBe(10);
      // Lowest first: the 20 slices 'a' and 'b' held, each taken as a failover.
      const taken = await store.takeSlices('c', 20, 60_000);
      expect(taken.map((l) => l.previousNode).sort()).toEqual([
        ...Array(10).fill('a'),
        ...Array(10).fill('b'),
      ]);
    } finally {
      await release();
    }
    expect(lost).toEqual([]);
    // Released, 'a' is gone to the others too.
    expect(await store.expireDeparted('c')).toEqual(['a']);
  });
});
