// The lease keeper on the real database: several keepers (one per node; on PostgreSQL each
// with a pool of its own) share the 256 slices, hand them over, and lose them in time.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { SLICE_COUNT } from '../../../src/model/slices.ts';
import type { Database } from '../../../src/persistence/database.ts';
import { createSliceLeaseStore } from '../../../src/persistence/sliceLeases.ts';
import {
  LeaseKeeper,
  type LeaseKeeperOptions,
  type LeaseLossReason,
  type TakenLease,
} from '../../../src/runtime/cluster/leaseKeeper.ts';
import {
  describeEachEngine,
  describePostgresOnly,
  type TestEngine,
} from '../../helpers/engines.ts';
import { freeAll, openAnotherPool } from '../../helpers/leases.ts';
import { startTcpProxy } from '../../helpers/tcpProxy.ts';
import { waitFor } from '../../helpers/waitFor.ts';

/** Hooks that record what the keeper told, and check the database when it yields. */
class RecordingHooks {
  readonly taken: Array<TakenLease & { at: number }> = [];
  readonly lost: Array<{ slice: number; reason: LeaseLossReason; at: number }> = [];
  readonly yielded: number[] = [];
  /** Yielded slices the database no longer gave this node while `yielding` ran. */
  readonly releasedTooEarly: number[] = [];
  keeper: LeaseKeeper | undefined;

  constructor(
    private readonly db: Database,
    /** How long `yielding` takes, as a host flushing many writes would. */
    private readonly yieldingMs = 0,
  ) {}

  hooks(): LeaseKeeperOptions['hooks'] {
    return {
      taken: (leases) => {
        for (const lease of leases) this.taken.push({ ...lease, at: Date.now() });
      },
      yielding: async (slices) => {
        const { rows } = await this.db.query<{ slice: number }>(
          'SELECT slice FROM slice_leases WHERE node_id = $1 AND slice = ANY ($2::smallint[])',
          [this.keeper?.nodeId, slices],
        );
        const stillMine = new Set(rows.map((r) => r.slice));
        for (const slice of slices) {
          if (!stillMine.has(slice) || !this.keeper?.holds(slice))
            this.releasedTooEarly.push(slice);
        }
        this.yielded.push(...slices);
        await new Promise((resolve) => setTimeout(resolve, this.yieldingMs));
      },
      lost: (slices, reason) => {
        for (const slice of slices) this.lost.push({ slice, reason, at: Date.now() });
      },
    };
  }
}

interface Node {
  keeper: LeaseKeeper;
  record: RecordingHooks;
  db: Database;
}

const running: Node[] = [];
const pools: Database[] = [];

async function startNode(
  engine: TestEngine,
  db: Database,
  options: Partial<LeaseKeeperOptions> & { pool?: Database; yieldingMs?: number } = {},
): Promise<Node> {
  const { pool, yieldingMs, ...keeperOptions } = options;
  // PGlite is one connection: every node shares it. PostgreSQL: a pool per node.
  let nodeDb = pool ?? db;
  if (!pool && engine.name === 'postgres') {
    nodeDb = await openAnotherPool(db);
    pools.push(nodeDb);
  }
  const record = new RecordingHooks(db, yieldingMs);
  const keeper = new LeaseKeeper({
    store: createSliceLeaseStore(nodeDb),
    hooks: record.hooks(),
    ttlMs: 1_500,
    renewEveryMs: 150,
    givePerPeriod: 32,
    ...keeperOptions,
  });
  record.keeper = keeper;
  await keeper.start();
  const node = { keeper, record, db: nodeDb };
  running.push(node);
  return node;
}

/** How many slices each node holds, as the database says, by node id. */
async function storedShares(db: Database): Promise<Map<string, number[]>> {
  const { rows } = await db.query<{ node_id: string; slice: number }>(
    'SELECT node_id, slice FROM slice_leases WHERE node_id IS NOT NULL AND expires_at > now() ORDER BY slice',
  );
  const shares = new Map<string, number[]>();
  for (const row of rows) shares.set(row.node_id, [...(shares.get(row.node_id) ?? []), row.slice]);
  return shares;
}

const sizes = (nodes: Node[]) => nodes.map((n) => n.keeper.held().length).sort((a, b) => a - b);

async function stopAll(): Promise<void> {
  await Promise.all(running.splice(0).map((n) => n.keeper.stop()));
  await Promise.all(pools.splice(0).map((p) => p.close()));
}

describeEachEngine('lease keeper', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(() => db.close());
  afterEach(async () => {
    await stopAll();
    await freeAll(db);
    await db.query('DELETE FROM runtime_nodes');
  });

  it('splits the slices between nodes as they join, yielding each before releasing it, and hands a stopped node’s slices over under new epochs', async () => {
    const a = await startNode(engine, db);
    expect(a.keeper.held()).toHaveLength(SLICE_COUNT);
    const b = await startNode(engine, db);
    await waitFor('two nodes to hold 128 each', () => sizes([a, b]).join() === '128,128', {
      timeoutMs: 20_000,
    });
    const c = await startNode(engine, db);
    await waitFor('three nodes to hold 86, 86, 84', () => sizes([a, b, c]).join() === '84,86,86', {
      timeoutMs: 20_000,
    });
    // What each keeper holds is what the database says it holds, and no slice twice.
    const stored = await storedShares(db);
    for (const n of [a, b, c]) {
      expect(stored.get(n.keeper.nodeId)).toEqual(n.keeper.held().map((l) => l.slice));
    }
    // The highest slices went first, and only after the hook ran on slices still held.
    expect(a.record.yielded.length + b.record.yielded.length).toBe(128 + 84);
    expect(a.record.yielded[0]).toBe(255);
    expect([...a.record.releasedTooEarly, ...b.record.releasedTooEarly]).toEqual([]);
    expect(a.keeper.counters.slicesGivenBack).toBe(a.record.yielded.length);
    expect(c.keeper.counters.slicesTaken).toBe(c.keeper.held().length);

    const left = c.keeper.held();
    const takenBefore = [a.record.taken.length, b.record.taken.length];
    await c.keeper.stop();
    await c.keeper.stop(); // idempotent
    expect(c.record.yielded.slice(-left.length).sort((x, y) => x - y)).toEqual(
      left.map((l) => l.slice),
    );
    expect(
      (await db.query('SELECT 1 FROM runtime_nodes WHERE node_id = $1', [c.keeper.nodeId])).rows,
    ).toEqual([]);
    await waitFor('the two left to hold 128 each again', () => sizes([a, b]).join() === '128,128', {
      timeoutMs: 20_000,
    });
    const retaken = [
      ...a.record.taken.slice(takenBefore[0]),
      ...b.record.taken.slice(takenBefore[1]),
    ];
    expect(retaken).toHaveLength(left.length);
    for (const lease of left) {
      expect(retaken.find((t) => t.slice === lease.slice)).toMatchObject({
        epoch: lease.epoch + 1,
        previousNode: null,
        wasExpired: false,
      });
    }
    expect([a, b, c].reduce((n, x) => n + x.keeper.counters.leasesLost, 0)).toBe(0);
  });

  it('keeps renewing the slices it gives back while the host takes longer than a lease to yield them', async () => {
    const a = await startNode(engine, db, { ttlMs: 600, yieldingMs: 1_500, givePerPeriod: 128 });
    const b = await startNode(engine, db, { ttlMs: 600 });
    await waitFor('two nodes to hold 128 each', () => sizes([a, b]).join() === '128,128', {
      timeoutMs: 20_000,
    });
    expect(a.record.yielded).toHaveLength(128);
    expect(a.record.releasedTooEarly).toEqual([]);
    expect(a.keeper.counters.leasesLost).toBe(0);
    expect(a.keeper.counters.leasesRenewed).toBeGreaterThan(128 * 5);
  });

  it('loses a slice whose renewal the database refuses, at once, and takes it back under a new epoch', async () => {
    const a = await startNode(engine, db, { ttlMs: 3_000, renewEveryMs: 300 });
    const [first] = a.keeper.held();
    if (!first) throw new Error('nothing held');
    // Another node took it (as after an expiry this node did not notice): a new epoch.
    await db.query(
      `UPDATE slice_leases SET node_id = 'intruder', epoch = epoch + 1 WHERE slice = $1`,
      [first.slice],
    );
    await waitFor('the slice to be lost', () => !a.keeper.holds(first.slice));
    expect(a.record.lost).toEqual([
      { slice: first.slice, reason: 'refused', at: expect.any(Number) },
    ]);
    // Free again: the keeper takes it back under a newer epoch still.
    await db.query(`UPDATE slice_leases SET node_id = NULL, expires_at = NULL WHERE slice = $1`, [
      first.slice,
    ]);
    await waitFor('the slice to be taken back', () => a.keeper.holds(first.slice));
    expect(a.keeper.epochOf(first.slice)).toBe(first.epoch + 2);
    expect(a.keeper.counters).toMatchObject({ leasesLost: 1, slicesTaken: SLICE_COUNT + 1 });
  });

  it('stops by giving everything back and removing its node, once, even when never started', async () => {
    const a = await startNode(engine, db);
    await Promise.all([a.keeper.stop(), a.keeper.stop()]);
    expect(a.keeper.held()).toEqual([]);
    expect(await storedShares(db)).toEqual(new Map());
    expect((await db.query('SELECT 1 FROM runtime_nodes')).rows).toEqual([]);
    const unstarted = new LeaseKeeper({
      store: createSliceLeaseStore(db),
      hooks: new RecordingHooks(db).hooks(),
    });
    await unstarted.stop();
    expect(unstarted.held()).toEqual([]);
  });

  it('refuses a renewal period that would let a lease lapse between two renewals', () => {
    const make = (ttlMs: number, renewEveryMs: number) => () =>
      new LeaseKeeper({
        store: createSliceLeaseStore(db),
        hooks: new RecordingHooks(db).hooks(),
        ttlMs,
        renewEveryMs,
      });
    expect(make(1_000, 800)).toThrow(RangeError);
    expect(make(1_000, 0)).toThrow(RangeError);
    expect(make(1_000, 300)).not.toThrow();
  });
});

describePostgresOnly('lease keeper cut off from the database', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(() => db.close());
  afterEach(stopAll);

  // Cut: every call fails at once and no connection can be made. Silent: the connections
  // open stay open and nothing comes back, so a renewal hangs past the deadline (until the
  // pool's statement timeout); a new connection works again after that.
  it.each([
    { fault: 'cut', statementTimeoutMs: 500 },
    { fault: 'silent', statementTimeoutMs: 4_000 },
  ] as const)(
    'stops acting for its slices before their leases expire when its connection is $fault, lets another node take them as a failover, and rejoins when the database is back',
    async ({ fault, statementTimeoutMs }) => {
      const url = new URL(process.env.DATABASE_URL as string);
      const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
      const cutPool = await openAnotherPool(db, { port: proxy.port, statementTimeoutMs });
      pools.push(cutPool);
      try {
        const ttlMs = 1_000;
        const cut = await startNode(engine, db, { pool: cutPool, ttlMs, renewEveryMs: 250 });
        const other = await startNode(engine, db, { ttlMs, renewEveryMs: 250 });
        await waitFor(
          'two nodes to hold 128 each',
          () => sizes([cut, other]).join() === '128,128',
          {
            timeoutMs: 20_000,
          },
        );
        const before = cut.keeper.held();
        if (fault === 'cut') proxy.cut();
        else proxy.blackhole();
        await waitFor('the cut node to lose its slices', () => cut.keeper.held().length === 0, {
          timeoutMs: 5_000,
        });
        // Its leases as the database last renewed them: the cut node never renewed since.
        const { rows } = await db.query<{ first_expiry: Date }>(
          'SELECT min(expires_at) AS first_expiry FROM slice_leases WHERE node_id = $1',
          [cut.keeper.nodeId],
        );
        const firstExpiry = new Date(rows[0]?.first_expiry as Date).getTime();
        const lostAt = Math.max(...cut.record.lost.map((l) => l.at));
        expect(cut.record.lost.map((l) => l.reason)).toEqual(before.map(() => 'deadline'));
        expect(cut.record.lost.map((l) => l.slice).sort((x, y) => x - y)).toEqual(
          before.map((l) => l.slice),
        );
        expect(lostAt).toBeLessThan(firstExpiry);

        await waitFor(
          'the other node to take every slice',
          () => other.keeper.held().length === 256,
          {
            timeoutMs: 10_000,
          },
        );
        const failedOver = other.record.taken.filter((t) => t.wasExpired);
        expect(failedOver).toHaveLength(before.length);
        for (const lease of before) {
          const taken = failedOver.find((t) => t.slice === lease.slice);
          expect(taken).toMatchObject({ epoch: lease.epoch + 1, previousNode: cut.keeper.nodeId });
          expect(taken?.at).toBeGreaterThanOrEqual(firstExpiry);
        }
        expect(cut.keeper.counters.leasesLost).toBe(before.length);

        if (fault === 'cut') proxy.restore();
        await waitFor('the cut node to rejoin', () => sizes([cut, other]).join() === '128,128', {
          timeoutMs: 20_000,
        });
      } finally {
        await stopAll();
        await proxy.close();
      }
    },
  );
});
